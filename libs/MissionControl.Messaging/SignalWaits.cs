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
