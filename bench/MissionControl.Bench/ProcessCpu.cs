using System.Diagnostics;

namespace MissionControl.Bench;

/// <summary>CPU time each process of the system (and the bench itself) used during one load step.</summary>
internal sealed record CpuUse(IReadOnlyList<(string Name, double Seconds)> ByProcess, double WallSeconds)
{
    public double TotalSeconds => ByProcess.Sum(p => p.Seconds);

    /// <summary>Cores kept busy on average: 2.0 on these machines means the step was CPU-bound.</summary>
    public double BusyCores => WallSeconds > 0 ? TotalSeconds / WallSeconds : 0;

    /// <summary>CPU milliseconds of all the processes per successful request ("-" when none succeeded).</summary>
    public string TotalPerRequest(long ok) => ok == 0 ? "-" : (TotalSeconds * 1000 / ok).ToString("0.00");

    /// <summary>CPU milliseconds per successful request, in total and per process (largest first).</summary>
    public string PerRequest(long ok)
    {
        if (ok == 0) return "no request succeeded";
        double Ms(double seconds) => seconds * 1000 / ok;
        string parts = string.Join(", ", ByProcess.Where(p => Ms(p.Seconds) >= 0.005).OrderByDescending(p => p.Seconds)
            .Select(p => $"{p.Name} {Ms(p.Seconds):0.00}"));
        return $"{TotalPerRequest(ok)} ms ({parts}); {BusyCores:0.00} of {Environment.ProcessorCount} cores busy";
    }
}

/// <summary>
/// Reads user + system time from /proc before and after a step. CPU per request moves less than requests/s
/// when other tenants of the host slow the whole machine, so a change's cost shows in it first.
/// </summary>
internal sealed class ProcessCpu
{
    private readonly List<(string Name, int Pid)> _processes;

    public ProcessCpu(MemorySnapshot system)
    {
        _processes = system.Processes.Select(p => (ShortName(p.Name), p.Pid))
            .Append(("bench", Environment.ProcessId)).ToList();
    }

    public bool IsEmpty => _processes.Count <= 1;

    /// <summary>Starts a measurement; the returned function ends it.</summary>
    public Func<CpuUse> Start()
    {
        var before = _processes.Select(p => ProcessMemory.ReadCpuSeconds(p.Pid)).ToList();
        var clock = Stopwatch.StartNew();
        return () =>
        {
            double wall = clock.Elapsed.TotalSeconds;
            var used = _processes.Select((p, i) => (p.Name, Seconds: ProcessMemory.ReadCpuSeconds(p.Pid) - before[i]))
                .Where(p => p.Seconds is not null)
                .GroupBy(p => p.Name, p => p.Seconds!.Value)
                .Select(g => (g.Key, g.Sum()))
                .ToList();
            return new CpuUse(used, wall);
        };
    }

    /// <summary>
    /// After a step: waits until the system is quiet (under <paramref name="quietCores"/> busy over a
    /// <paramref name="window"/>, the bench left out) or <paramref name="max"/> has passed, and returns the CPU
    /// used meanwhile. That is work the step left behind (the event log draining a backlog, checkpoints), which
    /// would otherwise be charged to the next step.
    /// </summary>
    public async Task<CpuUse> UntilQuietAsync(TimeSpan window, double quietCores, TimeSpan max)
    {
        var system = _processes.Where(p => p.Name != "bench").ToList();
        double Total(List<(string Name, int Pid)> ps) => ps.Sum(p => ProcessMemory.ReadCpuSeconds(p.Pid) ?? 0);
        var measured = Start();
        var clock = Stopwatch.StartNew();
        double last = Total(system);
        while (clock.Elapsed < max)
        {
            await Task.Delay(window).ConfigureAwait(false);
            double now = Total(system);
            if ((now - last) / window.TotalSeconds < quietCores) break;
            last = now;
        }
        return measured();
    }

    /// <summary>
    /// CPU seconds the system's .NET processes spent in their tiered-compilation threads (the JIT recompiling hot
    /// methods with full optimization) since <paramref name="before"/> was read; pass null to take the first
    /// reading. By thread: the runtime ends an idle compilation thread and starts a new one, so a process total
    /// would go down.
    /// </summary>
    public (double Seconds, Dictionary<(int Pid, int Tid), double> Reading) JitSince(Dictionary<(int Pid, int Tid), double>? before)
    {
        var now = new Dictionary<(int, int), double>();
        foreach (var (name, pid) in _processes)
        {
            if (name == "bench") continue;
            string[] threads;
            try { threads = Directory.GetDirectories($"/proc/{pid}/task"); }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { continue; }
            foreach (string dir in threads)
            {
                try
                {
                    if (!File.ReadAllText(Path.Combine(dir, "comm")).StartsWith(".NET Tiered", StringComparison.Ordinal)) continue;
                    string stat = File.ReadAllText(Path.Combine(dir, "stat"));
                    string[] f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                    now[(pid, int.Parse(Path.GetFileName(dir)))] = (long.Parse(f[11]) + long.Parse(f[12])) / 100.0;
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException) { }
            }
        }
        double used = before is null ? 0 : now.Sum(t => t.Value - before.GetValueOrDefault(t.Key));
        return (used, now);
    }

    /// <summary>"MissionControl.Tasks" → "tasks"; the broker's helper processes count as the broker.</summary>
    internal static string ShortName(string name) => name switch
    {
        _ when name.StartsWith("MissionControl.", StringComparison.Ordinal) => name["MissionControl.".Length..].ToLowerInvariant(),
        _ when name.EndsWith("(RabbitMQ)", StringComparison.Ordinal) => "rabbitmq",
        _ => name,
    };
}
