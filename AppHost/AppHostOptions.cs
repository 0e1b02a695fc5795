namespace MissionControl.AppHost;

/// <summary>Command-line flags, with their environment-variable equivalents.</summary>
internal sealed record AppHostOptions
{
    public const string Usage = """
        Usage: dotnet run --project AppHost -- [options]     (or ./scripts/start.sh [options])

        Starts RabbitMQ (and the servers asked for), then orgs, tasks, agents, gateway-bridge and metrics
        in parallel, then the edge, all on loopback; prints the time to healthy. Every process is
        supervised: restarted on the same port (0.5 s backoff doubling to 30 s) when it exits or stops
        answering its probe, given up on after 5 failures in 2 minutes; the table is in <state>/state.json.

          --no-build      do not build first (Release: the ReadyToRun publish of the services and
                          the edge, AppHost/ReadyToRun/PublishApps.proj, which then runs when it is
                          not older than the build output; Debug: `dotnet build MissionControl.sln`)
          --debug         the Debug build with ASPNETCORE_ENVIRONMENT=Development (default: the
                          Release build in Production, which is what the figures are for; an
                          ASPNETCORE_ENVIRONMENT you set yourself is passed on)
          --postgres      PostgreSQL per service instead of SQLite (or MC_POSTGRES=1)
          --redis         start Redis and pass ConnectionStrings__redis (or MC_REDIS=1)
          --openclaw      also start a real OpenClaw gateway on loopback (or MC_OPENCLAW=1; installed
                          once into ~/.cache/mission-control, its state kept in <state>/servers/openclaw)
                          and print its URL, token and how to register it and put agents on it
          --port <n>      edge port (or MC_EDGE_PORT; default 4000)
          --replicas <n>  run n instances (1-4) of every service and of the edge (or MC_REPLICAS;
                          needs --postgres): the services on ports of their own, listed to each other
                          and to the edge as services__<name>__http__0..n-1 and balanced by the edge;
                          the edges share the edge port (the kernel spreads connections among them)
          --verbose, -v   also print every process's log lines on the console
          --help, -h      this text

        Environment: ConnectionStrings__messaging / ConnectionStrings__redis use an existing server
        instead of starting one; MC_ADMIN_TOKEN sets the admin token; OTEL_EXPORTER_OTLP_ENDPOINT is
        passed on to every process. MC_STATE_DIR (an absolute path; default <repo>/.mc) is the state dir
        <state>: data/, logs/, keys/, servers/, admin-token, state.json and apphost.pids (one AppHost per
        state dir; RabbitMQ and PostgreSQL run as their own users, so when others cannot reach it their
        server dirs go to /tmp/mc-servers-<hash>).
        """;

    public bool Build { get; init; } = true;
    public string Configuration { get; init; } = "Release";

    /// <summary>The services' ASPNETCORE_ENVIRONMENT unless one is set: Production, or Development with --debug.</summary>
    public string Environment { get; init; } = "Production";
    public bool Postgres { get; init; }
    public bool Redis { get; init; }
    public bool OpenClaw { get; init; }
    public int EdgePort { get; init; } = 4000;
    public int Replicas { get; init; } = 1;
    public bool Verbose { get; init; }

    /// <summary>The options, or null with <paramref name="error"/> set (empty when help was asked for).</summary>
    public static AppHostOptions? Parse(string[] args, out string? error)
    {
        error = null;
        var options = new AppHostOptions
        {
            Postgres = IsOn("MC_POSTGRES"),
            Redis = IsOn("MC_REDIS"),
            OpenClaw = IsOn("MC_OPENCLAW"),
        };
        if (System.Environment.GetEnvironmentVariable("MC_EDGE_PORT") is { Length: > 0 } envPort)
        {
            if (!TryPort(envPort, out var port))
            {
                error = $"MC_EDGE_PORT={envPort} is not a port number.";
                return null;
            }
            options = options with { EdgePort = port };
        }
        if (System.Environment.GetEnvironmentVariable("MC_REPLICAS") is { Length: > 0 } envReplicas)
        {
            if (!TryReplicas(envReplicas, out var replicas))
            {
                error = $"MC_REPLICAS={envReplicas} is not a number from 1 to {MaxReplicas}.";
                return null;
            }
            options = options with { Replicas = replicas };
        }

        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--no-build": options = options with { Build = false }; break;
                case "--debug": options = options with { Configuration = "Debug", Environment = "Development" }; break;
                case "--postgres": options = options with { Postgres = true }; break;
                case "--redis": options = options with { Redis = true }; break;
                case "--openclaw": options = options with { OpenClaw = true }; break;
                case "--verbose" or "-v": options = options with { Verbose = true }; break;
                case "--help" or "-h" or "-?": error = ""; return null;
                case "--port" when i + 1 < args.Length && TryPort(args[i + 1], out var port):
                    options = options with { EdgePort = port };
                    i++;
                    break;
                case "--port":
                    error = "--port needs a port number (1-65535).";
                    return null;
                case "--replicas" when i + 1 < args.Length && TryReplicas(args[i + 1], out var replicas):
                    options = options with { Replicas = replicas };
                    i++;
                    break;
                case "--replicas":
                    error = $"--replicas needs a number from 1 to {MaxReplicas}.";
                    return null;
                default:
                    error = $"Unknown option '{args[i]}'.";
                    return null;
            }
        }
        if (options.Replicas > 1 && !options.Postgres)
        {
            // A SQLite file belongs to one process: two instances of a service need a database server.
            error = "--replicas 2 or more needs --postgres (SQLite serves one process per database file).";
            return null;
        }
        return options;
    }

    private const int MaxReplicas = 4;

    private static bool TryReplicas(string text, out int replicas) => int.TryParse(text, out replicas) && replicas is >= 1 and <= MaxReplicas;

    private static bool IsOn(string name) =>
        System.Environment.GetEnvironmentVariable(name) is "1" or "true" or "True" or "TRUE" or "yes";

    private static bool TryPort(string text, out int port) => int.TryParse(text, out port) && port is > 0 and < 65536;
}

/// <summary>
/// Where things live: the repo root (found by walking up to MissionControl.sln) and the state dir,
/// MC_STATE_DIR or &lt;repo&gt;/.mc (data, logs, keys, tokens, server dirs, state.json, apphost.pids).
/// </summary>
internal sealed record AppHostPaths(string Repo, string? StateDir = null)
{
    public const string SolutionFile = "MissionControl.sln";
    public const string StateDirVariable = "MC_STATE_DIR";

    public string Solution => Path.Combine(Repo, SolutionFile);
    public string State => StateDir ?? Path.Combine(Repo, ".mc");
    public string Data => Path.Combine(State, "data");
    public string Logs => Path.Combine(State, "logs");
    public string AdminTokenFile => Path.Combine(State, "admin-token");
    public string OpenClawTokenFile => Path.Combine(State, "openclaw-token");

    /// <summary>
    /// The OpenClaw gateway's work dir (config, state, agent workspaces). Always in the state dir: the gateway runs
    /// as us, so it needs no dir others can reach, and its agents must outlive /tmp.
    /// </summary>
    public string OpenClaw => Path.Combine(State, "servers", "openclaw");

    /// <summary>
    /// Server work dirs. RabbitMQ and PostgreSQL run as their own users, which must be able to reach
    /// the dir; when the state dir sits under a private home (mode 0700) use /tmp instead.
    /// </summary>
    public string Servers => OthersCanReach(State)
        ? Path.Combine(State, "servers")
        // Hashing the repo when there is no MC_STATE_DIR keeps the dir an existing setup already has.
        : Path.Combine(Path.GetTempPath(), $"mc-servers-{(uint)StringComparer.Ordinal.GetHashCode(StateDir ?? Repo):x8}");

    public string LogFor(string resource) => Path.Combine(Logs, $"{resource}.log");

    /// <summary>Relative to the repo, for compact output.</summary>
    public string Show(string path) => Path.GetRelativePath(Repo, path) is var relative && !relative.StartsWith("..") ? relative : path;

    /// <summary>
    /// The first directory with MissionControl.sln, from the current directory up, then from this program's
    /// location up; the state dir from MC_STATE_DIR when set (so a test can run a whole system in a temp dir).
    /// </summary>
    public static AppHostPaths? Find()
    {
        var stateDir = System.Environment.GetEnvironmentVariable(StateDirVariable) is { Length: > 0 } given ? Path.GetFullPath(given) : null;
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, SolutionFile)))
                {
                    return new AppHostPaths(dir.FullName, stateDir);
                }
            }
        }
        return null;
    }

    private static bool OthersCanReach(string dir)
    {
        if (OperatingSystem.IsWindows())
        {
            return true;
        }
        for (var current = new DirectoryInfo(dir); current is not null; current = current.Parent)
        {
            if (current.Exists && !current.UnixFileMode.HasFlag(UnixFileMode.OtherExecute))
            {
                return false;
            }
        }
        return true;
    }
}
