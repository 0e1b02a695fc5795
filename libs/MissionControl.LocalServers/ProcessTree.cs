using System.Runtime.InteropServices;

namespace MissionControl.LocalServers;

/// <summary>Signals and process trees on Linux, read from /proc.</summary>
public static class ProcessTree
{
    public const int SIGINT = 2;
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SysKill(int pid, int signal);

    /// <summary>Sends <paramref name="signal"/> to one process; false when it does not exist (any more).</summary>
    public static bool Signal(int pid, int signal) => pid > 0 && SysKill(pid, signal) == 0;

    /// <summary>
    /// True while the process exists and is not a zombie. A zombie has released its ports and files;
    /// on machines whose init does not reap orphans it can stay listed for good.
    /// </summary>
    public static bool IsAlive(int pid)
    {
        var stat = ReadStat(pid);
        return stat is not null && stat.Value.State is not ('Z' or 'X');
    }

    /// <summary>
    /// When the process started (clock ticks since boot), or null if it does not exist. With the pid it
    /// identifies a process for good: a recycled pid has another start time.
    /// </summary>
    public static long? StartTime(int pid) => ReadStat(pid)?.StartTime;

    /// <summary>The process's command name (/proc/&lt;pid&gt;/comm, e.g. "beam.smp"), or null if it does not exist.</summary>
    public static string? Name(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/comm").TrimEnd('\n');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Every descendant of <paramref name="root"/> (children first, then their children …).</summary>
    public static List<int> Descendants(int root)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || ReadStat(pid) is not { } stat)
            {
                continue;
            }
            if (!children.TryGetValue(stat.ParentPid, out var list))
            {
                children[stat.ParentPid] = list = [];
            }
            list.Add(pid);
        }

        var result = new List<int>();
        var queue = new Queue<int>([root]);
        while (queue.TryDequeue(out var pid))
        {
            foreach (var child in children.GetValueOrDefault(pid) ?? [])
            {
                result.Add(child);
                queue.Enqueue(child);
            }
        }
        return result;
    }

    /// <summary>
    /// Stops a process tree: <paramref name="signal"/> to the root only (servers shut their own children
    /// down cleanly), up to <paramref name="grace"/> for it to exit, then SIGKILL to whatever is left of
    /// the tree as it was before the signal plus anything still under the root.
    /// </summary>
    public static async Task TerminateAsync(int pid, TimeSpan grace, int signal = SIGTERM)
    {
        var tree = Descendants(pid);
        if (Signal(pid, signal))
        {
            var deadline = DateTime.UtcNow + grace;
            while (IsAlive(pid) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
        await KillAllAsync(tree.Prepend(pid));
    }

    /// <summary>The synchronous form of <see cref="TerminateAsync"/>, for process-exit handlers.</summary>
    public static void Terminate(int pid, TimeSpan grace, int signal = SIGTERM) =>
        TerminateAsync(pid, grace, signal).GetAwaiter().GetResult();

    private static async Task KillAllAsync(IEnumerable<int> pids)
    {
        var left = new HashSet<int>();
        foreach (var pid in pids)
        {
            if (IsAlive(pid))
            {
                left.Add(pid);
                left.UnionWith(Descendants(pid));
            }
        }
        foreach (var pid in left)
        {
            Signal(pid, SIGKILL);
        }
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (left.Any(IsAlive) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
    }

    private static (char State, int ParentPid, long StartTime)? ReadStat(int pid)
    {
        try
        {
            // "pid (comm) S ppid … starttime(22nd field) …"; comm may contain spaces and parentheses,
            // so split what follows the last ')': there the state is field 3.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (rest[0][0], int.Parse(rest[1]), long.Parse(rest[22 - 3]));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }
}
