using System.Globalization;
using System.Text;

namespace MissionControl.Bench;

/// <summary>Collects the figures of a run and prints them, with the targets, at the end.
/// Numbers are formatted with the invariant culture (InvariantGlobalization is on, and BenchApp sets it).</summary>
internal sealed class Report
{
    // Targets of the system under test.
    private const double CreateRpsTarget = 2_000;
    private const double ListRpsTarget = 1_500;
    private const double P99AtC64TargetMs = 25;
    private const double EventP50TargetMs = 5;
    private const double EventP99TargetMs = 10;
    private const double IdlePssTargetMb = 500;

    public List<LoadResult> Load { get; } = [];

    public EventResult? Events { get; set; }

    public EventResult? StatusEvents { get; set; }

    public FanoutResult? Fanout { get; set; }

    public WebhookResult? Webhooks { get; set; }

    public MemorySnapshot? IdleMemory { get; set; }

    public MemorySnapshot? AfterMemory { get; set; }

    public static void PrintLoad(LoadResult r)
    {
        LatencyHistogram h = r.Histogram;
        Console.WriteLine(
            $"  {r.Name} c={r.Concurrency}: {r.RequestsPerSecond,9:N1} req/s  ({r.Ok:N0} ok in {r.ElapsedSeconds:0.00} s)  " +
            $"p50 {Ms(h.PercentileMs(50))}  p90 {Ms(h.PercentileMs(90))}  p99 {Ms(h.PercentileMs(99))}  max {Ms(h.MaxMs)} ms  " +
            $"non-2xx {r.Non2xx:N0}  errors {r.Errors:N0}");
        if (r.Cpu is { } cpu)
        {
            Console.WriteLine($"  cpu per request: {cpu.PerRequest(r.Ok)}");
        }
        if (r.Host is { } host)
        {
            Console.WriteLine($"  {host}");
        }
        if (r.CpuAfter is { } after)
        {
            Console.WriteLine($"  after the step: quiet in {after.WallSeconds:0.0} s; left-over work {after.PerRequest(r.Ok)}");
        }

        if (r.FirstError is not null)
        {
            Console.WriteLine($"  first error: {r.FirstError}");
        }
    }

    public static void PrintEvents(EventResult e)
    {
        Console.WriteLine(
            $"  received {e.Received} of {e.Sent} sent ({e.Requested} requested) within 5 s; missing {e.Missing}" +
            (e.Late > 0 ? $" ({e.Late} arrived late)" : "") +
            (e.PostFailures > 0 ? $"; {e.PostFailures} POSTs failed" : ""));
        if (e.LatenciesMs.Length > 0)
        {
            Console.WriteLine(
                $"  latency p50 {Ms(e.Percentile(50))}  p90 {Ms(e.Percentile(90))}  p99 {Ms(e.Percentile(99))}  max {Ms(e.Max)} ms");
        }

        if (e.Stages is { } st)
        {
            static string Stage(double[] v) => $"p50 {Ms(Percentiles.Of(v, 50))}  p99 {Ms(Percentiles.Of(v, 99))}";
            Console.WriteLine(
                $"  by the event's own stamps ({st.ToStampedMs.Length} events): request start -> stamped in tasks {Stage(st.ToStampedMs)}; " +
                $"stamped -> its log batch started in metrics {Stage(st.StampedToLoggedMs)}; batch started -> frame parsed {Stage(st.LoggedToFrameMs)} ms");
        }

        Console.WriteLine($"  stream: {e.Heartbeats} heartbeats, {e.Duplicates} duplicate and {e.Unmatched} unmatched task events");
        if (e.MissingSamples.Count > 0)
        {
            Console.WriteLine($"  missing: {string.Join(", ", e.MissingSamples)}{(e.Missing > e.MissingSamples.Count ? ", …" : "")}");
        }

        if (e.Aborted is not null)
        {
            Console.WriteLine($"  stopped early: {e.Aborted}");
        }

        if (e.FirstError is not null && e.FirstError != e.Aborted)
        {
            Console.WriteLine($"  first error: {e.FirstError}");
        }
    }

    public static void PrintFanout(FanoutResult f)
    {
        Console.WriteLine(
            $"  connected {f.Connected:N0} of {f.ClientsRequested:N0} clients in {f.ConnectSeconds:0.0} s" +
            $" (each: p50 {Ms(f.ConnectP50Ms)}  p99 {Ms(f.ConnectP99Ms)}  max {Ms(f.ConnectMaxMs)} ms); {f.ConnectFailures:N0} failed");
        if (f.FirstConnectError is not null)
        {
            Console.WriteLine($"  first connect failure: {f.FirstConnectError}");
        }

        if (f.ProbeMs is { } probe)
        {
            Console.WriteLine($"  probe task (not measured) reached {f.ProbeReached:N0} clients, the last after {probe:0.0} ms");
        }

        Console.WriteLine(
            $"  delivered {f.Delivered:N0} of {f.Expected:N0} expected ({f.EventsPosted} tasks × {f.Connected:N0} clients) within 10 s; missing {f.Missing:N0}" +
            (f.Late > 0 ? $" ({f.Late:N0} arrived late)" : "") +
            (f.PostFailures > 0 ? $"; {f.PostFailures} POSTs failed" : ""));
        if (f.LatenciesMs.Length > 0)
        {
            Console.WriteLine(
                $"  latency, every delivery: p50 {Ms(f.Percentile(50))}  p95 {Ms(f.Percentile(95))}  p99 {Ms(f.Percentile(99))}  max {Ms(f.Max)} ms");
        }

        if (f.AllClientsMs.Length > 0)
        {
            Console.WriteLine(
                $"  until the last client had a task ({f.AllClientsMs.Length} tasks reached everyone): p50 {Ms(Percentiles.Of(f.AllClientsMs, 50))}  max {Ms(f.AllClientsMs[^1])} ms");
        }

        Console.WriteLine($"  streams: {f.Dropped:N0} dropped by the edge{(f.FirstDropReason is null ? "" : $" (first: {f.FirstDropReason})")}, {f.Duplicates:N0} duplicate and {f.Unmatched:N0} unmatched task.created frames");
        Console.WriteLine(
            $"  CPU during the tasks ({f.EventSeconds:0.0} s): bench {Pct(f.BenchCpuPercent)}, edge {Pct(f.EdgeCpuPercent)} of one core; bench RSS with all connected {f.BenchRssMb:N1} MB");
        if (f.EdgePid is null)
        {
            Console.WriteLine($"  edge memory: not measured ({f.EdgeNote})");
        }
        else
        {
            Console.WriteLine($"  edge (pid {f.EdgePid}) memory from /proc/{f.EdgePid}/smaps_rollup:");
            Console.WriteLine($"  {"RSS MB",9}  {"PSS MB",9}  when");
            foreach (EdgeMemoryPoint m in f.Memory)
            {
                Console.WriteLine($"  {m.RssKb / 1024.0,9:N1}  {m.PssKb / 1024.0,9:N1}  {m.Label}");
            }

            if (f.Memory.Count >= 2 && f.Connected > 0)
            {
                double perClientKb = (f.Memory[1].RssKb - f.Memory[0].RssKb) / (double)f.Connected;
                Console.WriteLine($"  edge RSS grew {perClientKb:N1} kB per connected client (an edge that held as many clients before keeps its heap: near 0)");
            }
        }

        if (f.Aborted is not null)
        {
            Console.WriteLine($"  stopped early: {f.Aborted}");
        }

        if (f.FirstPostError is not null)
        {
            Console.WriteLine($"  first error: {f.FirstPostError}");
        }
    }

    public static void PrintWebhooks(WebhookResult w)
    {
        Console.WriteLine(
            $"  received {w.Received} of {w.Sent} sent ({w.Requested} requested) within 10 s; missing {w.Missing}" +
            (w.Late > 0 ? $" ({w.Late} arrived late)" : "") +
            (w.PostFailures > 0 ? $"; {w.PostFailures} POSTs failed" : ""));
        if (w.LatenciesMs.Length > 0)
        {
            Console.WriteLine(
                $"  latency p50 {Ms(w.Percentile(50))}  p95 {Ms(w.Percentile(95))}  p99 {Ms(w.Percentile(99))}  max {Ms(w.Max)} ms");
        }

        Console.WriteLine(
            $"  deliveries {w.Deliveries:N0}: bad signatures {w.BadSignatures}, timestamps off by > 5 min {w.StaleTimestamps}, " +
            $"X-MC-Event not matching the body or X-MC-Delivery missing {w.HeaderMismatches}, redeliveries {w.Duplicates}, unmatched {w.Unmatched}");
        if (w.FirstBadSignature is not null)
        {
            Console.WriteLine($"  first bad signature: {w.FirstBadSignature}");
        }

        Console.WriteLine($"  webhook {w.WebhookId}: {w.DeleteOutcome}");
        if (w.Aborted is not null)
        {
            Console.WriteLine($"  stopped early: {w.Aborted}");
        }

        if (w.FirstError is not null)
        {
            Console.WriteLine($"  first error: {w.FirstError}");
        }
    }

    public static void PrintMemory(MemorySnapshot m)
    {
        foreach (string note in m.Notes)
        {
            Console.WriteLine($"  note: {note}");
        }

        if (m.Processes.Count == 0)
        {
            Console.WriteLine("  no Mission Control, broker or store processes found (give them with --pids FILE)");
            return;
        }

        Console.WriteLine($"  {"pid",8}  {"RSS MB",9}  {"PSS MB",9}  process");
        foreach (ProcessRss p in m.Processes)
        {
            Console.WriteLine($"  {p.Pid,8}  {p.RssKb / 1024.0,9:N1}  {p.PssKb / 1024.0,9:N1}  {p.Name}");
        }

        Console.WriteLine($"  {"total",8}  {m.TotalMb,9:N1}  {m.TotalPssMb,9:N1}  ({Processes(m.Processes.Count)}, {m.Label})");
    }

    public void PrintSummary(BenchOptions options, TimeSpan elapsed)
    {
        Console.WriteLine();
        Console.WriteLine($"==================== Summary (run took {elapsed.TotalSeconds:0} s) ====================");

        if (Load.Count > 0)
        {
            Console.WriteLine($"Load through the edge at {options.BaseUri} ({options.DurationSeconds} s per step, closed loop, 2xx only):");
            Console.WriteLine($"  {"step",-12}{"conc",5}{"req/s",11}{"p50 ms",9}{"p90 ms",9}{"p99 ms",9}{"max ms",9}{"non-2xx",9}{"errors",8}{"cpu ms/req",12}{"host ms",9}");
            foreach (LoadResult r in Load)
            {
                LatencyHistogram h = r.Histogram;
                Console.WriteLine(
                    $"  {"task " + r.Name,-12}{r.Concurrency,5}{r.RequestsPerSecond,11:N1}{Ms(h.PercentileMs(50)),9}{Ms(h.PercentileMs(90)),9}" +
                    $"{Ms(h.PercentileMs(99)),9}{Ms(h.MaxMs),9}{r.Non2xx,9:N0}{r.Errors,8:N0}" +
                    $"{r.Cpu?.TotalPerRequest(r.Ok) ?? "-",12}{(r.Host is { } host ? host.WakeupsMs.ToString("0.0") : "-"),9}");
            }
        }

        foreach ((string what, EventResult? result) in new[] { ("POST start -> task.created", Events), ("PATCH start -> task.status_changed", StatusEvents) })
        {
            if (result is { } e)
            {
                Console.WriteLine(
                    $"Event latency ({what} SSE frame parsed): received {e.Received}/{e.Sent}, missing {e.Missing}; " +
                    $"p50 {Ms(e.Percentile(50))}  p90 {Ms(e.Percentile(90))}  p99 {Ms(e.Percentile(99))}  max {Ms(e.Max)} ms" +
                    $" (of which the request's own answer: p50 {Ms(e.AnsweredPercentile(50))}  p99 {Ms(e.AnsweredPercentile(99))} ms)");
            }
        }

        if (Fanout is { } f)
        {
            string edge = f.Memory.Count >= 2
                ? $"; edge RSS {f.Memory[0].RssKb / 1024.0:N1} -> {f.Memory[1].RssKb / 1024.0:N1} MB connected -> {f.Memory[^1].RssKb / 1024.0:N1} MB after (PSS {f.Memory[0].PssKb / 1024.0:N1} -> {f.Memory[1].PssKb / 1024.0:N1} -> {f.Memory[^1].PssKb / 1024.0:N1})"
                : "";
            Console.WriteLine(
                $"SSE fanout ({f.Connected:N0}/{f.ClientsRequested:N0} clients, POST start -> frame parsed by each): delivered {f.Delivered:N0}/{f.Expected:N0}, missing {f.Missing:N0}; " +
                $"p50 {Ms(f.Percentile(50))}  p95 {Ms(f.Percentile(95))}  p99 {Ms(f.Percentile(99))}  max {Ms(f.Max)} ms; connect {f.ConnectSeconds:0.0} s{edge}");
        }

        if (Webhooks is { } w)
        {
            Console.WriteLine(
                $"Webhooks (POST start -> delivery read by the receiver): received {w.Received}/{w.Sent}, missing {w.Missing}, bad signatures {w.BadSignatures}; " +
                $"p50 {Ms(w.Percentile(50))}  p95 {Ms(w.Percentile(95))}  p99 {Ms(w.Percentile(99))}  max {Ms(w.Max)} ms");
        }

        if (IdleMemory is { } idle)
        {
            Console.WriteLine(
                $"Memory (VmRSS): idle {idle.TotalMb:N1} MB (PSS {idle.TotalPssMb:N1} MB) in {Processes(idle.Processes.Count)}" +
                (AfterMemory is { } after ? $"; after load {after.TotalMb:N1} MB in {Processes(after.Processes.Count)}" : ""));
        }

        var rows = new List<(string Metric, string Value, string Target, string Result)>();
        if (options.Runs("create"))
        {
            AddThroughput(rows, "create", 16, CreateRpsTarget);
            AddP99(rows, "create", 64);
        }

        if (options.Runs("list"))
        {
            AddThroughput(rows, "list", 16, ListRpsTarget);
            AddP99(rows, "list", 64);
        }

        if (options.Runs("status"))
        {
            AddP99(rows, "status", 64);
        }

        if (options.Runs("events"))
        {
            AddEventRows(rows, "create -> SSE", Events, options.Events);
        }

        if (options.Runs("status-events"))
        {
            AddEventRows(rows, "PATCH -> SSE", StatusEvents, options.Events);
        }

        if (options.Runs("fanout"))
        {
            if (Fanout is { } fan)
            {
                rows.Add(($"fanout {fan.ClientsRequested} clients connected", $"{fan.Connected}/{fan.ClientsRequested}", "all", Verdict(fan.Connected == fan.ClientsRequested)));
                rows.Add(("fanout deliveries", $"{fan.Delivered}/{fan.Expected}", "all within 10 s", Verdict(fan.Expected > 0 && fan.Missing == 0)));
                rows.Add(("fanout p99", fan.LatenciesMs.Length > 0 ? $"{fan.Percentile(99):0.00} ms" : "no events", "reported", "INFO"));
            }
            else
            {
                rows.Add(("fanout", "not run", "", "N/A"));
            }
        }

        if (options.Runs("webhooks"))
        {
            if (Webhooks is { } hooks)
            {
                rows.Add(("webhook bad signatures", hooks.BadSignatures.ToString(CultureInfo.InvariantCulture), "0", Verdict(hooks.BadSignatures == 0 && hooks.Deliveries > 0)));
                rows.Add(("webhook deliveries", $"{hooks.Received}/{hooks.Requested}", "all within 10 s", Verdict(hooks.Received == hooks.Requested)));
                rows.Add(("webhook p99", hooks.LatenciesMs.Length > 0 ? $"{hooks.Percentile(99):0.00} ms" : "no deliveries", "reported", "INFO"));
            }
            else
            {
                rows.Add(("webhooks", "not measured", "", "N/A"));
            }
        }

        if (options.Runs("memory"))
        {
            if (IdleMemory is { Processes.Count: > 0 } idleMem)
            {
                rows.Add(($"idle PSS ({Processes(idleMem.Processes.Count)})", $"{idleMem.TotalPssMb:N1} MB", $"<= {IdlePssTargetMb} MB", Verdict(idleMem.TotalPssMb <= IdlePssTargetMb)));
                rows.Add(("idle RSS (beside PSS)", $"{idleMem.TotalMb:N1} MB", "reported", "INFO"));
            }
            else
            {
                rows.Add(("idle PSS", "no processes", $"<= {IdlePssTargetMb} MB", "N/A"));
            }
        }

        Console.WriteLine();
        Console.WriteLine("Targets:");
        Console.WriteLine($"  {"metric",-32}{"measured",-16}{"target",-18}result");
        foreach ((string metric, string value, string target, string result) in rows)
        {
            Console.WriteLine($"  {metric,-32}{value,-16}{target,-18}{result}");
        }

        int pass = rows.Count(r => r.Result == "PASS");
        int miss = rows.Count(r => r.Result == "MISS");
        var tail = new StringBuilder($"  {pass} PASS, {miss} MISS");
        long failures = Load.Sum(r => r.Non2xx + r.Errors);
        if (failures > 0)
        {
            tail.Append($"; note: {failures:N0} load requests were non-2xx or failed (not counted in req/s)");
        }

        Console.WriteLine(tail.ToString());
    }

    private static void AddEventRows(List<(string, string, string, string)> rows, string what, EventResult? ev, int requested)
    {
        if (ev is { Received: > 0 })
        {
            rows.Add(($"{what} p50", $"{ev.Percentile(50):0.00} ms", $"<= {EventP50TargetMs} ms", Verdict(ev.Percentile(50) <= EventP50TargetMs)));
            rows.Add(($"{what} p99", $"{ev.Percentile(99):0.00} ms", $"<= {EventP99TargetMs} ms", Verdict(ev.Percentile(99) <= EventP99TargetMs)));
        }
        else
        {
            rows.Add(($"{what} p50", "no events", $"<= {EventP50TargetMs} ms", "MISS"));
            rows.Add(($"{what} p99", "no events", $"<= {EventP99TargetMs} ms", "MISS"));
        }

        int received = ev?.Received ?? 0;
        rows.Add(($"{what} received", $"{received}/{ev?.Requested ?? requested}", "all within 5 s", Verdict(received == (ev?.Requested ?? requested))));
    }

    private void AddThroughput(List<(string, string, string, string)> rows, string name, int concurrency, double target)
    {
        LoadResult? r = Load.Find(x => x.Name == name && x.Concurrency == concurrency);
        string metric = $"task {name} c{concurrency} throughput";
        string goal = $">= {target:N0} req/s";
        rows.Add(r is null
            ? (metric, "not run", goal, "N/A")
            : (metric, $"{r.RequestsPerSecond:N1} req/s", goal, Verdict(r.RequestsPerSecond >= target)));
    }

    private void AddP99(List<(string, string, string, string)> rows, string name, int concurrency)
    {
        LoadResult? r = Load.Find(x => x.Name == name && x.Concurrency == concurrency);
        string metric = $"task {name} c{concurrency} p99";
        string goal = $"<= {P99AtC64TargetMs} ms";
        if (r is null || r.Histogram.Count == 0)
        {
            rows.Add((metric, r is null ? "not run" : "no 2xx", goal, r is null ? "N/A" : "MISS"));
            return;
        }

        double p99 = r.Histogram.PercentileMs(99);
        rows.Add((metric, $"{p99:0.00} ms", goal, Verdict(p99 <= P99AtC64TargetMs)));
    }

    private static string Pct(double? percent) => percent is { } p ? $"{p:0}%" : "-";

    private static string Processes(int n) => n == 1 ? "1 process" : $"{n} processes";

    private static string Verdict(bool ok) => ok ? "PASS" : "MISS";

    private static string Ms(double ms) => double.IsNaN(ms) ? "-" : ms.ToString("0.00", CultureInfo.InvariantCulture);
}
