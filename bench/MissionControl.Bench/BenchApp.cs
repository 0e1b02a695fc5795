using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;

namespace MissionControl.Bench;

/// <summary>Runs the phases in order and prints the results and the summary.</summary>
internal static class BenchApp
{
    private static readonly int[] Concurrencies = [16, 64];
    private const double IdleAfterStartSeconds = 90;

    // Between steps: quiet means under 0.15 cores busy (the system, not the bench) over a quarter second,
    // waited for up to 20 s.
    private static readonly TimeSpan QuietWindow = TimeSpan.FromMilliseconds(250);
    private const double QuietCores = 0.15;
    private static readonly TimeSpan QuietMax = TimeSpan.FromSeconds(20);

    /// <summary>The warm-up goes on in slices of this length until one sees the services' JIT use at most <see cref="JitQuietSeconds"/>, within <see cref="MaxWarmup"/>.</summary>
    private static readonly TimeSpan JitSlice = TimeSpan.FromSeconds(5);
    private const double JitQuietSeconds = 0.15;
    private static readonly TimeSpan MaxWarmup = TimeSpan.FromSeconds(120);

    public static async Task<int> RunAsync(string[] args)
    {
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

        BenchOptions? options = BenchOptions.Parse(args, out string? error);
        if (options is null)
        {
            Console.Error.WriteLine($"bench: {error} (see --help)");
            return 1;
        }

        if (options.ShowHelp)
        {
            Console.WriteLine(BenchOptions.Usage);
            return 0;
        }

        // With only the fanout phase to run (no closed-loop load whose figures this would change), socket completions
        // run inline on the runtime's epoll thread instead of a thread-pool hop per frame: fewer context switches, and
        // the bench's frame reading stays on one core, leaving the other to the edge. Must be set before any socket.
        const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";
        bool inline = options.Runs("fanout") && options.Phases.All(p => p is "fanout" or "memory")
            && Environment.GetEnvironmentVariable(InlineCompletions) is null;
        if (inline)
        {
            Environment.SetEnvironmentVariable(InlineCompletions, "1");
        }

        string runId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
        var duration = TimeSpan.FromSeconds(options.DurationSeconds);
        var report = new Report();

        Console.WriteLine("Mission Control bench");
        Console.WriteLine($"  target    {options.BaseUri}");
        Console.WriteLine($"  phases    {string.Join(',', BenchOptions.AllPhases.Where(options.Runs))}");
        Console.WriteLine($"  duration  {options.DurationSeconds} s per step, concurrency {string.Join(" and ", Concurrencies)}; events {options.Events}");
        if (options.Runs("fanout"))
        {
            Console.WriteLine($"  fanout    {options.Clients} SSE clients (batches of {options.ConnectBatch}), {options.FanoutEvents} tasks" +
                (inline ? $"; {InlineCompletions}=1" : ""));
        }

        if (options.Runs("webhooks"))
        {
            Console.WriteLine($"  webhooks  {options.WebhookEvents} tasks");
        }

        Console.WriteLine($"  token     {(options.Token is null ? "none found (requests go without Authorization)" : "from " + options.TokenSource)}");
        Console.WriteLine($"  run id    {runId}  (bench pid {Environment.ProcessId}, {Environment.ProcessorCount} cores)");

        using var api = new MissionControlApi(options.BaseUri, options.Token);
        var total = Stopwatch.StartNew();
        int exitCode = 0;
        try
        {
            Progress("checking that the system answers");
            string rateLimit = await api.EnsureReachableAsync().ConfigureAwait(false);
            Console.WriteLine($"  {options.BaseUri} answers; {rateLimit}");

            if (options.Runs("memory"))
            {
                Progress($"memory, idle (before any load; processes from {options.PidsSource})");
                report.IdleMemory = ProcessMemory.Measure("idle", options.Pids);
                // The services give back their start-up memory 20 s after they start and collect again every
                // 30 s while quiet (ServiceDefaults' MemoryTrimmer). Idle means a minute past the first release,
                // when the idle allocation between collections is counted too (measured at 25 s, the figure
                // was 20-60 MB below a system that had idled for minutes), so a run right after a start waits.
                double youngest = report.IdleMemory.Processes.Select(p => ProcessMemory.AgeSeconds(p.Pid) ?? double.MaxValue).DefaultIfEmpty(double.MaxValue).Min();
                if (youngest < IdleAfterStartSeconds)
                {
                    int wait = (int)Math.Ceiling(IdleAfterStartSeconds - youngest);
                    Console.WriteLine($"  the youngest process started {youngest:0} s ago; waiting {wait} s for the start-up memory release");
                    await Task.Delay(TimeSpan.FromSeconds(wait)).ConfigureAwait(false);
                    report.IdleMemory = ProcessMemory.Measure("idle", options.Pids);
                }
                Report.PrintMemory(report.IdleMemory);
            }

            if (options.NeedsBoard)
            {
                Progress("setup: organization and board");
                (string orgId, string orgName, string boardId) = await api.SetupAsync(runId).ConfigureAwait(false);
                Console.WriteLine($"  organization {orgId}  ({orgName})");
                Console.WriteLine($"  board        {boardId}");

                var runner = new LoadRunner(api, runId, options.TraceDir);
                HostProbe.Warm();
                var cpu = new ProcessCpu(report.IdleMemory ?? ProcessMemory.Measure("cpu", options.Pids));
                // The next step starts on a quiet system, and this one's left-over work is shown with it.
                async Task<LoadResult> SettledAsync(LoadResult r) =>
                    cpu.IsEmpty ? r : r with { CpuAfter = await cpu.UntilQuietAsync(QuietWindow, QuietCores, QuietMax).ConfigureAwait(false) };
                async Task StepAsync(string name, LoadOp op, int concurrency)
                {
                    HostProbe.Result host = HostProbe.Run();
                    Func<CpuUse>? measured = cpu.IsEmpty ? null : cpu.Start();
                    LoadResult r = await runner.RunAsync(name, op, concurrency, duration).ConfigureAwait(false);
                    r = await SettledAsync(r with { Cpu = measured?.Invoke(), Host = host }).ConfigureAwait(false);
                    Report.PrintLoad(r);
                    report.Load.Add(r);
                }

                if (options.WarmupSeconds > 0)
                {
                    int warmupConcurrency = Concurrencies.Max();
                    Progress($"warm-up: {options.WarmupSeconds:0.#} s of mixed create/list at concurrency {warmupConcurrency}");
                    // The services recompile their hot methods optimized (tiered compilation) for a while after they
                    // start, the idle ones too; on two cores that JIT work takes CPU from the steps. The warm-up's last
                    // slice measures it, and the warm-up goes on, a slice at a time, until a slice sees almost none.
                    double first = Math.Max(options.WarmupSeconds - JitSlice.TotalSeconds, 0);
                    LoadResult? warm = null;
                    if (first > 0)
                    {
                        warm = await runner.RunAsync(LoadRunner.WarmupName, LoadOp.Mixed, warmupConcurrency, TimeSpan.FromSeconds(first)).ConfigureAwait(false);
                        Report.PrintLoad(warm);
                        if (warm.Ok == 0)
                        {
                            Console.WriteLine("  warning: no request succeeded during warm-up; the measurements below will show why");
                        }
                    }
                    double warmed = first;
                    double jitSeconds;
                    do
                    {
                        var before = cpu.JitSince(null).Reading;
                        LoadResult slice = warm = await runner.RunAsync(LoadRunner.WarmupName, LoadOp.Mixed, warmupConcurrency, JitSlice).ConfigureAwait(false);
                        warmed += JitSlice.TotalSeconds;
                        jitSeconds = cpu.JitSince(before).Seconds;
                        Console.WriteLine($"  warm-up to {warmed:0} s: {slice.RequestsPerSecond:#,0.0} req/s; the services' JIT used {jitSeconds:0.00} s of CPU in the last {JitSlice.TotalSeconds:0} s (at least: an idle compilation thread ends, and its time goes with it)");
                    } while (!cpu.IsEmpty && jitSeconds > JitQuietSeconds && warmed < MaxWarmup.TotalSeconds);
                    if (jitSeconds > JitQuietSeconds) Console.WriteLine($"  warning: the services' JIT had not settled after {warmed:0} s of warm-up");
                    await SettledAsync(warm).ConfigureAwait(false);
                }

                if (options.Runs("create"))
                {
                    foreach (int c in Concurrencies)
                    {
                        Progress($"task create through the edge: POST /api/v1/boards/{{id}}/tasks, concurrency {c}, {options.DurationSeconds} s");
                        await StepAsync("create", LoadOp.Create, c).ConfigureAwait(false);
                    }
                }

                if (options.Runs("list"))
                {
                    foreach (int c in Concurrencies)
                    {
                        Progress($"task list through the edge: GET /api/v1/boards/{{id}}/tasks?limit=50, concurrency {c}, {options.DurationSeconds} s");
                        await StepAsync("list", LoadOp.List, c).ConfigureAwait(false);
                    }
                }

                if (options.Runs("status"))
                {
                    foreach (int c in Concurrencies)
                    {
                        Progress($"task status change through the edge: PATCH /api/v1/boards/{{id}}/tasks/{{task}} inbox <-> in_progress, concurrency {c}, {options.DurationSeconds} s");
                        await StepAsync("status", LoadOp.StatusChange, c).ConfigureAwait(false);
                    }
                }

                if (options.Runs("events"))
                {
                    Progress($"event latency: SSE /api/v1/boards/{{id}}/tasks/stream, {options.Events} tasks created one at a time");
                    report.Events = await new EventLatencyBench(api, runId, options.Events, options.EventWarmup, EventSource.Create, options.EventGapMs).RunAsync().ConfigureAwait(false);
                    Report.PrintEvents(report.Events);
                }

                if (options.Runs("status-events"))
                {
                    Progress($"status change latency: SSE /api/v1/boards/{{id}}/tasks/stream, {options.Events} PATCHes of one task, one at a time");
                    report.StatusEvents = await new EventLatencyBench(api, runId, options.Events, options.EventWarmup, EventSource.StatusChange, options.EventGapMs).RunAsync().ConfigureAwait(false);
                    Report.PrintEvents(report.StatusEvents);
                }

                if (options.Runs("fanout"))
                {
                    Progress($"SSE fanout: {options.Clients} clients on /api/v1/boards/{{id}}/tasks/stream, {options.FanoutEvents} tasks at about 5/s");
                    report.Fanout = await new FanoutBench(api, options, runId).RunAsync().ConfigureAwait(false);
                    Report.PrintFanout(report.Fanout);
                }

                if (options.Runs("webhooks"))
                {
                    Progress($"webhook delivery latency: POST /api/v1/webhooks (task.created) to a receiver in the bench, {options.WebhookEvents} tasks created one at a time");
                    try
                    {
                        report.Webhooks = await new WebhookBench(api, runId, options.WebhookEvents, options.EventWarmup).RunAsync().ConfigureAwait(false);
                        Report.PrintWebhooks(report.Webhooks);
                    }
                    catch (SetupException ex)
                    {
                        // The other phases' figures still make the summary; the run ends with exit code 3.
                        Console.Out.Flush();
                        Console.Error.WriteLine($"bench: ERROR: webhooks: {ex.Message}");
                        exitCode = 3;
                    }
                }
            }

            if (options.Runs("memory") && options.NeedsBoard)
            {
                Progress("memory, after load (the processes of the idle snapshot)");
                report.AfterMemory = report.IdleMemory is { } idle
                    ? ProcessMemory.MeasureAgain("after load", idle, options.Pids)
                    : ProcessMemory.Measure("after load", options.Pids);
                Report.PrintMemory(report.AfterMemory);
            }
        }
        catch (UnreachableException ex)
        {
            Console.Out.Flush();
            Console.Error.WriteLine($"bench: ERROR: {ex.Message}");
            return 2;
        }
        catch (SetupException ex)
        {
            Console.Out.Flush();
            Console.Error.WriteLine($"bench: ERROR: {ex.Message}");
            return 3;
        }

        report.PrintSummary(options, total.Elapsed);
        return exitCode;
    }

    private static void Progress(string message) =>
        Console.WriteLine($"{Environment.NewLine}[{DateTime.Now:HH:mm:ss}] {message}");
}
