using System.Buffers.Text;
using System.Security.Cryptography;
using MissionControl.LocalServers;

namespace MissionControl.AppHost;

/// <summary>One .NET project the AppHost runs.</summary>
/// <param name="Name">Resource name: OTEL_SERVICE_NAME, services__&lt;name&gt;__http__0, the log file name.</param>
/// <param name="AssemblyName">Its dll under artifacts/bin/&lt;AssemblyName&gt;/debug/.</param>
/// <param name="ConnectionName">Its database connection, ConnectionStrings__&lt;ConnectionName&gt; (null: none).</param>
/// <param name="Database">SQLite file name (&lt;state&gt;/data/&lt;Database&gt;.db) or PostgreSQL database name.</param>
internal sealed record ProjectDefinition(string Name, string AssemblyName, int DefaultPort, string? ConnectionName, string? Database);

/// <summary>One running copy of a project: "tasks", or with --replicas "tasks-1", "tasks-2" (Index 0, 1).</summary>
internal sealed record ProjectInstance(ProjectDefinition Project, int Index, string Name)
{
    public bool IsEdge => Project == LaunchConfiguration.Edge;
}

/// <summary>
/// Builds every process's environment with Aspire's conventions (ConnectionStrings__*, services__*,
/// OTEL_*), so a service cannot tell whether this AppHost, Aspire or Kubernetes started it.
/// </summary>
internal sealed class LaunchConfiguration
{
    public static readonly ProjectDefinition[] Services =
    [
        new("orgs", "MissionControl.Orgs", 5101, "orgsdb", "orgs"),
        new("tasks", "MissionControl.Tasks", 5102, "tasksdb", "tasks"),
        new("agents", "MissionControl.Agents", 5103, "agentsdb", "agents"),
        new("gateway-bridge", "MissionControl.GatewayBridge", 5104, "gatewaybridgedb", "gatewaybridge"),
        new("metrics", "MissionControl.Metrics", 5105, "metricsdb", "metrics"),
    ];

    public static readonly ProjectDefinition Edge = new("edge", "MissionControl.Edge", 4000, null, null);

    private readonly AppHostPaths _paths;
    private readonly Dictionary<string, int> _ports = [];

    private readonly string _configuration;
    private readonly Lazy<bool> _publishCurrent;
    private readonly string _environment;

    private LaunchConfiguration(AppHostPaths paths, AppHostOptions options, string adminToken, string adminTokenSource, string? publishFingerprint)
    {
        _paths = paths;
        _environment = options.Environment;
        _configuration = options.Configuration.ToLowerInvariant();
        _publishCurrent = new(() => PublishInputs.UpToDate(paths, publishFingerprint ?? PublishInputs.Fingerprint(paths.Repo)));
        EdgePort = options.EdgePort;
        Replicas = options.Replicas;
        AdminToken = adminToken;
        AdminTokenSource = adminTokenSource;

        // A fresh ECDSA P-256 key pair per run: the edge signs internal tokens, everyone verifies.
        (SigningKey, VerificationKey) = MissionControl.InternalAuth.InternalKeys.Generate();
    }

    /// <summary>The public port; with replicas every edge listens on it (SO_REUSEPORT) and on a probe port of its own.</summary>
    public int EdgePort { get; }
    public int Replicas { get; }
    public string SigningKey { get; }
    public string VerificationKey { get; }
    public string AdminToken { get; }
    public string AdminTokenSource { get; }

    /// <summary>amqp://… of the broker (started or given).</summary>
    public string Messaging { get; set; } = "";

    /// <summary>Server connection string (no database) when services use PostgreSQL, else null (SQLite).</summary>
    public string? Postgres { get; set; }

    public string? Redis { get; set; }

    /// <param name="publishFingerprint">The sources' fingerprint a build just took, if any (else taken when needed).</param>
    public static LaunchConfiguration Create(AppHostPaths paths, AppHostOptions options, string? publishFingerprint = null)
    {
        var (token, source) = LoadOrCreateAdminToken(paths);
        var configuration = new LaunchConfiguration(paths, options, token, source, publishFingerprint);
        foreach (var project in Services.Append(Edge))
        {
            foreach (var instance in configuration.InstancesOf(project))
            {
                // Fixed ports give stable URLs; when one is taken, any free port will do (they are discovered).
                // A lone edge is probed on its public port; replicated edges each on one of their own.
                configuration._ports[instance.Name] = instance.IsEdge
                    ? options.Replicas == 1 ? options.EdgePort : FreePort.PreferOrNext(5190 + instance.Index)
                    : FreePort.PreferOrNext(project.DefaultPort + 10 * instance.Index);
            }
        }
        return configuration;
    }

    public IReadOnlyList<ProjectInstance> InstancesOf(ProjectDefinition project) =>
        Enumerable.Range(0, Replicas).Select(i => new ProjectInstance(project, i, Replicas == 1 ? project.Name : $"{project.Name}-{i + 1}")).ToList();

    /// <summary>The address the AppHost probes (a lone edge also listens on [::1]).</summary>
    public string ProbeUrl(ProjectInstance instance) => $"http://127.0.0.1:{_ports[instance.Name]}";

    public string PublicEdgeUrl => $"http://localhost:{EdgePort}";

    /// <summary>
    /// The ReadyToRun publish of a Release build (<see cref="ReadyToRunPublish"/>) when it is there and
    /// either made from the current sources or not older than the plain build output; else the build output
    /// (Debug, or a build made without the AppHost). A Release build of something that references an app
    /// (the bench references the gateway-bridge) rewrites that app's build output without changing a
    /// source: the publish, being current, still runs (an app without ReadyToRun costs ~1 s more CPU to start).
    /// </summary>
    public string DllPath(ProjectDefinition project)
    {
        var built = Path.Combine(_paths.Repo, "artifacts", "bin", project.AssemblyName, _configuration, project.AssemblyName + ".dll");
        if (_configuration != "release") return built;
        var published = ReadyToRunPublish.DllPath(_paths, project.AssemblyName);
        return File.Exists(published) && (!File.Exists(built) || _publishCurrent.Value
                                          || File.GetLastWriteTimeUtc(published) >= File.GetLastWriteTimeUtc(built))
            ? published : built;
    }

    /// <summary>
    /// Variables to set (a null value removes one inherited from the AppHost's environment). Everything
    /// else is inherited, so settings given to scripts/start.sh (e.g. Webhooks__AllowedHosts,
    /// Webhooks__RetrySchedule; the edge's RateLimiting__PerMinute, RateLimiting__AuthFailuresPerMinute,
    /// MC_TRUSTED_PROXIES, MC_ALLOWED_HOSTS, Edge__MaxRequestBodyBytes) reach every service.
    /// </summary>
    public Dictionary<string, string?> EnvironmentFor(ProjectInstance instance)
    {
        var project = instance.Project;
        var isEdge = instance.IsEdge;
        var aspnetEnvironment = Get("ASPNETCORE_ENVIRONMENT") ?? Get("DOTNET_ENVIRONMENT") ?? _environment;
        var env = new Dictionary<string, string?>
        {
            // Kestrel binds "localhost" to both 127.0.0.1 and [::1], and to nothing else.
            ["ASPNETCORE_URLS"] = !isEdge ? ProbeUrl(instance)
                : Replicas == 1 ? PublicEdgeUrl
                : $"{PublicEdgeUrl};{ProbeUrl(instance)}",
            // Replicated edges share the public port: the kernel spreads new connections among them.
            ["Edge__ReusePort"] = isEdge && Replicas > 1 ? "true" : null,
            ["ASPNETCORE_ENVIRONMENT"] = aspnetEnvironment,
            ["DOTNET_ENVIRONMENT"] = Get("DOTNET_ENVIRONMENT") ?? aspnetEnvironment,
            // An 8 MB gen0 budget (the default follows the CPU cache): 2 MB was tried for memory, but once
            // hot code reached tier 1, 8 MB made create c16 1,085–1,119/s against 860/s (alternated) for
            // 2–4 MB more PSS across the idle system (the services collect aggressively once started).
            ["DOTNET_GCgen0size"] = Get("DOTNET_GCgen0size") ?? "0x800000",
            // glibc gives each thread that calls malloc (SQLite, OpenSSL, the runtime) an arena of its own,
            // up to 8 per core, and each keeps its freed pages: one arena is about 5 MB less per idle process.
            ["MALLOC_ARENA_MAX"] = Get("MALLOC_ARENA_MAX") ?? "1",
            // An app started while the broker boots is kept off one CPU for those seconds (BootAffinity); the
            // runtime sizes its thread pool and Kestrel's I/O queues from the CPUs it sees when it starts.
            ["DOTNET_PROCESSOR_COUNT"] = Get("DOTNET_PROCESSOR_COUNT") ?? Environment.ProcessorCount.ToString(),
            // No DOTNET_TC_CallCountThreshold here: the runtime recompiles a method optimized after 30 calls. At 1,000
            // (tried to spare start-up code a recompile) the code that runs once per batch rather than per request (the
            // event log's consumer and writer, the write gate, the outbox relay) stayed ReadyToRun for minutes under load:
            // metrics recompiled 1,100 methods 40 s into a bench, tasks 740. Alternated, 3 runs each: create c16 876-1,435/s
            // against 723-988/s, list c16 912-1,207/s against 922-999/s (bench/results/2026-12-07-call-count-threshold.txt).
            // No DOTNET_TC_CallCountingDelayMs here: a 2 s delay (half the JIT time while starting) kept tasks
            // and metrics at ReadyToRun and tier-0 code for good under load, since each new method restarts
            // the delay and a busy service keeps meeting new ones: create c16 711/s against 984/s with the
            // runtime's 0.1 s (perf: no tier-1 frame in tasks after a minute of load).
            // JIT code is not mapped write-xor-execute here: the runtime's default maps each new code page twice and
            // flips it between writable and executable, and the start is CPU-bound on these two cores. Measured,
            // alternated, 13 warm starts each: healthy in a median 7.6 s against 8.4 s, 13.0-14.7 s of CPU to healthy
            // across the processes against 14.5-16.1 s; requests under load alike (bench/results/2026-12-06-start-and-patch-levers.txt). The
            // container images keep the hardening (a pod starts alone); DOTNET_EnableWriteXorExecute=1 keeps it here.
            ["DOTNET_EnableWriteXorExecute"] = Get("DOTNET_EnableWriteXorExecute") ?? "0",
            ["OTEL_SERVICE_NAME"] = project.Name,
            ["OTEL_RESOURCE_ATTRIBUTES"] = $"service.instance.id={Guid.NewGuid()}",
            ["ConnectionStrings__messaging"] = Messaging,
            ["ConnectionStrings__redis"] = Redis,
            ["InternalAuth__VerificationKey"] = VerificationKey,
            // Secrets only the edge may hold; also removes them if the AppHost itself had them.
            ["InternalAuth__SigningKey"] = isEdge ? SigningKey : null,
            ["MC_ADMIN_TOKEN"] = isEdge ? AdminToken : null,
        };
        foreach (var service in Services)
        {
            foreach (var other in InstancesOf(service))
            {
                env[$"services__{service.Name}__http__{other.Index}"] = ProbeUrl(other);
            }
        }
        if (!isEdge)
        {
            env["ASPNETCORE_FORWARDEDHEADERS_ENABLED"] = "true";
            // Where agents reach Mission Control (written into their workspace files).
            env["MissionControl__PublicUrl"] = Get("MissionControl__PublicUrl") ?? PublicEdgeUrl;
        }
        if (project.ConnectionName is not null)
        {
            // Keys that encrypt secrets at rest (webhook secrets, gateway tokens) live outside the database.
            env["DataProtection__KeysPath"] = Path.Combine(_paths.State, "keys", project.Name);
            // Pending migrations (a first start) are applied by a short-lived copy of the service: what migrating
            // compiles and loads would stay in the serving process, about 10 MB across the services (ServiceDatabase).
            env["Database__MigrateInChildProcess"] = Get("Database__MigrateInChildProcess") ?? "true";
            env[$"ConnectionStrings__{project.ConnectionName}"] = Postgres is not null
                ? $"{Postgres};Database={project.Database}"
                : $"Data Source={Path.Combine(_paths.Data, project.Database + ".db")}";
        }
        // OTLP only when the AppHost was given a collector (it is inherited as is); then, like Aspire
        // in Development, export every second so traces show up while you look.
        if (Get("OTEL_EXPORTER_OTLP_ENDPOINT") is not null && aspnetEnvironment == "Development")
        {
            foreach (var (name, value) in new[]
            {
                ("OTEL_BLRP_SCHEDULE_DELAY", "1000"), ("OTEL_BSP_SCHEDULE_DELAY", "1000"),
                ("OTEL_METRIC_EXPORT_INTERVAL", "1000"), ("OTEL_TRACES_SAMPLER", "always_on"),
            })
            {
                env[name] = Get(name) ?? value;
            }
        }
        return env;
    }

    /// <summary>The edge's limits as the edge will read them from the inherited environment (defaults: seed 001's).</summary>
    public string EdgeProtectionSummary()
    {
        var perMinute = Get("RateLimiting__PerMinute") ?? "100";
        var authFailures = Get("RateLimiting__AuthFailuresPerMinute") ?? "10";
        var limits = perMinute == "0" ? "rate limit off" : $"{perMinute} requests/min per client IP (RateLimiting__PerMinute=0 turns it off, e.g. for bench/run.sh)";
        limits += authFailures == "0" ? ", auth-failure limit off" : $", {authFailures} failed authentications/min";
        return $"{limits}; allowed hosts: {Get("MC_ALLOWED_HOSTS") ?? "any"}; trusted proxies: {Get("MC_TRUSTED_PROXIES") ?? "none"}";
    }

    /// <summary>MC_ADMIN_TOKEN, else &lt;state&gt;/admin-token, else a new one saved there (mode 0600).</summary>
    private static (string Token, string Source) LoadOrCreateAdminToken(AppHostPaths paths)
    {
        if (Get("MC_ADMIN_TOKEN") is { } fromEnvironment)
        {
            return (fromEnvironment, "MC_ADMIN_TOKEN");
        }
        if (File.Exists(paths.AdminTokenFile) && File.ReadAllText(paths.AdminTokenFile).Trim() is { Length: > 0 } saved)
        {
            return (saved, paths.Show(paths.AdminTokenFile));
        }
        var token = "mc_admin_" + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        WriteSecret(paths.AdminTokenFile, token);
        return (token, $"{paths.Show(paths.AdminTokenFile)} (new)");
    }

    /// <summary>The OpenClaw gateway's token: &lt;state&gt;/openclaw-token, else a new one saved there (mode 0600).</summary>
    public static (string Token, bool IsNew) LoadOrCreateOpenClawToken(AppHostPaths paths)
    {
        if (File.Exists(paths.OpenClawTokenFile) && File.ReadAllText(paths.OpenClawTokenFile).Trim() is { Length: > 0 } saved)
        {
            return (saved, false);
        }
        // Hex: nothing in it needs quoting in a shell, a JSON body or a URL.
        var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        WriteSecret(paths.OpenClawTokenFile, token);
        return (token, true);
    }

    /// <summary>Writes a one-line secret readable by its owner only.</summary>
    private static void WriteSecret(string path, string secret)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var file = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            file.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using var writer = new StreamWriter(path, file);
        writer.WriteLine(secret);
    }

    private static string? Get(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;
}
