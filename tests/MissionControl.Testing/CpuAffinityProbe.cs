namespace MissionControl.Testing;

/// <summary>Which CPUs a process's threads may run on, from /proc (Linux keeps the affinity per thread).</summary>
public static class CpuAffinityProbe
{
    /// <summary>The CPUs every thread of <paramref name="pid"/> may run on; throws when its threads disagree.</summary>
    public static List<int> AllowedCpus(int pid)
    {
        var lists = Directory.GetDirectories($"/proc/{pid}/task").Select(AllowedList).OfType<string>().Distinct().ToList();
        if (lists.Count != 1)
            throw new InvalidOperationException($"the threads of {pid} may run on different CPUs: {string.Join(" | ", lists)}");
        return lists[0].Split(',').SelectMany(range => range.Split('-') is [var from, var to]
            ? Enumerable.Range(int.Parse(from), int.Parse(to) - int.Parse(from) + 1)
            : [int.Parse(range)]).ToList();
    }

    /// <summary>A thread's Cpus_allowed_list; null when it ended between the listing and the read.</summary>
    private static string? AllowedList(string task)
    {
        try
        {
            return File.ReadLines(Path.Combine(task, "status")).Single(l => l.StartsWith("Cpus_allowed_list:"))["Cpus_allowed_list:".Length..].Trim();
        }
        catch (IOException) { return null; } // DirectoryNotFound, FileNotFound: the thread is gone
    }
}
