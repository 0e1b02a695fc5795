// Mission Control's local orchestrator: what an Aspire AppHost would do, without Aspire.
// The servers first, side by side (RabbitMQ, optional PostgreSQL, Redis and an OpenClaw gateway, which
// may finish booting later), then the five services and the edge in parallel while the broker still
// boots, each waited for (/alive, then /health). Everything it started is
// supervised (SupervisedProcess): restarted on the same port with the same data when it exits or stops
// answering its probe, with backoff, and given up on after 5 failures in 2 minutes. The resource table
// is printed again on every change and kept in <state>/state.json (MC_STATE_DIR, default .mc). Ctrl+C or SIGTERM stops everything in
// reverse order. See AppHostOptions.Usage for the flags.
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using MissionControl.AppHost;
using MissionControl.LocalServers;
using MissionControl.ProcessMemory;

Console.SetOut(new ForgivingWriter(Console.Out));
Console.SetError(new ForgivingWriter(Console.Error));

var options = AppHostOptions.Parse(args, out var optionError);
if (options is null)
{
    Console.Error.WriteLine(optionError is { Length: > 0 } ? $"{optionError}\n\n{AppHostOptions.Usage}" : AppHostOptions.Usage);
    return optionError is { Length: > 0 } ? 2 : 0;
}
if (AppHostPaths.Find() is not { } paths)
{
    Console.Error.WriteLine($"{AppHostPaths.SolutionFile} not found in {Directory.GetCurrentDirectory()} or any parent: run this from the repository.");
    return 2;
}
foreach (var dir in new[] { paths.Data, paths.Logs })
{
    Directory.CreateDirectory(dir);
}

using var shutdown = new CancellationTokenSource();
void RequestStop(string why)
{
    if (!shutdown.IsCancellationRequested)
    {
        Say($"{why}: stopping…");
        shutdown.Cancel();
    }
}
// Handle the signals ourselves (Cancel = true) so the runtime does not exit before we stop the children.
using var onSigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; RequestStop("Ctrl+C"); });
using var onSigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; RequestStop("SIGTERM"); });
using var onSighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => { c.Cancel = true; RequestStop("SIGHUP"); });
Console.CancelKeyPress += (_, e) => { e.Cancel = true; RequestStop("Ctrl+C"); };

var runRecord = new RunRecord(Path.Combine(paths.State, "apphost.pids"));
if (await runRecord.ClaimAsync(Say) is { } alreadyRunning)
{
    Console.Error.WriteLine(alreadyRunning);
    return 1;
}

var started = new List<Resource>();
var tableLock = new Lock();
var statePath = Path.Combine(paths.State, "state.json");
LaunchConfiguration? launched = null;
using var followers = new CancellationTokenSource();
using var http = new HttpClient();
var ct = shutdown.Token;
var ready = false;
var exitCode = 0;
OpenClawServer? openClaw = null;
try
{
    // The sources' fingerprint the build took (Release), so the launch need not walk the tree again.
    var publishFingerprint = options.Build ? await BuildAsync(ct) : null;

    var config = LaunchConfiguration.Create(paths, options, publishFingerprint);
    var projects = LaunchConfiguration.Services.Append(LaunchConfiguration.Edge).ToList();
    var missing = projects.Where(p => !File.Exists(config.DllPath(p))).ToList();
    if (missing.Count > 0)
    {
        Console.Error.WriteLine("Not built (is the project in MissionControl.sln, and did the build succeed?):");
        missing.ForEach(p => Console.Error.WriteLine($"  {p.Name,-15} {paths.Show(config.DllPath(p))}"));
        return 1;
    }
    if (!FreePort.IsFree(options.EdgePort))
    {
        Console.Error.WriteLine($"Port {options.EdgePort} is already in use (another Mission Control still running?). Stop it, or pass --port <n>.");
        return 1;
    }

    launched = config;
    var clock = Stopwatch.StartNew();
    // The servers do not depend on each other: side by side. An OpenClaw gateway is data to the
    // services (registered later), so it may still be booting while they start.
    // The broker's address is chosen before it boots, so the apps can be given it and start meanwhile.
    var messagingGiven = Environment.GetEnvironmentVariable("ConnectionStrings__messaging") is { Length: > 0 } given ? given : null;
    var brokerPort = FreePort.Next();
    config.Messaging = messagingGiven ?? RabbitMqServer.ConnectionStringFor(brokerPort);
    var affinity = messagingGiven is null ? BootAffinity.TryCreate() : null;
    var messaging = StartRabbitMqAsync(messagingGiven, brokerPort, affinity, ct);
    var postgres = options.Postgres ? StartPostgresAsync(ct) : null;
    var redis = options.Redis || Environment.GetEnvironmentVariable("ConnectionStrings__redis") is { Length: > 0 } ? StartRedisAsync(ct) : null;
    var gateway = options.OpenClaw ? StartOpenClawAsync(ct) : null;
    Task[] booting = gateway is null ? [] : [gateway];
    // The apps need PostgreSQL and Redis from their first moment (migrations), the broker only once
    // their bus starts (BrokerListening holds it until the broker's port answers).
    await WhileBootingAsync(Task.WhenAll(new Task?[] { postgres, redis }.OfType<Task>()), [.. booting, messaging]);
    config.Postgres = postgres is null ? null : await postgres;
    config.Redis = redis is null ? null : await redis;
    // The services and the edge find each other through fixed addresses (services__*), so they all start
    // side by side, while the broker boots, kept off one CPU until it is ready (BootAffinity). The broker
    // boots on one thread: measured, it left the other core nearly idle for its ~3 s. (Started beside it
    // on every CPU, the apps slowed its boot from 4 to 9–15 s on 2 cores; with one to three apps started
    // during the boot, 1.2–1.5 s apart: 9.6–12.1 s in all, the boot itself 4.2–7.0 s.)
    var apps = LaunchConfiguration.Services.Append(LaunchConfiguration.Edge).SelectMany(config.InstancesOf)
        .Select(async instance =>
        {
            await StartInstanceAsync(instance, config, affinity, ct);
            return (instance.IsEdge, At: clock.Elapsed);
        }).ToList();
    var appsHealthy = Task.WhenAll(apps);
    await WhileBootingAsync(messaging, [.. booting, appsHealthy]);
    var servers = clock.Elapsed;
    if (affinity is not null)
    {
        await affinity.ReleaseAsync();
    }
    await WhileBootingAsync(appsHealthy, booting);
    var healthy = await appsHealthy;
    var services = healthy.Where(a => !a.IsEdge).Max(a => a.At);
    var edge = healthy.Where(a => a.IsEdge).Max(a => a.At);
    openClaw = gateway is null ? null : await gateway;
    var elapsed = clock.Elapsed;

    lock (tableLock)
    {
        ready = true;
        PrintSummary(config, openClaw);
        Say($"healthy in {elapsed.TotalSeconds:0.0} s (from the first server start to every service and the edge answering /health): " +
            $"servers ready at {servers.TotalSeconds:0.0} s, services at {services.TotalSeconds:0.0} s, edge at {edge.TotalSeconds:0.0} s" +
            $"{(openClaw is null ? "" : $", gateway at {elapsed.TotalSeconds:0.0} s")}");
    }
    lock (started)
    {
        started.ForEach(r => r.Supervised?.Supervise());
    }
    // What the build and the start used (their output read, the processes launched) is given back now.
    await IdleMemory.RunAsync(TimeSpan.Zero, ct);
    await Task.Delay(Timeout.Infinite, ct);
}
catch (OperationCanceledException) when (ct.IsCancellationRequested)
{
    exitCode = ready ? 0 : 130;
}
catch (Exception e) when (e is StartupException or LocalServerStartException or LocalServerUnavailableException or InvalidOperationException)
{
    Console.Error.WriteLine();
    Console.Error.WriteLine($"FAILED: {e.Message}");
    if (e is StartupException { Resource: var failed } && failed.LogPath is { } log)
    {
        Console.Error.WriteLine($"Last lines of {paths.Show(log)}:");
        foreach (var line in failed.TailLog(20))
        {
            Console.Error.WriteLine($"  {line}");
        }
    }
    exitCode = 1;
}
finally
{
    await StopAllAsync();
}
return exitCode;

async Task<string?> BuildAsync(CancellationToken ct)
{
    var log = paths.LogFor("build");
    // Release: the apps alone, published ReadyToRun (ReadyToRunPublish); Debug: the whole solution, as an IDE builds it.
    var release = options.Configuration.Equals("Release", StringComparison.OrdinalIgnoreCase);
    var published = LaunchConfiguration.Services.Append(LaunchConfiguration.Edge).Select(p => p.AssemblyName).ToList();
    // Taken before the publish, so an edit made while it runs is seen by the next start.
    var inputs = release ? PublishInputs.Fingerprint(paths.Repo) : null;
    if (inputs is not null && PublishInputs.UpToDate(paths, inputs) && published.All(app => File.Exists(ReadyToRunPublish.DllPath(paths, app))))
    {
        Say("the services and the edge are up to date (no source changed since their last publish)");
        return inputs;
    }
    string[] arguments = release
        ? ReadyToRunPublish.Arguments(paths)
        : ["build", paths.Solution, "-c", options.Configuration, "--nologo", "--disable-build-servers", "-v:minimal"];
    Say(release
        ? $"building and publishing the services and the edge ReadyToRun (the first time takes minutes; log: {paths.Show(log)})…"
        : $"building {AppHostPaths.SolutionFile} ({options.Configuration}; log: {paths.Show(log)})…");
    var clock = Stopwatch.StartNew();
    // No build servers: nothing of ours may keep running after the AppHost exits.
    var build = new Resource("build", "build");
    var process = LocalProcess.Start(new LocalProcessStartInfo("build", "dotnet", arguments, log)
    {
        WorkingDirectory = paths.Repo,
    });
    build.Attach(process);
    runRecord.Add("build", process.Pid);
    try
    {
        var code = await process.Exited.WaitAsync(ct);
        if (code != 0)
        {
            throw new StartupException(build, $"dotnet {arguments[0]} failed with exit code {code}");
        }
    }
    finally
    {
        await process.StopAsync(TimeSpan.FromSeconds(5));
    }
    if (release)
    {
        var linked = ReadyToRunPublish.ShareIdenticalFiles(published.Select(app => ReadyToRunPublish.Directory(paths, app)));
        PublishInputs.Record(paths, inputs!);
        Say($"built in {clock.Elapsed.TotalSeconds:0.0} s ({linked} identical files hard-linked across the apps)");
    }
    return inputs;
}

// Waits for a step while servers boot beside it: a server that fails to start fails the whole start
// at once (its exception), not after the step's own timeout.
static async Task WhileBootingAsync(Task step, IReadOnlyList<Task> booting)
{
    var pending = booting.ToList();
    while (!step.IsCompleted && pending.Count > 0)
    {
        var done = await Task.WhenAny(pending.Append(step));
        if (done != step)
        {
            await done; // throws if the server failed
            pending.Remove(done);
        }
    }
    await step;
}

async Task<string> StartRabbitMqAsync(string? given, int port, BootAffinity? affinity, CancellationToken ct)
{
    if (given is not null)
    {
        lock (started) started.Add(Resource.External("rabbitmq", "broker", given));
        Say($"rabbitmq: using ConnectionStrings__messaging ({given})");
        return given;
    }
    var resource = new Resource("rabbitmq", "broker") { LogPath = paths.LogFor("rabbitmq") };
    RabbitMqServer? server = null;
    // The probe asks the broker itself (its Erlang VM is alive, its AMQP port answers a protocol
    // header), and its Exited completes when the VM dies even if the launcher script lives on.
    await SuperviseAsync(resource, async ct =>
    {
        var node = server = server is null
            ? await RabbitMqServer.StartAsync(ServerOptions("rabbitmq") with { Port = port, Launched = affinity is null ? null : affinity.Reserve }, ct)
            : await server.StartAgainAsync(ct); // same node name, port and data
        resource.Address = node.ConnectionString;
        runRecord.Add("epmd", node.EpmdPid);
        runRecord.Add(resource.Name, node.Pid);
        if (node.BeamPid is { } beam)
        {
            runRecord.Add("rabbitmq-vm", beam); // outlives a killed script: a later run must find it too
        }
        return new SupervisedStart(node.Pid, node.Exited, async () => await node.DisposeAsync());
    }, ct => server!.IsHealthyAsync(ct), ct);
    return server!.ConnectionString;
}

async Task<string> StartPostgresAsync(CancellationToken ct)
{
    var resource = new Resource("postgres", "database") { LogPath = paths.LogFor("postgres") };
    PostgresServer? server = null;
    await SuperviseAsync(resource, async ct =>
    {
        // Again: the same port and data dir (initdb only ever runs once per dir).
        var node = server = await PostgresServer.StartAsync(ServerOptions("postgres") with { Port = server?.Port }, ct);
        resource.Address = $"127.0.0.1:{node.Port}";
        runRecord.Add(resource.Name, node.Pid);
        return new SupervisedStart(node.Pid, node.Exited, async () => await node.DisposeAsync());
    }, ct => server!.IsHealthyAsync(ct), ct);
    return server!.ConnectionString;
}

async Task<string> StartRedisAsync(CancellationToken ct)
{
    if (Environment.GetEnvironmentVariable("ConnectionStrings__redis") is { Length: > 0 } given)
    {
        lock (started) started.Add(Resource.External("redis", "cache", given));
        Say($"redis: using ConnectionStrings__redis ({given})");
        return given;
    }
    var resource = new Resource("redis", "cache") { LogPath = paths.LogFor("redis") };
    RedisServer? server = null;
    await SuperviseAsync(resource, async ct =>
    {
        var node = server = await RedisServer.StartAsync(ServerOptions("redis") with { Port = server?.Port }, ct);
        resource.Address = node.ConnectionString;
        runRecord.Add(resource.Name, node.Pid);
        return new SupervisedStart(node.Pid, node.Exited, async () => await node.DisposeAsync());
    }, ct => server!.IsHealthyAsync(ct), ct);
    return server!.ConnectionString;
}

// A real gateway for agents, installed on first use; its dir, port and token stay the same from run to
// run, so a gateway registered with Mission Control once keeps working (and keeps its agents).
async Task<OpenClawServer> StartOpenClawAsync(CancellationToken ct)
{
    if (!OpenClawServer.IsInstalled)
    {
        await InstallOpenClawAsync(ct);
    }
    var (token, _) = LaunchConfiguration.LoadOrCreateOpenClawToken(paths);
    var lastPort = OpenClawServer.LastPort(paths.OpenClaw);
    var port = FreePort.PreferOrNext(lastPort ?? OpenClawServer.DefaultPort);
    if (lastPort is { } last && port != last)
    {
        Say($"openclaw: port {last} (used last time) is taken, using {port}: update a registered gateway with " +
            $"PATCH /api/v1/gateways/<id> {{\"url\":\"ws://127.0.0.1:{port}\"}}");
    }
    var resource = new Resource("openclaw", "gateway") { LogPath = paths.LogFor("openclaw") };
    OpenClawServer? server = null;
    await SuperviseAsync(resource, async ct =>
    {
        // Again: the same port, token and work dir (config, agents, workspaces).
        var node = server = await OpenClawServer.StartAsync(
            new LocalServerOptions(paths.OpenClaw) { Port = port, LogPath = paths.LogFor("openclaw"), Log = Say }, token: token, cancellationToken: ct);
        resource.Address = node.Url;
        runRecord.Add(resource.Name, node.Pid);
        return new SupervisedStart(node.Pid, node.Exited, async () => await node.DisposeAsync());
    }, ct => server!.IsHealthyAsync(ct), ct);
    return server!;
}

// scripts/install-openclaw.sh (Node 24 and openclaw from the npm registry), its output shown as it goes.
async Task InstallOpenClawAsync(CancellationToken ct)
{
    var log = paths.LogFor("install-openclaw");
    Say($"openclaw: not installed in {OpenClawServer.InstallDir}; running scripts/install-openclaw.sh (about 650 MB; log: {paths.Show(log)})…");
    var install = new Resource("install-openclaw", "install");
    var process = LocalProcess.Start(new LocalProcessStartInfo("install-openclaw", "bash",
        [Path.Combine(paths.Repo, "scripts", "install-openclaw.sh")], log)
    {
        WorkingDirectory = paths.Repo,
    });
    install.Attach(process);
    runRecord.Add(install.Name, process.Pid);
    using var follow = new CancellationTokenSource();
    var following = install.FollowLogAsync(Console.WriteLine, follow.Token);
    int code;
    try
    {
        code = await process.Exited.WaitAsync(ct);
        await Task.Delay(400, ct); // the follower's last lines
    }
    finally
    {
        await follow.CancelAsync();
        await following;
        await process.StopAsync(TimeSpan.FromSeconds(5));
    }
    if (code != 0)
    {
        throw new InvalidOperationException($"scripts/install-openclaw.sh failed with exit code {code} (its output is above and in {paths.Show(log)})");
    }
    if (!OpenClawServer.IsInstalled)
    {
        throw new InvalidOperationException(
            $"scripts/install-openclaw.sh succeeded but there is no gateway in {OpenClawServer.InstallDir} (MC_OPENCLAW_DIR points elsewhere than MC_CACHE_DIR?)");
    }
}

LocalServerOptions ServerOptions(string name) => new(Path.Combine(paths.Servers, name))
{
    LogPath = paths.LogFor(name),
    Log = Say,
};

async Task StartInstanceAsync(ProjectInstance instance, LaunchConfiguration config, BootAffinity? affinity, CancellationToken ct)
{
    var project = instance.Project;
    var url = instance.IsEdge && config.Replicas == 1 ? config.PublicEdgeUrl : config.ProbeUrl(instance);
    Say($"{instance.Name}: starting on {url}{(instance.IsEdge && config.Replicas > 1 ? $" and {config.PublicEdgeUrl}" : "")}…");
    var resource = new Resource(instance.Name, instance.IsEdge ? "edge" : "service")
    {
        Address = url, LogPath = paths.LogFor(instance.Name),
    };
    var first = true;
    await SuperviseAsync(resource, async ct =>
    {
        var process = LocalProcess.Start(new LocalProcessStartInfo(instance.Name, "dotnet", [config.DllPath(project)], resource.LogPath)
        {
            Environment = config.EnvironmentFor(instance),
            WorkingDirectory = Path.GetDirectoryName(config.DllPath(project)),
            AppendLog = !first, // a restart keeps the log of the process that died
        });
        first = false;
        affinity?.Confine(process.Pid); // only while the broker boots
        runRecord.Add(resource.Name, process.Pid);
        try
        {
            // Minutes, not seconds: a service applies its migrations before it answers, and a migration that
            // builds an index or backfills a table over a weeks-old database takes a while once (measured on the
            // bench's: 12 s for an index on 4.5 million tasks, 28 s for the activity counts of 4.9 million events).
            await resource.WaitHealthyAsync(http, config.ProbeUrl(instance), process.Exited, TimeSpan.FromMinutes(3), ct);
        }
        catch
        {
            await process.StopAsync(TimeSpan.FromSeconds(5));
            throw;
        }
        // SIGTERM (ASP.NET Core shuts down gracefully on it), 10 s grace, then kill the process tree.
        return SupervisedStart.Of(process);
    }, async ct => await Resource.ProbeAsync(http, config.ProbeUrl(instance) + "/alive", ct) is null, ct);
    // Watched with /alive only: /health also reports the broker and the database, and a service must
    // not be restarted because the broker is down (its outbox holds writes until the broker is back).
    Say($"{instance.Name}: healthy (pid {resource.Pid})");
}

// Starts the resource once (a failure stops the AppHost with its log), then it is supervised.
async Task SuperviseAsync(Resource resource, Func<CancellationToken, Task<SupervisedStart>> start, Func<CancellationToken, Task<bool>> probe, CancellationToken ct)
{
    var supervised = new SupervisedProcess(resource.Name, start, probe)
    {
        Log = line => (line.StartsWith("!!") ? Console.Error : Console.Out).WriteLine(line.StartsWith("!!") ? line : $"[apphost] {line}"),
    };
    supervised.Changed += _ => OnChanged();
    resource.Attach(supervised);
    lock (started)
    {
        started.Add(resource);
    }
    if (options.Verbose)
    {
        _ = resource.FollowLogAsync(Console.WriteLine, followers.Token);
    }
    await supervised.StartAsync(ct);
}

// Every state change: <state>/state.json is rewritten, and once the system is up the table is printed again.
void OnChanged()
{
    lock (tableLock)
    {
        WriteState();
        if (ready && !ct.IsCancellationRequested)
        {
            PrintTable();
        }
    }
}

void WriteState()
{
    List<Resource> resources;
    lock (started)
    {
        resources = [.. started];
    }
    var state = new
    {
        updated = DateTimeOffset.UtcNow,
        apphost_pid = Environment.ProcessId,
        edge = launched is null ? null : launched.PublicEdgeUrl,
        resources = resources.Select(r => new
        {
            name = r.Name, kind = r.Kind, state = r.State, pid = r.Pid, address = r.Address,
            restarts = r.Supervised?.Restarts ?? 0,
            last_exit_code = r.Supervised?.LastExitCode, last_exit_at = r.Supervised?.LastExitAt, last_failure = r.Supervised?.LastFailure,
            log = r.LogPath is { } log ? paths.Show(log) : null,
        }),
    };
    try
    {
        var temp = statePath + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(state, new JsonSerializerOptions { WriteIndented = true }));
        File.Move(temp, statePath, overwrite: true);
    }
    catch (IOException e)
    {
        Console.Error.WriteLine($"[apphost] could not write {paths.Show(statePath)}: {e.Message}");
    }
}

void PrintTable()
{
    List<Resource> resources;
    lock (started)
    {
        resources = [.. started];
    }
    var rows = resources.Select(r => (r.Name, r.State, r.Address, Pid: r.Pid?.ToString() ?? "-",
        Restarts: (r.Supervised?.Restarts ?? 0).ToString(),
        Exit: r.Supervised is { LastExitAt: { } at } s ? $"{s.LastExitCode?.ToString() ?? "-"} at {at.ToLocalTime():HH:mm:ss}" : "-",
        Log: r.LogPath is { } log ? paths.Show(log) : "-")).ToList();
    var widths = new[]
    {
        rows.Max(r => r.Name.Length), rows.Max(r => r.State.Length), rows.Max(r => r.Address.Length), rows.Max(r => r.Pid.Length),
        rows.Max(r => r.Exit.Length),
    }.Select(w => Math.Max(w, 8)).ToArray();
    Console.WriteLine();
    Console.WriteLine($"{"RESOURCE".PadRight(widths[0])}  {"STATE".PadRight(widths[1])}  {"ADDRESS".PadRight(widths[2])}  {"PID".PadRight(widths[3])}  RESTARTS  {"LAST EXIT".PadRight(widths[4])}  LOG");
    foreach (var row in rows)
    {
        Console.WriteLine($"{row.Name.PadRight(widths[0])}  {row.State.PadRight(widths[1])}  {row.Address.PadRight(widths[2])}  {row.Pid.PadRight(widths[3])}  {row.Restarts,8}  {row.Exit.PadRight(widths[4])}  {row.Log}");
    }
}

void PrintSummary(LaunchConfiguration config, OpenClawServer? gateway)
{
    PrintTable();
    var edge = config.PublicEdgeUrl;
    Console.WriteLine();
    Console.WriteLine($"Mission Control is up at {edge}   (data: {(config.Postgres is null ? paths.Show(paths.Data) + " (SQLite)" : "PostgreSQL")}" +
        $"{(config.Replicas > 1 ? $"; {config.Replicas} instances of every service and of the edge" : "")})");
    Console.WriteLine($"Admin token ({config.AdminTokenSource}): {config.AdminToken}");
    Console.WriteLine($"Edge protection: {config.EdgeProtectionSummary()}");
    Console.WriteLine("Try:");
    Console.WriteLine($"  curl -H \"Authorization: Bearer {config.AdminToken}\" -X POST {edge}/api/v1/organizations -H 'Content-Type: application/json' -d '{{\"name\":\"Acme\"}}'");
    if (gateway is not null)
    {
        PrintOpenClaw(config, gateway, edge);
    }
    Console.WriteLine();
    Console.WriteLine("Press Ctrl+C to stop everything.");
}

// Where the gateway is, and the three calls that put an agent on it (as the admin, in its active organization).
void PrintOpenClaw(LaunchConfiguration config, OpenClawServer gateway, string edge)
{
    var curl = $"curl -H \"Authorization: Bearer {config.AdminToken}\" -H 'Content-Type: application/json'";
    var register = new JsonObject
    {
        ["name"] = "local", ["url"] = gateway.Url, ["workspace_root"] = gateway.WorkspaceRoot, ["token"] = gateway.Token,
    };
    Console.WriteLine();
    Console.WriteLine($"OpenClaw gateway {OpenClawServer.Version} at {gateway.Url}   (token: {paths.Show(paths.OpenClawTokenFile)})");
    Console.WriteLine($"  workspace root: {gateway.WorkspaceRoot}");
    Console.WriteLine(gateway.DefaultModel is { } model
        ? $"  default model: {model} (set in {paths.Show(gateway.ConfigPath)})"
        : $"  no model is configured: add your provider and agents.defaults.model to {paths.Show(gateway.ConfigPath)} (kept across restarts)");
    Console.WriteLine("Register it with Mission Control, then make a board on it and an agent on the board:");
    Console.WriteLine($"  {curl} -X POST {edge}/api/v1/gateways -d '{register.ToJsonString()}'");
    Console.WriteLine($"  {curl} -X POST {edge}/api/v1/boards -d '{{\"name\":\"Agents\",\"description\":\"Work for agents\",\"gateway_id\":\"<gateway id>\"}}'");
    Console.WriteLine($"  {curl} -X POST {edge}/api/v1/agents -d '{{\"board_id\":\"<board id>\",\"name\":\"Ada\"}}'");
    Console.WriteLine($"  then GET {edge}/api/v1/agents/<agent id> goes from provisioning to ready once its workspace is written");
}

async Task StopAllAsync()
{
    ready = false; // no more tables while stopping
    for (var i = started.Count - 1; i >= 0; i--)
    {
        var resource = started[i];
        if (resource.State == "external")
        {
            continue;
        }
        if (resource.Pid is { } pid)
        {
            Say($"{resource.Name}: stopping (pid {pid})");
        }
        await resource.StopAsync(); // also sweeps up anything an exited one left behind
    }
    if (started.Count > 0)
    {
        lock (tableLock)
        {
            WriteState();
        }
    }
    followers.Cancel();
    runRecord.Clear();
    if (started.Count > 0)
    {
        Say("all stopped.");
    }
}

static void Say(string message) => Console.WriteLine($"[apphost] {message}");
