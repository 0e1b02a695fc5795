using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using MissionControl.Agents.Data;
using MissionControl.Contracts.Tasks;
using MissionControl.Messaging;
using MissionControl.Outbound;

namespace MissionControl.Agents.Operations;

public static class CallbackStatus
{
    public const string Pending = "pending";
    public const string Delivered = "delivered";
    public const string Failed = "failed";
    /// <summary>The agent is gone, or no longer custom with a callbackUrl.</summary>
    public const string Cancelled = "cancelled";
}

/// <summary>
/// POSTs callback_deliveries to custom agents' callbackUrls, signed like metrics' webhooks
/// (X-MC-Signature: sha256=hex HMAC-SHA256 of "{timestamp}.{body}" keyed with the agent's callback secret),
/// through the shared outbound sender (address guard after DNS on every connection, guarded redirects).
/// In order per agent: only an agent's oldest pending delivery is attempted, and it is retried on
/// Agents:CallbackRetrySchedule before the next one goes; after the last retry it fails and the next goes.
/// An attempt is claimed by a conditional UPDATE of its attempt count, so several instances can run.
/// </summary>
public sealed class CallbackSender(IServiceScopeFactory scopes, AgentClock clock, WebhookSender http, CallbackSecrets secrets, ILogger<CallbackSender> log)
    : BackgroundService
{
    public const string TaskDispatchedEvent = "task.dispatched";
    private const int ScanBatch = 500;
    private readonly WakeSignal _wake = new();
    private readonly IReadOnlyList<TimeSpan> _schedule = RetryScheduleParser.Parse(clock.Options.CallbackRetrySchedule);

    /// <summary>A delivery was queued: look now rather than at the next poll.</summary>
    public void Wake() => _wake.Notify();

    /// <summary>{id, event, timestamp, data: {task, message, kind, agentId, boardId}}: built once, the same bytes on every attempt.</summary>
    public static string Body(Guid deliveryId, TaskDispatched m) => JsonSerializer.Serialize(new
    {
        id = deliveryId, @event = TaskDispatchedEvent, timestamp = m.OccurredAt.UtcDateTime,
        data = new { task = m.Task, message = m.Message, kind = m.Kind, agentId = m.AgentId, boardId = m.BoardId },
    }, Apis.AgentsDialectApi.Json);

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var attempted = 0;
            try
            {
                attempted = await RunDueAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
            catch (Exception ex)
            {
                log.LogWarning(ex, "Callback round failed; trying again next interval");
            }
            if (attempted > 0) continue; // a delivered head lets the agent's next one go now
            try
            {
                await _wake.WaitAsync(clock.Options.CallbackPollInterval, ct);
            }
            catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>Attempts every agent's head delivery that is due; the number attempted.</summary>
    public async Task<int> RunDueAsync(CancellationToken ct)
    {
        List<CallbackDelivery> pending;
        await using (var scope = scopes.CreateAsyncScope())
            pending = await scope.ServiceProvider.GetRequiredService<AgentsDbContext>().CallbackDeliveries.AsNoTracking()
                .Where(d => d.Status == CallbackStatus.Pending).OrderBy(d => d.CreatedAt).ThenBy(d => d.Id).Take(ScanBatch).ToListAsync(ct);
        var now = clock.Now;
        var due = pending.GroupBy(d => d.AgentId).Select(g => g.First()).Where(d => d.NextAttemptAt is null || d.NextAttemptAt <= now).ToList();
        var attempted = 0;
        await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (d, c) =>
        {
            if (await AttemptAsync(d, c)) Interlocked.Increment(ref attempted);
        });
        return attempted;
    }

    private async Task<bool> AttemptAsync(CallbackDelivery head, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AgentsDbContext>();
        var gate = scope.ServiceProvider.GetRequiredService<DatabaseWriteGate>();
        var now = clock.Now;
        // The claim: one more attempt, and a lease past its timeout (a crash mid-attempt is retried after it).
        var lease = now + clock.Options.CallbackTimeout * 2;
        int claimed;
        using (await gate.EnterAsync(ct))
            claimed = await db.CallbackDeliveries
                .Where(d => d.Id == head.Id && d.Status == CallbackStatus.Pending && d.Attempts == head.Attempts)
                .ExecuteUpdateAsync(s => s.SetProperty(d => d.Attempts, head.Attempts + 1).SetProperty(d => d.NextAttemptAt, lease), ct);
        if (claimed == 0) return false;

        var delivery = await db.CallbackDeliveries.FirstAsync(d => d.Id == head.Id, ct);
        var agent = await db.Agents.AsNoTracking().FirstOrDefaultAsync(a => a.Id == delivery.AgentId, ct);
        string? key = null;
        try
        {
            key = agent?.CallbackSecret is { } secret ? secrets.Unprotect(secret) : null;
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            // The key ring was lost or not shared between replicas (DataProtection__KeysPath): no retry helps.
            log.LogError(e, "Callback secret of agent {AgentId} cannot be decrypted", delivery.AgentId);
        }
        if (agent is not { IsCustom: true, CallbackUrl: { } url } || key is null)
        {
            delivery.Status = agent is null || agent.CallbackUrl is null ? CallbackStatus.Cancelled : CallbackStatus.Failed;
            delivery.NextAttemptAt = null;
            delivery.LastError = agent is null || agent.CallbackUrl is null ? "agent_gone_or_no_callback_url" : "callback_secret_unreadable";
        }
        else
        {
            // The agent's current URL: a corrected callbackUrl applies to the retries too.
            var result = await http.SendAsync(url, key, delivery.Id, delivery.Event, delivery.Body, ct);
            delivery.LastStatusCode = result.StatusCode;
            now = clock.Now;
            if (result.Succeeded)
            {
                delivery.Status = CallbackStatus.Delivered;
                delivery.DeliveredAt = now;
                delivery.NextAttemptAt = null;
                delivery.LastError = null;
            }
            else
            {
                delivery.LastError = result.Error ?? $"http_{result.StatusCode}";
                var retry = delivery.Attempts <= _schedule.Count;
                delivery.Status = retry ? CallbackStatus.Pending : CallbackStatus.Failed;
                delivery.NextAttemptAt = retry ? now + RetryScheduleParser.Jitter(_schedule[delivery.Attempts - 1]) : null;
                log.LogInformation("Callback {Delivery} to agent {AgentId} attempt {Attempt} failed: {Error}; {Next}",
                    delivery.Id, delivery.AgentId, delivery.Attempts, delivery.LastError, retry ? $"retry at {delivery.NextAttemptAt:O}" : "giving up");
            }
        }
        using (await gate.EnterAsync(ct))
            await db.SaveChangesAsync(ct);
        return true;
    }
}
