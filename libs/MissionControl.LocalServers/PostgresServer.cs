using Npgsql;

namespace MissionControl.LocalServers;

/// <summary>
/// A private PostgreSQL cluster (initdb once per work dir, then reused) on 127.0.0.1 with trust auth
/// for the superuser <c>postgres</c>. PostgreSQL refuses to run as root, so as root it runs as the
/// <c>postgres</c> user and the work dir is handed to that user.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private const string ServiceUser = "postgres";
    private readonly LocalProcess _process;

    private PostgresServer(string workDir, string dataDir, int port, LocalProcess process)
    {
        WorkDir = workDir;
        DataDir = dataDir;
        Port = port;
        _process = process;
    }

    /// <summary>/usr/lib/postgresql/15/bin when present, else the newest installed version's bin dir, else null.</summary>
    public static string? BinDir
    {
        get
        {
            const string root = "/usr/lib/postgresql";
            if (File.Exists($"{root}/15/bin/initdb"))
            {
                return $"{root}/15/bin";
            }
            return !Directory.Exists(root) ? null : Directory.EnumerateDirectories(root)
                .Where(dir => int.TryParse(Path.GetFileName(dir), out _) && File.Exists(Path.Combine(dir, "bin", "initdb")))
                .OrderByDescending(dir => int.Parse(Path.GetFileName(dir)))
                .Select(dir => Path.Combine(dir, "bin"))
                .FirstOrDefault();
        }
    }

    public static bool IsInstalled => BinDir is not null;

    public string WorkDir { get; }
    public string DataDir { get; }
    public int Port { get; }
    public int Pid => _process.Pid;
    public string LogPath => _process.LogPath;
    public Task<int> Exited => _process.Exited;

    /// <summary>Aspire's server format (no database): <c>Host=127.0.0.1;Port=…;Username=postgres;Password=postgres</c>.</summary>
    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Password=postgres";

    /// <summary>Aspire's database format; trust auth makes the password irrelevant. EF creates a missing database.</summary>
    public string ConnectionStringFor(string database) => $"{ConnectionString};Database={database}";

    public static Task<PostgresServer> StartAsync(string workDir, int? port = null, CancellationToken cancellationToken = default) =>
        StartAsync(new LocalServerOptions(workDir) { Port = port }, cancellationToken);

    public static Task<PostgresServer> StartAsync(LocalServerOptions options, CancellationToken cancellationToken = default)
    {
        Platform.EnsureLinux();
        if (BinDir is null)
        {
            throw LocalServerUnavailableException.Postgres();
        }
        if (Platform.IsRoot && !Platform.UserExists(ServiceUser))
        {
            throw new LocalServerUnavailableException(
                "PostgreSQL refuses to run as root and there is no `postgres` user: run `apt-get install -y postgresql-15` (it creates the user) " +
                "or `useradd --system postgres`.");
        }
        return Startup.WithPortRetryAsync(options, "postgres", () => StartOnceAsync(options, cancellationToken));
    }

    private static async Task<PostgresServer> StartOnceAsync(LocalServerOptions options, CancellationToken ct)
    {
        var bin = BinDir!;
        var workDir = Path.GetFullPath(options.WorkDir);
        var dataDir = Path.Combine(workDir, "data");
        var runAs = Platform.IsRoot ? ServiceUser : null;
        var port = options.Port ?? FreePort.Next();
        var logPath = options.LogPath ?? Path.Combine(workDir, "postgres.log");
        var log = options.Log ?? (_ => { });

        // Unix socket paths are limited to ~107 bytes; fall back to a short private dir under /tmp.
        var socketDir = Path.Combine(workDir, "run");
        if (socketDir.Length > 80)
        {
            socketDir = Path.Combine("/tmp", $"mc-pg-{Environment.ProcessId}-{Platform.RandomToken(6)}");
        }
        Directory.CreateDirectory(workDir);
        Directory.CreateDirectory(socketDir);
        await Platform.HandOverAsync(workDir, runAs, ct);
        await Platform.HandOverAsync(socketDir, runAs, ct);

        LocalProcess? process = null;
        try
        {
            if (!File.Exists(Path.Combine(dataDir, "PG_VERSION")))
            {
                if (Directory.Exists(dataDir))
                {
                    Directory.Delete(dataDir, recursive: true); // a half-made cluster from an interrupted initdb
                }
                log($"postgres: initdb {dataDir}");
                process = LocalProcess.Start(new LocalProcessStartInfo("initdb", Path.Combine(bin, "initdb"),
                    ["-D", dataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"], logPath)
                {
                    WorkingDirectory = workDir,
                    RunAsUser = runAs,
                    Environment = new Dictionary<string, string?> { ["LC_ALL"] = "C" },
                });
                var code = await process.Exited.WaitAsync(ct);
                if (code != 0)
                {
                    throw Startup.Failed(process, $"initdb exited with code {code}");
                }
                process = null;
            }

            log($"postgres: starting on 127.0.0.1:{port} (log: {logPath})");
            process = LocalProcess.Start(new LocalProcessStartInfo("postgres", Path.Combine(bin, "postgres"),
            [
                "-D", dataDir, "-p", port.ToString(),
                "-c", "listen_addresses=127.0.0.1",
                "-c", $"unix_socket_directories={socketDir}",
                // A development/test server: durability is not worth the fsyncs.
                "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                // Every service instance keeps its own connection pool (and tests start many instances).
                "-c", "max_connections=500",
            ], logPath)
            {
                WorkingDirectory = workDir,
                RunAsUser = runAs,
                AppendLog = true,
                Environment = new Dictionary<string, string?> { ["LC_ALL"] = "C" },
            });
            var server = new PostgresServer(workDir, dataDir, port, process);
            await Startup.WaitUntilReadyAsync(process, "postgres", server.AcceptsQueriesAsync, options.StartTimeout, ct);
            log($"postgres: ready at 127.0.0.1:{port} (pid {process.Pid})");
            return server;
        }
        catch
        {
            await Startup.StopQuietlyAsync(process);
            throw;
        }
    }

    /// <summary>Creates the database unless it exists.</summary>
    public async Task CreateDatabaseAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(ConnectionStringFor("postgres") + ";Pooling=false");
        await connection.OpenAsync(cancellationToken);
        await using var exists = new NpgsqlCommand("select 1 from pg_database where datname = $1", connection) { Parameters = { new() { Value = name } } };
        if (await exists.ExecuteScalarAsync(cancellationToken) is null)
        {
            await using var create = new NpgsqlCommand($"create database \"{name.Replace("\"", "\"\"")}\"", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>Liveness: a connection that runs <c>select 1</c>.</summary>
    public Task<bool> IsHealthyAsync(CancellationToken ct = default) => AcceptsQueriesAsync(ct);

    private async Task<bool> AcceptsQueriesAsync(CancellationToken ct)
    {
        try
        {
            await using var connection = new NpgsqlConnection(ConnectionStringFor("postgres") + ";Pooling=false;Timeout=3");
            await connection.OpenAsync(ct);
            await using var command = new NpgsqlCommand("select 1", connection);
            return await command.ExecuteScalarAsync(ct) is 1;
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>SIGINT is PostgreSQL's fast shutdown (what <c>pg_ctl stop -m fast</c> sends); SIGKILL after 10 s.</summary>
    public async ValueTask DisposeAsync() => await _process.StopAsync(TimeSpan.FromSeconds(10), ProcessTree.SIGINT);
}
