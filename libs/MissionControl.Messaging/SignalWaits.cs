namespace MissionControl.Messaging;

public static class SignalWaits
{
    /// <summary>
    /// Waits for <paramref name="signal"/> at most <paramref name="timeout"/>; true when it completed. The timer is
    /// dropped as soon as the signal wins: a <c>Task.Delay</c> raced in a WhenAny stays armed until it fires, so a
    /// loop woken by every logged event left one timer per event behind, each a later wake-up of the timer thread.
    /// </summary>
    public static async Task<bool> CompletedWithinAsync(this Task signal, TimeSpan timeout, CancellationToken ct)
    {
        await signal.WaitAsync(timeout, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        ct.ThrowIfCancellationRequested();
        return signal.IsCompleted;
    }
}

/// <summary>
/// Wakes one background loop: any number of <see cref="Notify"/> calls before it waits again make one wake-up
/// (the loop then takes everything that was queued for it).
/// </summary>
public sealed class WakeSignal
{
    private readonly SemaphoreSlim _semaphore = new(0, 1);

    public void Notify()
    {
        if (_semaphore.CurrentCount == 0)
            try { _semaphore.Release(); } catch (SemaphoreFullException) { } // another Notify won the race
    }

    public Task WaitAsync(CancellationToken ct) => _semaphore.WaitAsync(ct);

    /// <summary>True when woken, false when the timeout passed first.</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct) => _semaphore.WaitAsync(timeout, ct);
}
