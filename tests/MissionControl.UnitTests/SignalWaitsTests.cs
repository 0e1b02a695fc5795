using MissionControl.Messaging;

namespace MissionControl.UnitTests;

// Alone: Timer.ActiveCount counts the whole process's timers, so no other test may create any meanwhile.
[CollectionDefinition(Collection, DisableParallelization = true)]
public sealed class TimerCountCollection
{
    public const string Collection = "Process-wide timer count";
}

[Collection(TimerCountCollection.Collection)]
public class SignalWaitsTests
{
    [Fact]
    public async Task A_signal_that_wins_leaves_no_timer_armed()
    {
        // The event log's feed, the webhook dispatcher and the task writer wait like this once per logged event
        // or commit: a timer left armed by each wait (Task.Delay raced in a WhenAny) fires later for nothing.
        var before = Timer.ActiveCount;
        for (var i = 0; i < 100; i++)
        {
            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var wait = signal.Task.CompletedWithinAsync(TimeSpan.FromMinutes(1), CancellationToken.None);
            signal.SetResult();
            Assert.True(await wait);
        }
        Assert.InRange(Timer.ActiveCount - before, 0, 2);
    }

    [Fact]
    public async Task Without_the_signal_it_answers_false_after_the_timeout()
    {
        var never = new TaskCompletionSource().Task;
        var started = DateTime.UtcNow;
        Assert.False(await never.CompletedWithinAsync(TimeSpan.FromMilliseconds(50), CancellationToken.None));
        Assert.True(DateTime.UtcNow - started >= TimeSpan.FromMilliseconds(45));
    }

    [Fact]
    public async Task A_signal_already_set_answers_true_at_once()
    {
        Assert.True(await Task.CompletedTask.CompletedWithinAsync(TimeSpan.FromMinutes(1), CancellationToken.None));
    }

    [Fact]
    public async Task Cancellation_is_thrown_not_taken_for_a_timeout()
    {
        using var cts = new CancellationTokenSource();
        var wait = new TaskCompletionSource().Task.CompletedWithinAsync(TimeSpan.FromMinutes(1), cts.Token);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait);
    }
}
