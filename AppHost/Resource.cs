using MissionControl.LocalServers;

namespace MissionControl.AppHost;

/// <summary>
/// Something the AppHost started (or was given): a server from LocalServers or a .NET project run as
/// <c>dotnet &lt;dll&gt;</c>. Knows its address, pid and log, and how to stop itself.
/// </summary>
internal sealed class Resource(string name, string kind)
{
    private Func<Task>? _stop;

    public string Name { get; } = name;
    public string Kind { get; } = kind;
    public string State { get; set; } = "starting";
    public string Address { get; set; } = "";
    public int? Pid { get; private set; }
    public string? LogPath { get; private set; }

    /// <summary>Completes when the process exits; null for an external server.</summary>
    public Task<int>? Exited { get; private set; }

    public bool IsStopping { get; private set; }

    public static Resource External(string name, string kind, string address) =>
        new(name, kind) { State = "external", Address = address };

    public void Attach(LocalProcess process)
    {
        (Pid, LogPath, Exited) = (process.Pid, process.LogPath, process.Exited);
        // SIGTERM (ASP.NET Core shuts down gracefully on it), 10 s grace, then kill the process tree.
        _stop = () => process.StopAsync(TimeSpan.FromSeconds(10));
    }

    public void Attach(IAsyncDisposable server, int pid, string logPath, Task<int> exited)
    {
        (Pid, LogPath, Exited) = (pid, logPath, exited);
        _stop = async () => await server.DisposeAsync();
    }

    public async Task StopAsync()
    {
        IsStopping = true;
        if (_stop is not null)
        {
            await _stop();
            State = "stopped";
        }
    }

    /// <summary>"3", or "137 (killed by signal 9)" for the 128+n codes .NET reports for a signal.</summary>
    public static string DescribeExit(int code) => code > 128 && code < 160 ? $"{code} (killed by signal {code - 128})" : $"{code}";

    public IReadOnlyList<string> TailLog(int lines = 20) => LogPath is null ? [] : LocalProcess.Tail(LogPath, lines);

    /// <summary>
    /// Waits until GET /alive and then GET /health answer 200 (what Aspire's WaitFor does for a project),
    /// each within <paramref name="timeout"/>; fails at once if the process exits.
    /// </summary>
    public async Task WaitHealthyAsync(HttpClient http, string baseUrl, TimeSpan timeout, CancellationToken ct)
    {
        foreach (var path in new[] { "/alive", "/health" })
        {
            State = $"waiting for {path}";
            var deadline = DateTime.UtcNow + timeout;
            var last = "no answer";
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                if (Exited is { IsCompleted: true })
                {
                    throw new StartupException(this, $"{Name} exited with code {DescribeExit(await Exited)} while starting");
                }
                try
                {
                    using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    attempt.CancelAfter(TimeSpan.FromSeconds(3));
                    using var response = await http.GetAsync(baseUrl + path, attempt.Token);
                    if ((int)response.StatusCode == 200)
                    {
                        break;
                    }
                    last = $"HTTP {(int)response.StatusCode}";
                }
                catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !ct.IsCancellationRequested)
                {
                    last = e is OperationCanceledException ? "timed out" : e.Message;
                }
                if (DateTime.UtcNow > deadline)
                {
                    throw new StartupException(this, $"{Name}: GET {baseUrl}{path} did not return 200 within {timeout.TotalSeconds:0} s (last: {last})");
                }
                await Task.Delay(250, ct);
            }
        }
        State = "running";
    }

    /// <summary>For --verbose: copies new log lines to the console, prefixed with the resource name.</summary>
    public async Task FollowLogAsync(Action<string> write, CancellationToken ct)
    {
        if (LogPath is null)
        {
            return;
        }
        try
        {
            await using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            while (!ct.IsCancellationRequested)
            {
                while (await reader.ReadLineAsync(ct) is { } line)
                {
                    write($"[{Name}] {line}");
                }
                await Task.Delay(200, ct);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // Stopped, or the log went away.
        }
    }
}

/// <summary>A resource did not start: stop everything and show its log.</summary>
internal sealed class StartupException(Resource resource, string message) : Exception(message)
{
    public Resource Resource { get; } = resource;
}
