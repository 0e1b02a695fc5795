using System.Diagnostics;

namespace MissionControl.LocalServers;

/// <summary>Waiting for a server to come up, and retrying when its port was lost to a race.</summary>
internal static class Startup
{
    public static async Task WaitUntilReadyAsync(
        LocalProcess process, string what, Func<CancellationToken, Task<bool>> probe, TimeSpan timeout, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            if (process.HasExited)
            {
                throw Failed(process, $"{what} exited with code {process.Exited.Result} before accepting connections");
            }
            if (await probe(ct))
            {
                return;
            }
            if (clock.Elapsed > timeout)
            {
                throw Failed(process, $"{what} did not accept connections within {timeout.TotalSeconds:0} s");
            }
            await Task.Delay(200, ct);
        }
    }

    public static LocalServerStartException Failed(LocalProcess process, string message)
    {
        var tail = process.TailLog(20);
        var lostPort = process.HasExited && tail.Any(line =>
            line.Contains("in use", StringComparison.OrdinalIgnoreCase) || line.Contains("eaddrinuse", StringComparison.OrdinalIgnoreCase));
        return new LocalServerStartException(
            $"{message}. Log: {process.LogPath}; last lines:{Environment.NewLine}  {string.Join(Environment.NewLine + "  ", tail)}",
            process.LogPath, lostPort);
    }

    /// <summary>Free ports are only free until someone binds them; when we picked the port, try twice more.</summary>
    public static async Task<T> WithPortRetryAsync<T>(LocalServerOptions options, string what, Func<Task<T>> start)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await start();
            }
            catch (LocalServerStartException e) when (e.LostPortRace && options.Port is null && attempt < 3)
            {
                options.Log?.Invoke($"{what}: a port was taken meanwhile; retrying on another one");
            }
        }
    }

    /// <summary>Stops what was started so far when a start fails or is cancelled.</summary>
    public static async Task StopQuietlyAsync(params LocalProcess?[] processes)
    {
        foreach (var process in processes)
        {
            if (process is not null)
            {
                await process.StopAsync(TimeSpan.FromSeconds(5));
            }
        }
    }
}
