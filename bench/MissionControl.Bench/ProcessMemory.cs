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
    internal static string? Classify(int pid)
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

    /// <summary>
    /// The edge process to measure: <paramref name="pidOverride"/> if given, else the MissionControl.Edge process
    /// (found as <see cref="Classify"/> finds it) that holds the socket listening on <paramref name="port"/>, else
    /// the only MissionControl.Edge process there is. Null (with <paramref name="note"/>) when that is ambiguous.
    /// </summary>
    public static int? FindEdge(int port, int? pidOverride, out string note)
    {
        note = "";
        if (pidOverride is { } given)
        {
            note = "--edge-pid";
            return Directory.Exists($"/proc/{given}") ? given : null;
        }

        if (!Directory.Exists("/proc"))
        {
            note = "/proc is not available";
            return null;
        }

        var edges = new List<int>();
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
                && pid != Environment.ProcessId && Classify(pid) == "MissionControl.Edge")
            {
                edges.Add(pid);
            }
        }

        if (edges.Count == 0)
        {
            note = "no MissionControl.Edge process found (give --edge-pid)";
            return null;
        }

        HashSet<string> sockets = ListeningSockets(port);
        foreach (int pid in edges)
        {
            try
            {
                foreach (string fd in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
                {
                    if (new FileInfo(fd).LinkTarget is { } target && sockets.Contains(target))
                    {
                        note = $"listening on port {port}";
                        return pid;
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Not ours to look into.
            }
        }

        if (edges.Count == 1)
        {
            note = $"the only MissionControl.Edge process (its socket on port {port} was not seen)";
            return edges[0];
        }

        note = $"{edges.Count} MissionControl.Edge processes and none seen listening on port {port} (give --edge-pid)";
        return null;
    }

    /// <summary>"socket:[inode]" of every TCP socket listening on <paramref name="port"/> (IPv4 and IPv6).</summary>
    private static HashSet<string> ListeningSockets(int port)
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        foreach (string table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            try
            {
                foreach (string line in File.ReadLines(table).Skip(1))
                {
                    string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    if (f.Length < 10 || f[3] != "0A")
                    {
                        continue; // not LISTEN
                    }

                    int colon = f[1].LastIndexOf(':');
                    if (colon > 0 && int.TryParse(f[1].AsSpan(colon + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int p) && p == port)
                    {
                        result.Add($"socket:[{f[9]}]");
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // No such table.
            }
        }

        return result;
    }

    /// <summary>Rss and Pss (kB) from /proc/&lt;pid&gt;/smaps_rollup; null when gone or unreadable.</summary>
    public static (long RssKb, long PssKb)? ReadRollupKb(int pid)
    {
        long? rss = ReadKb($"/proc/{pid}/smaps_rollup", "Rss:");
        long? pss = ReadKb($"/proc/{pid}/smaps_rollup", "Pss:");
        return rss is { } r && pss is { } p ? (r, p) : null;
    }

    /// <summary>User + system CPU time of a process from /proc/&lt;pid&gt;/stat, in seconds (USER_HZ taken as 100).</summary>
    public static double? ReadCpuSeconds(int pid)
    {
        try
        {
            string[] f = StatFields(pid); // utime is field 14, stime 15
            return long.Parse(f[11], CultureInfo.InvariantCulture) / 100.0 + long.Parse(f[12], CultureInfo.InvariantCulture) / 100.0;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>Seconds since the process started (/proc/&lt;pid&gt;/stat field 22 against /proc/uptime), or null.</summary>
    public static double? AgeSeconds(int pid)
    {
        try
        {
            string[] f = StatFields(pid);
            double started = long.Parse(f[19], CultureInfo.InvariantCulture) / 100.0; // clock ticks since boot, USER_HZ 100
            double uptime = double.Parse(File.ReadAllText("/proc/uptime").Split(' ')[0], CultureInfo.InvariantCulture);
            return uptime - started;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>/proc/&lt;pid&gt;/stat from field 3 (state) on: f[0] is field 3, f[11] field 14.</summary>
    private static string[] StatFields(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        return stat[(stat.LastIndexOf(')') + 2)..].Split(' '); // after the ")" that ends the command name
    }

    /// <summary>The soft limit of open files of this process (from /proc/self/limits), or null.</summary>
    public static long? OpenFileLimit()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/limits"))
            {
                if (line.StartsWith("Max open files", StringComparison.Ordinal))
                {
                    string[] f = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    return long.TryParse(f[0], NumberStyles.None, CultureInfo.InvariantCulture, out long soft) ? soft : null;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        return null;
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
