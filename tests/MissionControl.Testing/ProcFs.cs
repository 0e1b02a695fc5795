namespace MissionControl.Testing;

/// <summary>What tests read of other processes from /proc.</summary>
public static class ProcFs
{
    /// <summary>The process's command line with its arguments separated by spaces; "" when it has ended.</summary>
    public static string CommandLine(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim(); }
        catch (IOException) { return ""; } // ended meanwhile (ENOENT or ESRCH)
    }
}
