using System.Text;
using MissionControl.LocalServers;

namespace MissionControl.AppHost;

/// <summary>
/// <state>/apphost.pids (MC_STATE_DIR, default .mc): the processes of the current run (name, pid, start time). If an AppHost was
/// killed outright (SIGKILL, OOM) its children live on, holding ports; the next run finds them here
/// and stops them. Pid plus start time identifies a process, so a recycled pid is never touched.
/// </summary>
internal sealed class RunRecord(string path)
{
    /// <summary>Stops leftovers of a dead run; returns an error when another AppHost is still running.</summary>
    public async Task<string?> ClaimAsync(Action<string> say)
    {
        var entries = File.Exists(path) ? File.ReadAllLines(path).Select(Parse).OfType<(string Name, int Pid, long Start)>().ToList() : [];
        if (entries.FirstOrDefault(e => e.Name == "apphost") is { Pid: > 0 } host && IsSame(host) && host.Pid != Environment.ProcessId)
        {
            return $"Another AppHost is running (pid {host.Pid}); stop it first (Ctrl+C in its terminal, or kill -TERM {host.Pid}).";
        }
        foreach (var entry in entries.Where(e => e.Name != "apphost" && IsSame(e)).Reverse())
        {
            say($"{entry.Name}: stopping pid {entry.Pid}, left running by an AppHost that did not shut down");
            await ProcessTree.TerminateAsync(entry.Pid, TimeSpan.FromSeconds(5));
        }
        File.WriteAllText(path, "");
        Add("apphost", Environment.ProcessId);
        return null;
    }

    private readonly Lock _writing = new();

    /// <summary>Resources start side by side: one append at a time (a second open for writing would be refused).</summary>
    public void Add(string name, int pid)
    {
        lock (_writing) File.AppendAllText(path, $"{name} {pid} {ProcessTree.StartTime(pid) ?? 0}\n");
    }

    public void Clear() => File.Delete(path);

    private static bool IsSame((string Name, int Pid, long Start) entry) =>
        ProcessTree.IsAlive(entry.Pid) && ProcessTree.StartTime(entry.Pid) == entry.Start;

    private static (string, int, long)? Parse(string line) =>
        line.Split(' ') is [var name, var pid, var start] && int.TryParse(pid, out var p) && long.TryParse(start, out var s) ? (name, p, s) : null;
}

/// <summary>
/// Console output that survives a closed terminal: after SIGHUP every write fails (EIO), and an
/// exception there must not keep the AppHost from stopping its children.
/// </summary>
internal sealed class ForgivingWriter(TextWriter inner) : TextWriter
{
    public override Encoding Encoding => inner.Encoding;

    public override void Write(char value) => Try(() => inner.Write(value));
    public override void Write(string? value) => Try(() => inner.Write(value));
    public override void WriteLine(string? value) => Try(() => inner.WriteLine(value));
    public override void Flush() => Try(inner.Flush);

    private static void Try(Action write)
    {
        try
        {
            write();
        }
        catch (IOException)
        {
            // Nobody is reading any more.
        }
    }
}
