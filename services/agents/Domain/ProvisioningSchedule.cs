namespace MissionControl.Agents.Domain;

/// <summary>Where a provisioning run stands, as the schedule sees it.</summary>
public sealed record RunState(string Status, int Attempts, DateTime? DeadlineAt, DateTime? RetryAt);

public enum RunStep
{
    /// <summary>Nothing to do yet.</summary>
    Wait,
    /// <summary>Send the run again now (a new generation, one more attempt).</summary>
    Resend,
    /// <summary>No answer in time: try again at the given time.</summary>
    ScheduleRetry,
    /// <summary>Out of attempts: the run failed.</summary>
    Fail,
}

public sealed record RunDecision(RunStep Step, DateTime? RetryAt = null);

/// <summary>
/// Nothing stays provisioning or updating forever: every request has a deadline; a missed deadline or a
/// retryable failure retries with exponential backoff until the attempts run out, then the run fails.
/// </summary>
public static class ProvisioningSchedule
{
    public const string DeadlineError = "no answer from the gateway-bridge before the deadline";

    public static TimeSpan Backoff(int attemptsSoFar, TimeSpan first, TimeSpan max)
    {
        var factor = Math.Pow(2, Math.Clamp(attemptsSoFar - 1, 0, 20));
        var delay = TimeSpan.FromTicks((long)Math.Min(first.Ticks * factor, max.Ticks));
        return delay < TimeSpan.Zero ? TimeSpan.Zero : delay;
    }

    /// <summary>What the sweeper does with a run at <paramref name="now"/>.</summary>
    public static RunDecision OnSweep(RunState run, DateTime now, AgentsOptions options)
    {
        if (!AgentStatus.IsRunning(run.Status)) return new RunDecision(RunStep.Wait);
        if (run.RetryAt is { } retryAt) return retryAt <= now ? new RunDecision(RunStep.Resend) : new RunDecision(RunStep.Wait);
        if (run.DeadlineAt is not { } deadline || deadline > now) return new RunDecision(RunStep.Wait);
        return NextAfterMiss(run.Attempts, now, options);
    }

    /// <summary>The bridge answered the current generation with a failure.</summary>
    public static RunDecision OnFailure(int attempts, bool retryable, DateTime now, AgentsOptions options) =>
        retryable ? NextAfterMiss(attempts, now, options) : new RunDecision(RunStep.Fail);

    private static RunDecision NextAfterMiss(int attempts, DateTime now, AgentsOptions options) =>
        attempts >= options.ProvisionAttempts
            ? new RunDecision(RunStep.Fail)
            : new RunDecision(RunStep.ScheduleRetry, now + Backoff(attempts, options.ProvisionRetryDelay, options.ProvisionRetryMaxDelay));
}
