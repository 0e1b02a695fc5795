using System.Runtime.InteropServices;

namespace MissionControl.ProcessMemory;

/// <summary>
/// Gives memory that startup used and freed back to the system, then keeps an idle process small.
/// <list type="bullet">
/// <item>Once, when startup is over: a compacting, decommitting collection of the managed heap. Startup's
/// garbage (model building, bus configuration, build output read by the AppHost) otherwise stays
/// committed until enough allocation triggers a full collection, which an idle process never does:
/// 6-8 MB per service (measured).</item>
/// <item>Then every 30 s, when the process was quiet (<see cref="QuietWatch"/>): the same collection again.
/// An idle service still allocates 40-160 KB/s (health probes, the outbox relay's poll, the bus), and
/// with the 8 MB gen0 budget the services run with (for throughput under load) that garbage touches
/// fresh heap pages for minutes before the first gen0 collection, which then keeps them: the idle system
/// went from 470 MB PSS 45 s after a start to 519-536 MB minutes later; with this, 463-497 MB over 19 minutes.
/// A collection of an idle service's 5 MB heap takes 8-14 ms once every 30 s; a busy process is left to
/// the GC's own pacing.</item>
/// <item>And every 30 s: glibc keeps freed native memory (the runtime's type loading and JIT work,
/// SQLite) for reuse and returns only the top of its heap by itself, which left 4-5 MB per service and
/// 12 MB in the AppHost resident for nothing. malloc_trim releases free pages anywhere in the heap, in
/// about a millisecond.</item>
/// </list>
/// </summary>
public static class IdleMemory
{
    public static readonly TimeSpan TrimInterval = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Waits <paramref name="startupOver"/>, releases startup's memory, then every <see cref="TrimInterval"/>
    /// collects the managed heap if the process was quiet and trims the C heap, until cancelled.
    /// </summary>
    public static async Task RunAsync(TimeSpan startupOver, CancellationToken ct)
    {
        try
        {
            await Task.Delay(startupOver, ct);
            if (!ReleaseStartupMemory()) return; // no malloc_trim here: nothing more to do
            var quiet = new QuietWatch(GC.GetTotalAllocatedBytes());
            using var timer = new PeriodicTimer(TrimInterval);
            while (await timer.WaitForNextTickAsync(ct))
            {
                if (quiet.ShouldCollect(GC.GetTotalAllocatedBytes(), GC.GetGCMemoryInfo().HeapSizeBytes)) ReleaseManagedHeap();
                TrimNativeHeap();
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    /// <summary>Collects the managed heap and returns its free space, then trims the C heap; false where it cannot be trimmed.</summary>
    public static bool ReleaseStartupMemory()
    {
        ReleaseManagedHeap();
        return TrimNativeHeap();
    }

    /// <summary>A full, compacting collection that also decommits the free space (pages gen0 touched included).</summary>
    public static void ReleaseManagedHeap() =>
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);

    /// <summary>Returns free C heap pages to the system; false where the C library has no malloc_trim (not glibc).</summary>
    public static bool TrimNativeHeap()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            malloc_trim(0);
            return true;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return false; // e.g. musl (Alpine images)
        }
    }

    [DllImport("libc")]
    private static extern int malloc_trim(nuint pad);
}

/// <summary>
/// Decides, from the bytes a process has allocated in total, whether the interval just ended was quiet enough
/// for a collection to be worth it. Busy means <see cref="BusyAllocation"/> or more in the interval: a process
/// under load collects often by itself and reuses the pages it touched, and collecting it would only add a
/// pause. The first quiet interval after a busy one collects (what the load left committed, tens of
/// megabytes, is given back); after that, only once at least <see cref="MinGarbage"/> was allocated since the
/// last collection (smaller amounts add up over the next intervals). A heap of more than <see cref="LargeHeap"/>
/// (e.g. an edge holding thousands of quiet streams) is not collected: its full collection would pause the
/// process for far longer than an idle service's 8-14 ms, for the same few megabytes.
/// </summary>
public sealed class QuietWatch(long allocatedNow)
{
    public const long MinGarbage = 1L << 20;
    public const long BusyAllocation = 8L << 20;
    public const long LargeHeap = 64L << 20;

    private long _sinceCollection = allocatedNow;
    private long _lastLook = allocatedNow;
    private bool _wasBusy;

    /// <param name="allocatedNow">The bytes allocated since the process started (GC.GetTotalAllocatedBytes).</param>
    /// <param name="heapBytes">The managed heap's size after the last collection.</param>
    public bool ShouldCollect(long allocatedNow, long heapBytes)
    {
        var inInterval = allocatedNow - _lastLook;
        _lastLook = allocatedNow;
        if (inInterval >= BusyAllocation)
        {
            _wasBusy = true;
            return false;
        }
        if (heapBytes > LargeHeap || (!_wasBusy && allocatedNow - _sinceCollection < MinGarbage)) return false;
        _wasBusy = false;
        _sinceCollection = allocatedNow;
        return true;
    }
}
