using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MissionControl.LocalServers;
using MissionControl.Testing;
using Xunit.Abstractions;

namespace MissionControl.EndToEnd.Tests;

// Alone: the whole system on two cores, and the comeback times are part of what is measured.
[CollectionDefinition(Collection, DisableParallelization = true)]
public sealed class AppHostCollection
{
    public const string Collection = "AppHost supervision";
}

/// <summary>
/// The real AppHost (its built dll, state in a temp dir): a service, the edge and the broker killed with
/// SIGKILL each come back by themselves, and a write accepted while the broker is down reaches the event
/// log once it is back (the outbox held it), once.
/// </summary>
[Collection(AppHostCollection.Collection)]
public sealed class AppHostSupervisionTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_killed_service_edge_and_broker_come_back_by_themselves_with_no_accepted_write_lost()
    {
        await using var host = await AppHostRun.StartAsync(output);
        try
        {
            using var admin = new HttpClient { BaseAddress = new Uri(host.Edge), Timeout = TimeSpan.FromSeconds(30) };
            admin.DefaultRequestHeaders.Authorization = new("Bearer", host.AdminToken);

            // The apps started while the broker booted, kept off its CPU (BootAffinity): now every thread of
            // theirs and of the broker's VM may run on every CPU again.
            var cpus = CpuAffinityProbe.AllowedCpus(Environment.ProcessId);
            foreach (var name in new[] { "orgs", "tasks", "agents", "gateway-bridge", "metrics", "edge" })
                Assert.Equal(cpus, CpuAffinityProbe.AllowedCpus(host.Resource(name).Pid));
            Assert.Equal(cpus, CpuAffinityProbe.AllowedCpus(host.BeamPid()));

            // a. Something to lose.
            var board = await EdgeSystem.BoardAsync(admin);
            var clock = Stopwatch.StartNew();
            var before = await EdgeSystem.CreateAsync(admin, $"/api/v1/boards/{board}/tasks", new { title = "before the kills" });
            output.WriteLine($"a task created in {clock.Elapsed.TotalSeconds:0.00} s with everything up");

            // b. A service.
            var tasksPid = host.Resource("tasks").Pid;
            var comeback = await host.KillAndWaitAsync("tasks", tasksPid);
            await EventuallyAsync(() => ListsAsync(admin, board, before), "the task listed through the edge after tasks came back");
            output.WriteLine($"tasks (pid {tasksPid}) killed: running again in {comeback.TotalSeconds:0.0} s, answering through the edge in {host.SinceKill.TotalSeconds:0.0} s");

            // c. The edge: the same port.
            var edgePid = host.Resource("edge").Pid;
            comeback = await host.KillAndWaitAsync("edge", edgePid);
            await EventuallyAsync(() => ListsAsync(admin, board, before), "requests through the edge after it came back");
            output.WriteLine($"edge (pid {edgePid}) killed: running again in {comeback.TotalSeconds:0.0} s, answering in {host.SinceKill.TotalSeconds:0.0} s");

            // d. The broker: its Erlang VM, not the launcher script state.json shows.
            var beam = host.BeamPid();
            var duringTask = Guid.Empty;
            comeback = await host.KillAndWaitAsync("rabbitmq", beam, afterKill: async () =>
            {
                // Accepted while the broker is down: the outbox holds its event.
                var post = Stopwatch.StartNew();
                var response = await admin.PostAsJsonAsync($"/api/v1/boards/{board}/tasks", new { title = "while the broker is down" });
                Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                duringTask = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
                output.WriteLine($"task created {host.SinceKill.TotalSeconds:0.0} s after the broker was killed (the POST took {post.Elapsed.TotalSeconds:0.0} s; rabbitmq: {host.Resource("rabbitmq").State})");
            });
            output.WriteLine($"rabbitmq (beam.smp pid {beam}) killed: running again in {comeback.TotalSeconds:0.0} s");

            List<JsonElement> logged = [];
            await EventuallyAsync(async () =>
            {
                logged = await EdgeSystem.EventsAsync(admin, "task.*");
                return logged.Any(e => e.GetProperty("type").GetString() == "task.created" && TaskOf(e) == duringTask);
            }, "task.created of the task accepted while the broker was down, in the event log", TimeSpan.FromSeconds(90));
            output.WriteLine($"its task.created reached the event log {host.SinceKill.TotalSeconds:0.0} s after the broker was killed");
            Assert.Contains(logged, e => e.GetProperty("type").GetString() == "task.created" && TaskOf(e) == before);
            var ours = logged.Where(e => TaskOf(e) == before || TaskOf(e) == duringTask).Select(e => e.GetProperty("id").GetGuid()).ToList();
            Assert.Equal(ours.Count, ours.Distinct().Count()); // delivered again after a reconnect, logged once
            Assert.True(await ListsAsync(admin, board, duringTask));

            // e. SIGTERM: the AppHost stops everything it started.
            Assert.Empty(await host.StopAsync());
        }
        catch
        {
            output.WriteLine(host.Tail(80));
            throw;
        }
    }

    private static async Task<bool> ListsAsync(HttpClient client, Guid board, Guid task)
    {
        try
        {
            using var response = await client.GetAsync($"/api/v1/boards/{board}/tasks");
            return response.IsSuccessStatusCode
                && (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("items").EnumerateArray().Any(t => t.GetProperty("id").GetGuid() == task);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    private static Guid? TaskOf(JsonElement e) =>
        e.TryGetProperty("task_id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetGuid() : null;

    private static async Task EventuallyAsync(Func<Task<bool>> condition, string what, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(60));
        while (!await SafeAsync(condition))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{what}: not true within {(within ?? TimeSpan.FromSeconds(60)).TotalSeconds} s");
            await Task.Delay(250);
        }
    }

    private static async Task<bool> SafeAsync(Func<Task<bool>> condition)
    {
        try { return await condition(); }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { return false; }
    }
}

/// <summary>One AppHost process with its own state dir, edge port and admin token.</summary>
internal sealed class AppHostRun : IAsyncDisposable
{
    private readonly ITestOutputHelper _output;
    private readonly LocalProcess _process;
    private readonly Stopwatch _sinceKill = new();
    private readonly HashSet<(int Pid, long Start)> _seen = [];
    private bool _stopped;

    private AppHostRun(ITestOutputHelper output, LocalProcess process, string stateDir, int port, string token)
    {
        (_output, _process, StateDir, AdminToken) = (output, process, stateDir, token);
        Edge = $"http://127.0.0.1:{port}";
    }

    public string StateDir { get; }
    public string Edge { get; }
    public string AdminToken { get; }
    public TimeSpan SinceKill => _sinceKill.Elapsed;

    /// <param name="args">More AppHost flags (--postgres, --replicas 2, …).</param>
    /// <param name="environment">More (or overriding) environment entries for the AppHost and so every process it starts.</param>
    /// <param name="resources">How many rows state.json must show running: rabbitmq, 5 services and the edge by default.</param>
    public static async Task<AppHostRun> StartAsync(ITestOutputHelper output, string[]? args = null,
        IReadOnlyDictionary<string, string?>? environment = null, int resources = 7, TimeSpan? startup = null)
    {
        // Tests run from artifacts/bin/<test project>/<configuration>/; the AppHost and services sit beside it.
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/')).Name;
        var dll = SystemProcesses.DllPath("MissionControl.AppHost");
        var repo = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", ".."));
        // RabbitMQ runs as its own user: it must reach the state dir (CreateTempSubdirectory makes it 0700).
        var stateDir = Directory.CreateTempSubdirectory("mc-apphost-").FullName;
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(stateDir, (UnixFileMode)0b111_101_101);
        var port = FreePort.Next();
        var token = "mc_admin_" + Guid.NewGuid().ToString("N");
        string[] flags = configuration == "debug" ? ["--no-build", "--debug", "--port", $"{port}"] : ["--no-build", "--port", $"{port}"];
        var env = new Dictionary<string, string?>
        {
            ["MC_STATE_DIR"] = stateDir,
            ["MC_ADMIN_TOKEN"] = token,
            ["MC_EDGE_PORT"] = null,
            ["ConnectionStrings__messaging"] = null, // its own broker, which this test kills
            // The test polls the edge while things come back: more than the default 100 requests/min.
            ["RateLimiting__PerMinute"] = "0",
            ["RateLimiting__AuthFailuresPerMinute"] = "0",
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string?>()) env[key] = value;
        var process = LocalProcess.Start(new LocalProcessStartInfo(
            "apphost", "dotnet", [dll, .. flags, .. args ?? []], Path.Combine(Path.GetTempPath(), $"{Path.GetFileName(stateDir)}.log"))
        {
            WorkingDirectory = repo,
            Environment = env,
        });
        var run = new AppHostRun(output, process, stateDir, port, token);
        var clock = Stopwatch.StartNew();
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            await UntilAsync(async () =>
            {
                if (process.HasExited) throw new InvalidOperationException($"the AppHost exited with code {await process.Exited}");
                var state = run.State();
                return state is not null && state.Value.GetProperty("resources").GetArrayLength() == resources
                    && state.Value.GetProperty("resources").EnumerateArray().All(r => r.GetProperty("state").GetString() == "running")
                    && (await http.GetAsync($"{run.Edge}/health")).StatusCode == HttpStatusCode.OK;
            }, startup ?? TimeSpan.FromSeconds(120), $"the AppHost: {resources} resources running and the edge healthy");
        }
        catch
        {
            output.WriteLine(run.Tail(80));
            await run.DisposeAsync();
            throw;
        }
        output.WriteLine($"system healthy in {clock.Elapsed.TotalSeconds:0.0} s (AppHost start to edge /health, state dir {stateDir})");
        return run;
    }

    /// <summary>The resource's row in state.json.</summary>
    public (string State, int Pid, int Restarts) Resource(string name)
    {
        var row = State()!.Value.GetProperty("resources").EnumerateArray().Single(r => r.GetProperty("name").GetString() == name);
        return (row.GetProperty("state").GetString()!, row.GetProperty("pid") is { ValueKind: JsonValueKind.Number } pid ? pid.GetInt32() : 0,
            row.GetProperty("restarts").GetInt32());
    }

    /// <summary>
    /// The broker's Erlang VM: state.json has the rabbitmq-server script's pid, and the VM (which the
    /// supervisor watches) runs under it.
    /// </summary>
    public int BeamPid()
    {
        var script = Resource("rabbitmq").Pid;
        var beam = ProcessTree.Descendants(script).FirstOrDefault(pid => ProcessTree.Name(pid) == "beam.smp");
        Assert.True(beam > 0, $"no beam.smp under the rabbitmq pid {script}");
        return beam;
    }

    /// <summary>
    /// SIGKILL to <paramref name="pid"/>, then (optionally) <paramref name="afterKill"/> at once, then waits
    /// until state.json shows <paramref name="name"/> running again with a new pid; the time that took.
    /// Several may run at once (for different resources); <see cref="SinceKill"/> is then since the latest.
    /// </summary>
    public async Task<TimeSpan> KillAndWaitAsync(string name, int pid, Func<Task>? afterKill = null)
    {
        var before = Resource(name);
        Remember();
        var clock = Stopwatch.StartNew();
        _sinceKill.Restart();
        Assert.True(ProcessTree.Signal(pid, ProcessTree.SIGKILL), $"kill -9 {pid} ({name})");
        await UntilAsync(() => Task.FromResult(!ProcessTree.IsAlive(pid)), TimeSpan.FromSeconds(10), $"{name} pid {pid} gone");
        if (afterKill is not null) await afterKill();
        await UntilAsync(() =>
        {
            var now = Resource(name);
            return Task.FromResult(now.State == "running" && now.Restarts > before.Restarts && now.Pid != before.Pid && now.Pid > 0);
        }, TimeSpan.FromSeconds(90), $"{name} running again after kill -9");
        Remember();
        return clock.Elapsed;
    }

    /// <summary>SIGTERM, then waits for the AppHost to stop its children; returns what it left running (then killed).</summary>
    public async Task<List<string>> StopAsync()
    {
        if (_stopped) return [];
        _stopped = true;
        Remember();
        var clock = Stopwatch.StartNew();
        ProcessTree.Signal(_process.Pid, ProcessTree.SIGTERM);
        if (await Task.WhenAny(_process.Exited, Task.Delay(TimeSpan.FromSeconds(60))) != _process.Exited)
        {
            _output.WriteLine("the AppHost did not exit within 60 s of SIGTERM");
        }
        await _process.StopAsync(TimeSpan.Zero, ProcessTree.SIGKILL);
        _output.WriteLine($"AppHost stopped in {clock.Elapsed.TotalSeconds:0.0} s (exit code {await _process.Exited}); {_seen.Count} processes it started checked");
        var left = _seen.Where(p => ProcessTree.IsAlive(p.Pid) && ProcessTree.StartTime(p.Pid) == p.Start).ToList();
        foreach (var (pid, _) in left) await ProcessTree.TerminateAsync(pid, TimeSpan.Zero, ProcessTree.SIGKILL);
        return left.Select(p => $"{p.Pid} {ProcessTree.Name(p.Pid)}").ToList();
    }

    /// <summary>Lines containing <paramref name="text"/> in the logs of the resources whose names start with <paramref name="prefix"/>.</summary>
    public IEnumerable<string> LogLines(string prefix, string text) =>
        Directory.EnumerateFiles(Path.Combine(StateDir, "logs"), $"{prefix}*.log").Order()
            .SelectMany(log => File.ReadLines(log).Where(l => l.Contains(text)).Select(l => $"{Path.GetFileNameWithoutExtension(log)}: {l.Trim()}"));

    /// <summary>The last lines the AppHost printed.</summary>
    public string Tail(int lines) => $"--- AppHost output (last {lines} lines) ---\n{string.Join("\n", _process.TailLog(lines))}";

    public async ValueTask DisposeAsync()
    {
        foreach (var leftover in await StopAsync()) _output.WriteLine($"left running, killed: {leftover}");
        try { Directory.Delete(StateDir, recursive: true); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        try { File.Delete(_process.LogPath); } catch (IOException) { }
    }

    private JsonElement? State()
    {
        try { return JsonDocument.Parse(File.ReadAllText(Path.Combine(StateDir, "state.json"))).RootElement; }
        catch (Exception e) when (e is IOException or JsonException) { return null; }
    }

    /// <summary>Every process the AppHost started so far (apphost.pids, and what runs under them), to check none is left.</summary>
    private void Remember()
    {
        var record = Path.Combine(StateDir, "apphost.pids");
        string[] lines;
        try { lines = File.Exists(record) ? File.ReadAllLines(record) : []; } catch (IOException) { return; }
        lock (_seen) // kills may run at once (ReplicasUnderLoadTests)
        {
            foreach (var line in lines)
            {
                if (line.Split(' ') is not [var name, var text, _] || name == "apphost" || !int.TryParse(text, out var pid)) continue;
                foreach (var p in ProcessTree.Descendants(pid).Prepend(pid))
                {
                    if (ProcessTree.StartTime(p) is { } start) _seen.Add((p, start));
                }
            }
        }
    }

    private static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan within, string what)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            try
            {
                if (await condition()) return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException) { }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{what}: not within {within.TotalSeconds:0} s");
            await Task.Delay(200);
        }
    }
}
