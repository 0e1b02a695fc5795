using System.Net.Sockets;
using System.Text;

namespace MissionControl.LocalServers;

/// <summary>A private redis-server on 127.0.0.1 with no persistence (no RDB snapshots, no AOF).</summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly LocalProcess _process;

    private RedisServer(string workDir, int port, LocalProcess process)
    {
        WorkDir = workDir;
        Port = port;
        _process = process;
    }

    public static string? ServerPath => Platform.Which("redis-server");
    public static bool IsInstalled => ServerPath is not null;

    public string WorkDir { get; }
    public int Port { get; }
    public int Pid => _process.Pid;
    public string LogPath => _process.LogPath;
    public Task<int> Exited => _process.Exited;

    /// <summary>Aspire's format: <c>127.0.0.1:&lt;port&gt;</c>.</summary>
    public string ConnectionString => $"127.0.0.1:{Port}";

    public static Task<RedisServer> StartAsync(string workDir, int? port = null, CancellationToken cancellationToken = default) =>
        StartAsync(new LocalServerOptions(workDir) { Port = port }, cancellationToken);

    public static Task<RedisServer> StartAsync(LocalServerOptions options, CancellationToken cancellationToken = default)
    {
        Platform.EnsureLinux();
        if (!IsInstalled)
        {
            throw LocalServerUnavailableException.Redis();
        }
        return Startup.WithPortRetryAsync(options, "redis", () => StartOnceAsync(options, cancellationToken));
    }

    private static async Task<RedisServer> StartOnceAsync(LocalServerOptions options, CancellationToken ct)
    {
        var workDir = Path.GetFullPath(options.WorkDir);
        Directory.CreateDirectory(workDir);
        var port = options.Port ?? FreePort.Next();
        var logPath = options.LogPath ?? Path.Combine(workDir, "redis.log");
        options.Log?.Invoke($"redis: starting on 127.0.0.1:{port} (log: {logPath})");
        var process = LocalProcess.Start(new LocalProcessStartInfo("redis", ServerPath!,
        [
            "--bind", "127.0.0.1", "--port", port.ToString(), "--protected-mode", "yes",
            "--save", "", "--appendonly", "no", "--dir", workDir, "--daemonize", "no", "--logfile", "",
        ], logPath) { WorkingDirectory = workDir });
        try
        {
            await Startup.WaitUntilReadyAsync(process, "redis", _ => PingAsync(port), options.StartTimeout, ct);
        }
        catch
        {
            await Startup.StopQuietlyAsync(process);
            throw;
        }
        options.Log?.Invoke($"redis: ready at 127.0.0.1:{port} (pid {process.Pid})");
        return new RedisServer(workDir, port, process);
    }

    /// <summary>Liveness: PING answered with +PONG.</summary>
    public Task<bool> IsHealthyAsync(CancellationToken ct = default) => PingAsync(Port);

    private static async Task<bool> PingAsync(int port)
    {
        try
        {
            using var client = new TcpClient();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await client.ConnectAsync("127.0.0.1", port, cts.Token);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), cts.Token);
            var buffer = new byte[64];
            var read = await stream.ReadAsync(buffer, cts.Token);
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync() => await _process.StopAsync(TimeSpan.FromSeconds(5));
}
