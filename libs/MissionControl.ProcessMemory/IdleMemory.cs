using System.Runtime.InteropServices;

namespace MissionControl.ProcessMemory;

/// <summary>
/// Gives memory that startup used and freed back to the system, then keeps the C heap trimmed.
/// <list type="bullet">
/// <item>Once, when startup is over: a compacting, decommitting collection of the managed heap. Startup's
/// garbage (model building, bus configuration, build output read by the AppHost) otherwise stays
/// committed until enough allocation triggers a full collection, which an idle process never does:
/// 6-8 MB per service (measured).</item>
/// <item>Then once a minute: glibc keeps freed native memory (the runtime's type loading and JIT work,
/// SQLite) for reuse and returns only the top of its heap by itself, which left 4-5 MB per service and
/// 12 MB in the AppHost resident for nothing. malloc_trim releases free pages anywhere in the heap, in
/// about a millisecond.</item>
/// </list>
/// </summary>
public static class IdleMemory
{
    public static readonly TimeSpan TrimInterval = TimeSpan.FromMinutes(1);

    /// <summary>Waits <paramref name="startupOver"/>, releases startup's memory, then trims the C heap every minute until cancelled.</summary>
    public static async Task RunAsync(TimeSpan startupOver, CancellationToken ct)
    {
        try
        {
            await Task.Delay(startupOver, ct);
            if (!ReleaseStartupMemory()) return; // no malloc_trim here: nothing more to do
            using var timer = new PeriodicTimer(TrimInterval);
            while (await timer.WaitForNextTickAsync(ct)) TrimNativeHeap();
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    /// <summary>Collects the managed heap and returns its free space, then trims the C heap; false where it cannot be trimmed.</summary>
    public static bool ReleaseStartupMemory()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        return TrimNativeHeap();
    }

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
