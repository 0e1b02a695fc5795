using System.Net.Sockets;
using RabbitMQ.Client;

namespace MissionControl.LocalServers;

/// <summary>
/// A private RabbitMQ node from the Debian package: its own node name, Erlang cookie, epmd, ports,
/// config, data and log, bound to 127.0.0.1, so it never meets the system node or another test run's.
/// </summary>
public sealed class RabbitMqServer : IAsyncDisposable
{
    public const string ServerScript = "/usr/lib/rabbitmq/bin/rabbitmq-server";
    public const string DefaultErlangArgs = "+P 65536 +t 200000 +zdbbl 128000 +sbwt very_short +sbwtdcpu very_short +sbwtdio very_short +S 1:1";
    private const string ServiceUser = "rabbitmq";

    /// <summary>
    /// The private node's configuration, in advanced.config (Erlang terms, no rabbitmq.conf). The
    /// listener's socket options are given whole, because this setting replaces the broker's default
    /// list rather than adding to it: with only the buffers set (as rabbitmq.conf had them), Nagle's
    /// algorithm was back on for every client connection. So: no Nagle delay, an immediate close, and
    /// fixed socket buffers. With the kernel's autotuned buffers, loopback connections reach a 3.9 MB send
    /// buffer, and the broker sizes each connection's own read buffer to match: 24 MB of the node's 78 MB
    /// allocated at idle (erlang:memory, measured; 3 MB with these), pages that a busy connection fills.
    /// 192 KiB is what RabbitMQ's networking guide gives for throughput.
    /// </summary>
    internal const string NodeConfig = """
        %% private node started by MissionControl.LocalServers
        [{rabbit, [{tcp_listen_options, [{backlog, 128}, {nodelay, true}, {linger, {true, 0}}, {exit_on_close, false},
                                         {sndbuf, 196608}, {recbuf, 196608}]}]}].

        """;

    private readonly LocalProcess _node;
    private readonly LocalProcess _epmd;

    private LocalServerOptions _options = null!;

    private RabbitMqServer(string workDir, string nodeName, int port, int distributionPort, int epmdPort, LocalProcess node, LocalProcess epmd)
    {
        WorkDir = workDir;
        NodeName = nodeName;
        Port = port;
        DistributionPort = distributionPort;
        EpmdPort = epmdPort;
        _node = node;
        _epmd = epmd;
    }

    public static bool IsInstalled => File.Exists(ServerScript) && Platform.Which("epmd") is not null;

    public string WorkDir { get; }
    public string NodeName { get; }
    public int Port { get; }
    public int DistributionPort { get; }
    public int EpmdPort { get; }

    /// <summary>Aspire's format: <c>amqp://guest:guest@127.0.0.1:&lt;port&gt;</c> (guest may log in from loopback).</summary>
    public string ConnectionString => ConnectionStringFor(Port);

    /// <summary>The connection string of a node on <paramref name="port"/>, known before it boots.</summary>
    public static string ConnectionStringFor(int port) => $"amqp://guest:guest@127.0.0.1:{port}";

    /// <summary>Pid of the rabbitmq-server script; the Erlang VM runs under it.</summary>
    public int Pid => _node.Pid;
    public int EpmdPid => _epmd.Pid;
    public string LogPath => _node.LogPath;

    /// <summary>Pid of the Erlang VM (beam.smp) under the script, once found (null before the node is ready).</summary>
    public int? BeamPid { get; private set; }
    private long? _beamStart;

    /// <summary>
    /// Completes when the node exits (expectedly or not): its script, or the Erlang VM under it (the
    /// script can outlive a killed VM). Code 137 when only the VM was seen to go.
    /// </summary>
    public Task<int> Exited { get; private set; } = Task.FromResult(0);

    public static Task<RabbitMqServer> StartAsync(string workDir, int? port = null, CancellationToken cancellationToken = default) =>
        StartAsync(new LocalServerOptions(workDir) { Port = port }, cancellationToken);

    public static Task<RabbitMqServer> StartAsync(LocalServerOptions options, CancellationToken cancellationToken = default)
    {
        Platform.EnsureLinux();
        if (!IsInstalled)
        {
            throw LocalServerUnavailableException.RabbitMq();
        }
        return Startup.WithPortRetryAsync(options, "rabbitmq", () => StartOnceAsync(options, cancellationToken));
    }

    /// <summary>
    /// A new node in place of this one (after it died or was stopped): the same node name, port and
    /// work dir, with its data (queues, messages, definitions) kept. This instance is stopped first.
    /// </summary>
    public async Task<RabbitMqServer> StartAgainAsync(CancellationToken cancellationToken = default)
    {
        await DisposeAsync();
        return await StartOnceAsync(_options with { Port = Port }, cancellationToken, NodeName, keepData: true);
    }

    private static async Task<RabbitMqServer> StartOnceAsync(LocalServerOptions options, CancellationToken ct, string? reuseNodeName = null, bool keepData = false)
    {
        var workDir = Path.GetFullPath(options.WorkDir);
        var runAs = Platform.IsRoot && Platform.UserExists(ServiceUser) ? ServiceUser : null;
        var nodeName = reuseNodeName ?? $"mc-{Environment.ProcessId}-{Platform.RandomToken(6)}@localhost";
        var port = options.Port ?? FreePort.Next();
        var distPort = FreePort.Next();
        var epmdPort = FreePort.Next();
        var log = options.Log ?? (_ => { });

        // A fresh node every time: the work dir holds only this node's files (a node name of its own each
        // start, so the earlier nodes' data and their per-node logs would only pile up).
        var home = Path.Combine(workDir, "home");
        var mnesia = Path.Combine(workDir, "mnesia");
        foreach (var stale in keepData ? [] : new[] { mnesia, Path.Combine(workDir, "log") })
        {
            if (Directory.Exists(stale))
            {
                Directory.Delete(stale, recursive: true);
            }
        }
        foreach (var dir in new[] { workDir, home, mnesia, Path.Combine(workDir, "log") })
        {
            Directory.CreateDirectory(dir);
        }
        await File.WriteAllTextAsync(Path.Combine(workDir, "enabled_plugins"), "[].", ct);
        File.Delete(Path.Combine(workDir, "rabbitmq.conf")); // written by earlier versions
        await File.WriteAllTextAsync(Path.Combine(workDir, "advanced.config"), NodeConfig, ct);
        await File.WriteAllTextAsync(Path.Combine(workDir, "rabbitmq-env.conf"), "", ct);
        var cookie = Path.Combine(home, ".erlang.cookie");
        if (File.Exists(cookie))
        {
            File.Delete(cookie);
        }
        await File.WriteAllTextAsync(cookie, Platform.RandomToken(32), ct);
        await Platform.HandOverAsync(workDir, runAs, ct);
        var scripts = RabbitMqCoreInstall.Prepare(ServerScript, Path.Combine(workDir, "core"));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(cookie, UnixFileMode.UserRead); // Erlang refuses a cookie others can read
        }

        var environment = new Dictionary<string, string?>
        {
            ["HOME"] = home,
            ["ERL_EPMD_PORT"] = epmdPort.ToString(),
            ["ERL_EPMD_ADDRESS"] = "127.0.0.1",
            ["RABBITMQ_NODENAME"] = nodeName,
            ["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1",
            ["RABBITMQ_NODE_PORT"] = port.ToString(),
            ["RABBITMQ_DIST_PORT"] = distPort.ToString(),
            ["RABBITMQ_MNESIA_BASE"] = mnesia,
            ["RABBITMQ_LOG_BASE"] = Path.Combine(workDir, "log"),
            ["RABBITMQ_LOGS"] = "-", // the main log to stdout, i.e. our log file
            ["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(workDir, "enabled_plugins"),
            ["RABBITMQ_CONFIG_FILE"] = Path.Combine(workDir, "rabbitmq.conf"),
            ["RABBITMQ_ADVANCED_CONFIG_FILE"] = Path.Combine(workDir, "advanced.config"),
            ["RABBITMQ_CONF_ENV_FILE"] = Path.Combine(workDir, "rabbitmq-env.conf"),
            ["RABBITMQ_PID_FILE"] = Path.Combine(workDir, "node.pid"),
            // We run epmd ourselves (so we own its pid); keep distribution on loopback too.
            ["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"] = "-start_epmd false -kernel inet_dist_use_interface {127,0,0,1}",
            // Debian's defaults size the VM for a million processes and five million atoms; a private
            // node needs far fewer, and the smaller tables cost about 12 MB less memory (measured).
            // Schedulers busy-wait only very briefly: the broker shares two cores with six .NET processes.
            // Debian's "none" doubled the node's boot (4-5 s to 8.5-9.7 s, measured); very_short boots as
            // fast as Erlang's default spin, with bench figures within run-to-run noise of both.
            // One scheduler (+S 1:1): with one per core, every message handed between the broker's
            // processes (reader, channel, queue, writer) could wake the other scheduler thread, and on
            // these machines a thread wake-up costs more than the hand-over. Measured under create
            // load: 0.36 to 0.23 ms of broker CPU per message, creates/s up by half
            // (bench/results/2026-12-04-broker-one-scheduler.txt). One core carries several thousand messages/s.
            // The scheduler is not bound to a core (Debian's line binds them, +stbt db): bound to CPU 0 it
            // queued behind whatever else ran there (0.21-0.26 against 0.17-0.19 ms per message).
            // The package's scripts, run from the view with only the broker's own applications (RabbitMqCoreInstall).
            ["RABBITMQ_SCRIPTS_DIR"] = scripts,
            ["RABBITMQ_SERVER_ERL_ARGS"] = Environment.GetEnvironmentVariable("RABBITMQ_SERVER_ERL_ARGS") is { Length: > 0 } given
                ? given : DefaultErlangArgs,
        };

        LocalProcess? epmd = null;
        LocalProcess? node = null;
        try
        {
            log($"rabbitmq: starting epmd on 127.0.0.1:{epmdPort}");
            epmd = LocalProcess.Start(new LocalProcessStartInfo("epmd", "epmd", ["-port", epmdPort.ToString()], Path.Combine(workDir, "epmd.log"))
            {
                Environment = environment,
                WorkingDirectory = workDir,
                RunAsUser = runAs,
            });
            await Startup.WaitUntilReadyAsync(epmd, "epmd", _ => FreePort.IsListeningAsync("127.0.0.1", epmdPort), TimeSpan.FromSeconds(15), ct);

            var logPath = options.LogPath ?? Path.Combine(workDir, "rabbitmq.log");
            log($"rabbitmq: starting node {nodeName} on 127.0.0.1:{port} (log: {logPath})");
            node = LocalProcess.Start(new LocalProcessStartInfo("rabbitmq", scripts is null ? ServerScript : Path.Combine(scripts, "rabbitmq-server"), [], logPath)
            {
                Environment = environment,
                WorkingDirectory = workDir,
                RunAsUser = runAs,
                AppendLog = keepData, // a restart keeps the log of the node that died
            });
            options.Launched?.Invoke(node.Pid);
            var server = new RabbitMqServer(workDir, nodeName, port, distPort, epmdPort, node, epmd) { _options = options };
            server.Exited = node.Exited;
            await Startup.WaitUntilReadyAsync(node, "rabbitmq", server.AcceptsAmqpAsync, options.StartTimeout, ct);
            server.BeamPid = ProcessTree.Descendants(node.Pid).FirstOrDefault(pid => ProcessTree.Name(pid) == "beam.smp") is var beam and > 0 ? beam : null;
            if (server.BeamPid is { } beamPid)
            {
                server._beamStart = ProcessTree.StartTime(beamPid);
                server.Exited = WatchNodeAsync(node, beamPid);
            }
            log($"rabbitmq: ready at {server.ConnectionString} (pid {node.Pid})");
            return server;
        }
        catch
        {
            await Startup.StopQuietlyAsync(node, epmd);
            throw;
        }
    }

    private static async Task<int> WatchNodeAsync(LocalProcess node, int beamPid)
    {
        var start = ProcessTree.StartTime(beamPid);
        while (!node.HasExited)
        {
            if (!ProcessTree.IsAlive(beamPid) || ProcessTree.StartTime(beamPid) != start)
            {
                return 137;
            }
            await Task.WhenAny(node.Exited, Task.Delay(250));
        }
        return await node.Exited;
    }

    /// <summary>Evaluates an Erlang expression on the node with rabbitmqctl (its epmd, and the cookie in its home dir).</summary>
    internal async Task<string> EvalAsync(string expression, CancellationToken ct = default)
    {
        var (code, output) = await Platform.RunAsync(Path.Combine(Path.GetDirectoryName(ServerScript)!, "rabbitmqctl"), ["-n", NodeName, "eval", expression], ct,
            new Dictionary<string, string> { ["ERL_EPMD_PORT"] = EpmdPort.ToString(), ["HOME"] = Path.Combine(WorkDir, "home") });
        return code == 0 ? output : throw new InvalidOperationException($"rabbitmqctl eval failed with exit code {code}: {output}");
    }

    /// <summary>
    /// A liveness check from the broker itself: its Erlang VM runs and its AMQP port answers a protocol
    /// header with Connection.Start (cheap: no login, no channel).
    /// </summary>
    public async Task<bool> IsHealthyAsync(CancellationToken ct = default)
    {
        if (BeamPid is { } beam && !ProcessTree.IsAlive(beam))
        {
            return false;
        }
        try
        {
            using var client = new TcpClient();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(3));
            await client.ConnectAsync("127.0.0.1", Port, timeout.Token);
            var stream = client.GetStream();
            await stream.WriteAsync("AMQP\0\0\u0009\u0001"u8.ToArray(), timeout.Token);
            var frame = new byte[7];
            var read = 0;
            while (read < frame.Length && await stream.ReadAsync(frame.AsMemory(read), timeout.Token) is var n and > 0)
            {
                read += n;
            }
            return read == frame.Length && frame[0] == 1; // a method frame (Connection.Start)
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>A full AMQP handshake (TCP accept alone happens before the node is usable).</summary>
    private async Task<bool> AcceptsAmqpAsync(CancellationToken ct)
    {
        if (!await FreePort.IsListeningAsync("127.0.0.1", Port))
        {
            return false;
        }
        var factory = new ConnectionFactory
        {
            Uri = new Uri(ConnectionString),
            AutomaticRecoveryEnabled = false,
            RequestedConnectionTimeout = TimeSpan.FromSeconds(5),
            ClientProvidedName = "mc-localservers-probe",
        };
        try
        {
            await using var connection = await factory.CreateConnectionAsync(ct);
            return connection.IsOpen;
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>
    /// SIGTERM to the node (the script stops the VM cleanly), SIGKILL to the tree after 10 s; then the VM
    /// itself if it outlived its script; then its epmd.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        await _node.StopAsync(TimeSpan.FromSeconds(10));
        // A script killed outright (kill -9 of the pid state.json shows) leaves its VM running, reparented
        // out of the tree: it would keep the port, and a restarted node could not start on it.
        if (BeamPid is { } beam && _beamStart is { } start && ProcessTree.IsAlive(beam) && ProcessTree.StartTime(beam) == start)
        {
            await ProcessTree.TerminateAsync(beam, TimeSpan.FromSeconds(10));
        }
        await _epmd.StopAsync(TimeSpan.FromSeconds(2));
    }
}
