using System.Globalization;
using System.Text;

namespace MissionControl.Bench;

/// <summary>RSS counts shared pages (the .NET runtime's files) once per process; PSS splits them fairly.</summary>
internal sealed record ProcessRss(int Pid, string Name, long RssKb)
{
    public long PssKb { get; } = ProcessMemory.ReadPssKb(Pid) ?? RssKb;
}

internal sealed record MemorySnapshot(string Label, IReadOnlyList<ProcessRss> Processes, IReadOnlyList<string> Notes)
{
    public long TotalKb => Processes.Sum(p => p.RssKb);

    public double TotalMb => TotalKb / 1024.0;

    public double TotalPssMb => Processes.Sum(p => p.PssKb) / 1024.0;
}

/// <summary>
/// Resident memory (VmRSS) of the system's processes, read from /proc. Either the pids given with
/// --pids / MC_BENCH_PIDS, or a scan for the MissionControl.* services and the broker/stores beside them.
/// </summary>
internal static class ProcessMemory
{
    /// <summary>Broker and stores, matched by /proc/&lt;pid&gt;/comm.</summary>
    private static readonly Dictionary<string, string> InfraByComm = new(StringComparer.Ordinal)
    {
        ["beam.smp"] = "beam.smp (RabbitMQ)",
        ["epmd"] = "epmd (RabbitMQ)",
        ["erl_child_setup"] = "erl_child_setup (RabbitMQ)",
        ["inet_gethost"] = "inet_gethost (RabbitMQ)",
        ["postgres"] = "postgres",
        ["redis-server"] = "redis-server",
    };

    public static MemorySnapshot Measure(string label, string? pidsSpec)
    {
        var notes = new List<string>();
        var result = new List<ProcessRss>();
        if (!Directory.Exists("/proc"))
        {
            notes.Add("/proc is not available on this OS; memory not measured");
            return new MemorySnapshot(label, result, notes);
        }

        if (pidsSpec is not null)
        {
            foreach (int pid in ParsePids(pidsSpec, notes))
            {
                long? rss = ReadRssKb(pid);
                if (rss is null)
                {
                    notes.Add($"pid {pid} is gone or unreadable");
                    continue;
                }

                result.Add(new ProcessRss(pid, Classify(pid) ?? ReadComm(pid) ?? "?", rss.Value));
            }
        }
        else
        {
            result.AddRange(Scan());
            foreach (IGrouping<string, ProcessRss> group in result.GroupBy(p => p.Name))
            {
                if (group.Count() > 1 && (group.Key.StartsWith("MissionControl.", StringComparison.Ordinal) || group.Key.StartsWith("beam.smp", StringComparison.Ordinal)))
                {
                    notes.Add($"{group.Count()} processes are {group.Key} — another system or test run on this box? Choose with --pids FILE");
                }
            }
        }

        result.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name) is var c && c != 0 ? c : a.Pid.CompareTo(b.Pid));
        return new MemorySnapshot(label, result, notes);
    }

    /// <summary>
    /// The after-load snapshot: the same processes as <paramref name="idle"/> when they were found by a scan, so both
    /// totals cover the same set; processes that matched only later are listed in a note, not counted.
    /// </summary>
    public static MemorySnapshot MeasureAgain(string label, MemorySnapshot idle, string? pidsSpec)
    {
        if (pidsSpec is not null || idle.Processes.Count == 0)
        {
            return Measure(label, pidsSpec);
        }

        var known = idle.Processes.Select(p => p.Pid).ToHashSet();
        MemorySnapshot again = Measure(label, string.Join(',', known));
        var notes = new List<string>(again.Notes);
        List<ProcessRss> appeared = Scan().Where(p => !known.Contains(p.Pid)).ToList();
        if (appeared.Count > 0)
        {
            notes.Add($"{appeared.Count} more matching processes appeared since the idle snapshot (not counted): "
                + string.Join(", ", appeared.Take(12).Select(p => $"{p.Pid} {p.Name}")) + (appeared.Count > 12 ? ", …" : ""));
        }

        return again with { Notes = notes };
    }

    private static List<ProcessRss> Scan()
    {
        var found = new List<ProcessRss>();
        int self = Environment.ProcessId;
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || pid == self)
            {
                continue;
            }

            if (Classify(pid) is { } name && ReadRssKb(pid) is { } rss)
            {
                found.Add(new ProcessRss(pid, name, rss));
            }
        }

        return found;
    }

    /// <summary>A display name when the process belongs to the system under test, else null.</summary>
    private static string? Classify(int pid)
    {
        string? comm = ReadComm(pid);
        if (comm is not null && InfraByComm.TryGetValue(comm, out string? infra))
        {
            return infra;
        }

        string[] args = ReadCmdline(pid);
        if (args.Length == 0)
        {
            return null;
        }

        string? match = null;
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            if (arg.Contains("MissionControl.Bench", StringComparison.Ordinal))
            {
                return null; // the bench itself, or `dotnet run` of it
            }

            if (match is not null)
            {
                continue;
            }

            string file = Path.GetFileName(arg.TrimEnd('/'));
            if (!file.StartsWith("MissionControl.", StringComparison.Ordinal) || file.Contains(".Tests", StringComparison.Ordinal))
            {
                continue;
            }

            if (file.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
            {
                match = file[..^4];
            }
            else if (i == 0)
            {
                match = file; // native apphost executable, e.g. artifacts/bin/MissionControl.Edge/debug/MissionControl.Edge
            }
            else if (file.StartsWith("MissionControl.AppHost", StringComparison.Ordinal))
            {
                // e.g. `dotnet run --project src/MissionControl.AppHost`: the launcher that hosts the app model
                string project = file.EndsWith(".csproj", StringComparison.Ordinal) ? file[..^7] : file;
                match = $"{project} (via {Path.GetFileName(args[0])})";
            }
        }

        return match;
    }

    private static IEnumerable<int> ParsePids(string spec, List<string> notes)
    {
        string text = spec;
        if (File.Exists(spec))
        {
            text = File.ReadAllText(spec);
        }
        else if (spec.Contains('/', StringComparison.Ordinal))
        {
            notes.Add($"pids file '{spec}' not found");
            yield break;
        }

        var seen = new HashSet<int>();
        foreach (string token in text.Split([',', '\n', '\r', ' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (token.StartsWith('#'))
            {
                continue;
            }

            if (int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && pid > 0)
            {
                if (seen.Add(pid))
                {
                    yield return pid;
                }
            }
        }
    }

    private static string? ReadComm(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/comm").TrimEnd('\n');
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string[] ReadCmdline(int pid)
    {
        try
        {
            byte[] raw = File.ReadAllBytes($"/proc/{pid}/cmdline");
            return Encoding.UTF8.GetString(raw).Split('\0', StringSplitOptions.RemoveEmptyEntries);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>Pss from /proc/&lt;pid&gt;/smaps_rollup, or null where the kernel does not offer it.</summary>
    public static long? ReadPssKb(int pid) => ReadKb($"/proc/{pid}/smaps_rollup", "Pss:");

    // Kernel threads and zombies have no VmRSS: 0, not "gone".
    private static long? ReadRssKb(int pid) => File.Exists($"/proc/{pid}/status") ? ReadKb($"/proc/{pid}/status", "VmRSS:") ?? 0 : null;

    /// <summary>The "Name:   1234 kB" line of a /proc file, in kB; null if absent or unreadable.</summary>
    private static long? ReadKb(string path, string field)
    {
        try
        {
            foreach (string line in File.ReadLines(path))
            {
                if (!line.StartsWith(field, StringComparison.Ordinal)) continue;
                ReadOnlySpan<char> value = line.AsSpan(field.Length).Trim();
                int space = value.IndexOf(' ');
                return long.TryParse(space > 0 ? value[..space] : value, NumberStyles.None, CultureInfo.InvariantCulture, out long kb) ? kb : null;
            }
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
