// Mission Control's local orchestrator: what an Aspire AppHost would do, without Aspire.
// Infrastructure first (RabbitMQ, optional PostgreSQL, Redis and an OpenClaw gateway), then each service and the edge,
// each waited for (/alive, then /health) before the next; Ctrl+C or SIGTERM stops everything in
// reverse order. See AppHostOptions.Usage for the flags.
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using MissionControl.AppHost;
using MissionControl.LocalServers;

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
using var followers = new CancellationTokenSource();
using var http = new HttpClient();
var ct = shutdown.Token;
var ready = false;
var exitCode = 0;
OpenClawServer? openClaw = null;
try
{
    if (options.Build)
    {
        await BuildAsync(ct);
    }

    var config = LaunchConfiguration.Create(paths, options);
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

    config.Messaging = await StartRabbitMqAsync(ct);
    if (options.Postgres)
    {
        config.Postgres = await StartPostgresAsync(ct);
    }
    if (options.Redis || Environment.GetEnvironmentVariable("ConnectionStrings__redis") is { Length: > 0 })
    {
        config.Redis = await StartRedisAsync(ct);
    }
    if (options.OpenClaw)
    {
        openClaw = await StartOpenClawAsync(ct);
    }
    foreach (var project in projects)
    {
        await StartProjectAsync(project, config, ct);
    }

    ready = true;
    PrintSummary(config, openClaw);
    await WatchUntilStoppedAsync(ct);
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

async Task BuildAsync(CancellationToken ct)
{
    var log = paths.LogFor("build");
    Say($"building {AppHostPaths.SolutionFile} ({options.Configuration}; log: {paths.Show(log)})…");
    // No build servers: nothing of ours may keep running after the AppHost exits.
    var build = new Resource("build", "build");
    var process = LocalProcess.Start(new LocalProcessStartInfo("build", "dotnet",
        ["build", paths.Solution, "-c", options.Configuration, "--nologo", "--disable-build-servers", "-v:minimal"], log)
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
            throw new StartupException(build, $"dotnet build failed with exit code {code}");
        }
    }
    finally
    {
        await process.StopAsync(TimeSpan.FromSeconds(5));
    }
}

async Task<string> StartRabbitMqAsync(CancellationToken ct)
{
    if (Environment.GetEnvironmentVariable("ConnectionStrings__messaging") is { Length: > 0 } given)
    {
        started.Add(Resource.External("rabbitmq", "broker", given));
        Say($"rabbitmq: using ConnectionStrings__messaging ({given})");
        return given;
    }
    var resource = new Resource("rabbitmq", "broker");
    var server = await RabbitMqServer.StartAsync(ServerOptions("rabbitmq"), ct);
    resource.Attach(server, server.Pid, server.LogPath, server.Exited);
    (resource.Address, resource.State) = (server.ConnectionString, "running");
    Track(resource);
    runRecord.Add("epmd", server.EpmdPid);
    return server.ConnectionString;
}

async Task<string> StartPostgresAsync(CancellationToken ct)
{
    var resource = new Resource("postgres", "database");
    var server = await PostgresServer.StartAsync(ServerOptions("postgres"), ct);
    resource.Attach(server, server.Pid, server.LogPath, server.Exited);
    (resource.Address, resource.State) = ($"127.0.0.1:{server.Port}", "running");
    Track(resource);
    return server.ConnectionString;
}

async Task<string> StartRedisAsync(CancellationToken ct)
{
    if (Environment.GetEnvironmentVariable("ConnectionStrings__redis") is { Length: > 0 } given)
    {
        started.Add(Resource.External("redis", "cache", given));
        Say($"redis: using ConnectionStrings__redis ({given})");
        return given;
    }
    var resource = new Resource("redis", "cache");
    var server = await RedisServer.StartAsync(ServerOptions("redis"), ct);
    resource.Attach(server, server.Pid, server.LogPath, server.Exited);
    (resource.Address, resource.State) = (server.ConnectionString, "running");
    Track(resource);
    return server.ConnectionString;
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
    var resource = new Resource("openclaw", "gateway");
    var server = await OpenClawServer.StartAsync(
        new LocalServerOptions(paths.OpenClaw) { Port = port, LogPath = paths.LogFor("openclaw"), Log = Say }, token: token, cancellationToken: ct);
    resource.Attach(server, server.Pid, server.LogPath, server.Exited);
    (resource.Address, resource.State) = (server.Url, "running");
    Track(resource);
    return server;
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

async Task StartProjectAsync(ProjectDefinition project, LaunchConfiguration config, CancellationToken ct)
{
    var url = config.PublicUrl(project);
    Say($"{project.Name}: starting on {url}…");
    var process = LocalProcess.Start(new LocalProcessStartInfo(project.Name, "dotnet", [config.DllPath(project)], paths.LogFor(project.Name))
    {
        Environment = config.EnvironmentFor(project),
        WorkingDirectory = Path.GetDirectoryName(config.DllPath(project)),
    });
    var resource = new Resource(project.Name, project == LaunchConfiguration.Edge ? "edge" : "service") { Address = url };
    resource.Attach(process);
    Track(resource);
    await resource.WaitHealthyAsync(http, config.ProbeUrl(project), TimeSpan.FromSeconds(60), ct);
    Say($"{project.Name}: healthy (pid {process.Pid})");
}

void Track(Resource resource)
{
    started.Add(resource);
    runRecord.Add(resource.Name, resource.Pid!.Value);
    if (options.Verbose)
    {
        _ = resource.FollowLogAsync(Console.WriteLine, followers.Token);
    }
}

void PrintSummary(LaunchConfiguration config, OpenClawServer? gateway)
{
    var rows = started.Select(r => (r.Name, r.State, r.Address, Pid: r.Pid?.ToString() ?? "-", Log: r.LogPath is { } log ? paths.Show(log) : "-")).ToList();
    var widths = new[]
    {
        rows.Max(r => r.Name.Length), rows.Max(r => r.State.Length), rows.Max(r => r.Address.Length), rows.Max(r => r.Pid.Length),
    }.Select(w => Math.Max(w, 8)).ToArray();
    Console.WriteLine();
    Console.WriteLine($"{"RESOURCE".PadRight(widths[0])}  {"STATE".PadRight(widths[1])}  {"ADDRESS".PadRight(widths[2])}  {"PID".PadRight(widths[3])}  LOG");
    foreach (var row in rows)
    {
        Console.WriteLine($"{row.Name.PadRight(widths[0])}  {row.State.PadRight(widths[1])}  {row.Address.PadRight(widths[2])}  {row.Pid.PadRight(widths[3])}  {row.Log}");
    }
    var edge = config.PublicUrl(LaunchConfiguration.Edge);
    Console.WriteLine();
    Console.WriteLine($"Mission Control is up at {edge}   (data: {(config.Postgres is null ? paths.Show(paths.Data) + " (SQLite)" : "PostgreSQL")})");
    Console.WriteLine($"Admin token ({config.AdminTokenSource}): {config.AdminToken}");
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

// Runs until Ctrl+C/SIGTERM; reports any child that exits on its own (the others keep running).
async Task WatchUntilStoppedAsync(CancellationToken ct)
{
    var watched = started.Where(r => r.Exited is not null).ToDictionary(r => (Task)r.Exited!);
    var stopped = Task.Delay(Timeout.Infinite, ct);
    while (true)
    {
        var done = await Task.WhenAny(watched.Keys.Append(stopped));
        if (done == stopped)
        {
            ct.ThrowIfCancellationRequested();
        }
        var resource = watched[done];
        watched.Remove(done);
        var code = Resource.DescribeExit(await resource.Exited!);
        resource.State = $"exited ({code})";
        Console.Error.WriteLine($"!! {resource.Name} exited unexpectedly with code {code}; last lines of {paths.Show(resource.LogPath!)}:");
        foreach (var line in resource.TailLog(20))
        {
            Console.Error.WriteLine($"  {line}");
        }
        Console.Error.WriteLine("   The rest keeps running; press Ctrl+C to stop everything and start again.");
    }
}

async Task StopAllAsync()
{
    for (var i = started.Count - 1; i >= 0; i--)
    {
        var resource = started[i];
        if (resource.Pid is null)
        {
            continue; // external
        }
        if (resource.Exited is not { IsCompleted: true })
        {
            Say($"{resource.Name}: stopping (pid {resource.Pid})");
        }
        await resource.StopAsync(); // also sweeps up anything an exited one left behind
    }
    followers.Cancel();
    runRecord.Clear();
    if (started.Count > 0)
    {
        Say("all stopped.");
    }
}

static void Say(string message) => Console.WriteLine($"[apphost] {message}");
