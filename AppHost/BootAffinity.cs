using System.Runtime.InteropServices;
using MissionControl.LocalServers;

namespace MissionControl.AppHost;

/// <summary>
/// Keeps the apps that start while the private broker boots off one CPU, so the broker has it to itself.
/// The broker boots on one scheduler thread and leaves the other core nearly idle; apps started beside
/// it without this took both cores and stretched its boot (4 → 9–15 s, see Program.cs). Confined, they
/// do their own start-up (runtime, host, EF model, migrations) on the remaining CPUs meanwhile, and get
/// every CPU back the moment the broker is ready (each of their threads: Linux keeps affinity per thread).
/// Affinity needs no privilege for one's own children. Linux only; elsewhere, or with one CPU, it does nothing.
/// </summary>
public sealed class BootAffinity
{
    private const int MaskBytes = 128; // 1,024 CPUs, the kernel's default cpu_set_t
    private readonly byte[] _all;
    private readonly byte[] _first;
    private readonly byte[] _confined;
    private readonly List<int> _pinned = [];
    private readonly List<int> _reserved = [];
    private readonly Lock _lock = new();
    private bool _active;

    private BootAffinity(byte[] all, byte[] first, byte[] confined)
    {
        _all = all;
        _first = first;
        _confined = confined;
        _active = true;
    }

    /// <summary>Confinement to every CPU the AppHost may use but its first, or null when there is nothing to leave free.</summary>
    public static BootAffinity? TryCreate()
    {
        if (!OperatingSystem.IsLinux()) return null;
        var all = new byte[MaskBytes];
        if (sched_getaffinity(0, MaskBytes, all) != 0) return null;
        var first = Array.FindIndex(all, b => b != 0);
        var confined = (byte[])all.Clone();
        confined[first] &= (byte)(confined[first] - 1); // clears the lowest set bit: the first CPU
        var only = new byte[MaskBytes];
        only[first] = (byte)(all[first] & ~confined[first]);
        return confined.Any(b => b != 0) ? new BootAffinity(all, only, confined) : null;
    }

    /// <summary>Keeps a booting server (and what it starts: the broker's launcher script starts its VM) on the first CPU.</summary>
    public void Reserve(int pid)
    {
        lock (_lock)
        {
            if (!_active) return;
            if (sched_setaffinity(pid, MaskBytes, _first) == 0) _reserved.Add(pid);
        }
    }

    /// <summary>Confines a process just started (its first thread; the threads it starts inherit it) while the broker boots.</summary>
    public void Confine(int pid)
    {
        lock (_lock)
        {
            if (!_active) return;
            if (sched_setaffinity(pid, MaskBytes, _confined) == 0) _pinned.Add(pid);
        }
    }

    /// <summary>
    /// Gives every CPU back to every thread of the confined and reserved processes. Twice, a moment apart: a thread
    /// started during the first pass by one not yet released would inherit the confinement.
    /// </summary>
    public async Task ReleaseAsync()
    {
        int[] pids;
        lock (_lock)
        {
            _active = false;
            pids = [.. _pinned, .. _reserved.SelectMany(pid => ProcessTree.Descendants(pid).Prepend(pid))];
        }
        for (var pass = 0; pass < 2; pass++)
        {
            foreach (var pid in pids)
            {
                foreach (var tid in ThreadsOf(pid))
                {
                    sched_setaffinity(tid, MaskBytes, _all);
                }
            }
            if (pass == 0) await Task.Delay(50);
        }
    }

    private static IEnumerable<int> ThreadsOf(int pid)
    {
        try
        {
            return Directory.EnumerateDirectories($"/proc/{pid}/task")
                .Select(d => int.TryParse(Path.GetFileName(d), out var tid) ? tid : 0).Where(tid => tid > 0).ToList();
        }
        catch (IOException) { return []; } // exited
        catch (UnauthorizedAccessException) { return []; }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int sched_setaffinity(int pid, nint cpusetsize, byte[] mask);

    [DllImport("libc", SetLastError = true)]
    private static extern int sched_getaffinity(int pid, nint cpusetsize, byte[] mask);
}
