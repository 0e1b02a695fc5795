using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Webhooks;
using MissionControl.EventLog;
using MissionControl.Messaging;
using MissionControl.Metrics.Data;
using MissionControl.Metrics.EventLog;
using MissionControl.Outbound;

namespace MissionControl.Metrics.Webhooks;

/// <summary>Webhook secrets are needed in clear to sign, so they are encrypted at rest (Data Protection), never hashed.</summary>
public sealed class WebhookSecrets(IDataProtectionProvider provider)
{
    private readonly IDataProtector _protector = provider.CreateProtector("MissionControl.Metrics.WebhookSecrets.v1");

    public string Protect(string secret) => _protector.Protect(secret);

    public string Unprotect(string protectedSecret) => _protector.Unprotect(protectedSecret);
}

/// <summary>
/// Delivers the event log to webhooks, in order per subscription: each subscription's head event is
/// delivered (and retried on the schedule) before the next one is taken; after the last retry fails
/// the circuit opens and the event is held. A subscription is worked on by one metrics instance at a
/// time: the instance claims a lease on its row with a conditional UPDATE and renews it once a third of
/// it has passed (so at least two thirds are left at every attempt). Woken when this instance logs an event, and every PollInterval (retries due, events other
/// instances logged).
/// </summary>
public sealed class WebhookDispatcher(
    IServiceScopeFactory scopes, RecentEvents recent, WebhookOptions options, WebhookSender sender, WebhookSecrets secrets,
    DatabaseWriteGate gate, TimeProvider clock, ILogger<WebhookDispatcher> log) : BackgroundService
{
    public const string CircuitOpen = "circuit_open";
    private const int ScanBatch = 200;
    /// <summary>Old deliveries are pruned after this many completions (and when a worker stops), not after each.</summary>
    private const int PruneEvery = 50;
    /// <summary>A worker keeps its lease and waits for a retry due sooner than this, instead of leaving it to the poll.</summary>
    private static readonly TimeSpan HoldForRetry = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<Guid, Task> _workers = new();
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Who holds a lease: unique per process start.</summary>
    public string InstanceId { get; } = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";

    public void Wake() => Interlocked.Exchange(ref _wake, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        // Whether any subscription exists is asked at the start, at each poll and on Wake (a webhook
        // created, enabled or redelivered here; a worker done), not each time an event is logged: with
        // no webhook anywhere, a logged batch costs no scan. One created on another instance is
        // found at this one's next poll.
        var anySubscription = true;
        var full = true;
        while (!ct.IsCancellationRequested)
        {
            var added = recent.NextAddedAsync();
            var woken = Volatile.Read(ref _wake).Task;
            try
            {
                if (full) anySubscription = await AnySubscriptionAsync(ct);
                if (anySubscription) await TickAsync(ct);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                log.LogWarning(e, "Webhook dispatch pass failed");
            }
            try
            {
                // A full pass after a wake or a quiet poll interval; after a logged event only the due work.
                await Task.WhenAny(added, woken).CompletedWithinAsync(options.PollInterval, ct);
                full = woken.IsCompleted || !added.IsCompleted;
            }
            catch (OperationCanceledException) { }
        }
        try { await Task.WhenAll(_workers.Values); } catch { /* each worker logged its own */ }
    }

    private async Task<bool> AnySubscriptionAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<MetricsDbContext>().WebhookSubscriptions.AnyAsync(ct);
    }

    /// <summary>Claims every subscription with work due that nobody holds, and starts a worker for each.</summary>
    private async Task TickAsync(CancellationToken ct)
    {
        List<Guid> due;
        var now = clock.GetUtcNow().UtcDateTime;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<MetricsDbContext>();
            var deliveries = db.WebhookDeliveries;
            var me = InstanceId;
            due = await db.WebhookSubscriptions.AsNoTracking()
                .Where(s => s.LeaseOwner == null || s.LeaseUntil < now || s.LeaseOwner == me)
                .Where(s => deliveries.Any(d => d.SubscriptionId == s.Id && d.Kind == WebhookDeliveryKinds.Redelivery && d.Status == WebhookDeliveryStatus.Pending)
                    || s.Enabled && (
                        deliveries.Any(d => d.SubscriptionId == s.Id && d.Kind == WebhookDeliveryKinds.Event
                            && (d.Status == WebhookDeliveryStatus.Pending || d.Status == WebhookDeliveryStatus.Retrying) && d.NextRetryAt <= now)
                        || !deliveries.Any(d => d.SubscriptionId == s.Id && d.Kind == WebhookDeliveryKinds.Event
                                && (d.Status == WebhookDeliveryStatus.Pending || d.Status == WebhookDeliveryStatus.Retrying))
                            && db.Events.Any(e => e.OrganizationId == s.OrganizationId && e.Seq > s.Cursor)))
                .Select(s => s.Id).ToListAsync(ct);
        }
        foreach (var id in due)
        {
            if (_workers.ContainsKey(id) || !await ClaimAsync(id, ct)) continue;
            var worker = Task.Run(() => WorkAsync(id, ct), CancellationToken.None);
            _workers[id] = worker;
            _ = worker.ContinueWith(_ =>
            {
                _workers.TryRemove(id, out Task? _);
                Wake();
            }, TaskScheduler.Default);
        }
    }

    /// <summary>Takes (or renews) the lease: true when this instance holds it now.</summary>
    public async Task<bool> ClaimAsync(Guid subscriptionId, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<MetricsDbContext>();
        return await WebhookLeases.ClaimAsync(db, gate, subscriptionId, InstanceId, clock.GetUtcNow().UtcDateTime, options.LeaseDuration, ct);
    }

    private async Task ReleaseAsync(Guid subscriptionId)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<MetricsDbContext>();
            await WebhookLeases.ReleaseAsync(db, gate, subscriptionId, InstanceId, CancellationToken.None);
        }
        catch (Exception e)
        {
            log.LogWarning(e, "Could not release the lease on webhook {Webhook}", subscriptionId);
        }
    }

    /// <summary>What a worker carries between its steps.</summary>
    private sealed class WorkerState(DateTimeOffset claimedAt)
    {
        public DateTimeOffset ClaimedAt { get; set; } = claimedAt;
        public int Completed { get; set; }
    }

    private async Task WorkAsync(Guid id, CancellationToken ct)
    {
        var state = new WorkerState(clock.GetUtcNow()); // TickAsync has just claimed it
        try
        {
            while (!ct.IsCancellationRequested)
            {
                if (clock.GetUtcNow() - state.ClaimedAt >= options.LeaseDuration / 3)
                {
                    if (!await ClaimAsync(id, ct)) return;
                    state.ClaimedAt = clock.GetUtcNow();
                }
                var wait = await StepAsync(id, state, ct);
                if (wait is null) return;
                if (wait.Value > TimeSpan.Zero)
                {
                    if (wait.Value > HoldForRetry) return;
                    await Task.Delay(wait.Value, ct);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
        catch (Exception e)
        {
            log.LogWarning(e, "Webhook {Webhook}: delivery step failed", id);
        }
        finally
        {
            if (state.Completed % PruneEvery != 0) await PruneQuietlyAsync(id);
            await ReleaseAsync(id);
        }
    }

    private async Task PruneQuietlyAsync(Guid id)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            await PruneAsync(scope.ServiceProvider.GetRequiredService<MetricsDbContext>(), id, CancellationToken.None);
        }
        catch (Exception e)
        {
            log.LogWarning(e, "Could not prune the deliveries of webhook {Webhook}", id);
        }
    }

    /// <summary>One unit of work: null when there is nothing to do, else how long until the next (zero: at once).</summary>
    private async Task<TimeSpan?> StepAsync(Guid id, WorkerState state, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<MetricsDbContext>();
        var subscription = await db.WebhookSubscriptions.FirstOrDefaultAsync(s => s.Id == id, ct);
        if (subscription is null) return null;
        var now = clock.GetUtcNow().UtcDateTime;

        // Redeliveries asked for by hand come first (one attempt each, beside the ordered stream), then the
        // head of the ordered stream: one query for both.
        var head = await db.WebhookDeliveries.Include(d => d.Attempts)
            .Where(d => d.SubscriptionId == id && (d.Kind == WebhookDeliveryKinds.Redelivery && d.Status == WebhookDeliveryStatus.Pending
                || d.Kind == WebhookDeliveryKinds.Event && (d.Status == WebhookDeliveryStatus.Pending || d.Status == WebhookDeliveryStatus.Retrying)))
            .OrderBy(d => d.Kind == WebhookDeliveryKinds.Redelivery ? 0 : 1).ThenBy(d => d.CreatedAt).FirstOrDefaultAsync(ct);
        if (head is { Kind: WebhookDeliveryKinds.Redelivery })
        {
            await AttemptOnceAsync(db, subscription, head, ct);
            return TimeSpan.Zero;
        }
        if (!subscription.Enabled) return null;
        if (head is null)
        {
            var cursor = subscription.Cursor;
            var batch = await db.Events.AsNoTracking().Where(e => e.OrganizationId == subscription.OrganizationId && e.Seq > cursor)
                .OrderBy(e => e.Seq).Take(ScanBatch).ToListAsync(ct);
            if (batch.Count == 0) return null;
            var patterns = subscription.Patterns;
            var next = batch.FirstOrDefault(e => e.Audience != EventAudiences.Internal && WebhookEvents.Matches(patterns, e.Type));
            if (next is null)
            {
                // Nothing for this subscription in the batch: it is finished with all of it.
                subscription.Cursor = batch[^1].Seq;
                using (await gate.EnterAsync(ct)) await db.SaveChangesAsync(ct);
                return TimeSpan.Zero;
            }
            subscription.Cursor = next.Seq - 1;
            head = NewDelivery(subscription, WebhookDeliveryKinds.Event, next.EventId, next.Type, next.Seq, Body(next), now);
            db.WebhookDeliveries.Add(head);
            using (await gate.EnterAsync(ct)) await db.SaveChangesAsync(ct);
        }
        else if (head.NextRetryAt is { } at && at > now)
        {
            return at - now;
        }

        var result = await AttemptAsync(db, subscription, head, ct);
        now = clock.GetUtcNow().UtcDateTime;
        if (result.Succeeded)
        {
            Complete(head, WebhookDeliveryStatus.Succeeded, now);
            subscription.Cursor = Math.Max(subscription.Cursor, head.Seq ?? subscription.Cursor);
            subscription.ConsecutiveFailures = 0;
        }
        else
        {
            subscription.ConsecutiveFailures++;
            if (head.AttemptCount <= options.RetrySchedule.Count)
            {
                head.Status = WebhookDeliveryStatus.Retrying;
                head.NextRetryAt = now + RetryScheduleParser.Jitter(options.RetrySchedule[head.AttemptCount - 1]);
            }
            else
            {
                // Given up: the circuit opens and the event is held until the webhook is enabled again.
                Complete(head, WebhookDeliveryStatus.Failed, now);
                subscription.Enabled = false;
                subscription.DisabledReason = CircuitOpen;
                subscription.UpdatedAt = now;
                db.AddIntegrationEvent(new WebhookDeliveryFailed
                {
                    OrganizationId = subscription.OrganizationId, WebhookId = subscription.Id, Url = subscription.Url, DeliveryId = head.Id,
                    EventId = head.EventId, EventType = head.EventType, Seq = head.Seq, Attempts = head.AttemptCount,
                    LastStatusCode = result.StatusCode, LastError = result.Error, ConsecutiveFailures = subscription.ConsecutiveFailures,
                    OccurredAt = clock.GetUtcNow(),
                });
                log.LogWarning("Webhook {Webhook}: gave up on event {Seq} after {Attempts} attempts; circuit open", subscription.Id, head.Seq, head.AttemptCount);
            }
        }
        using (await gate.EnterAsync(ct)) await db.SaveChangesAsync(CancellationToken.None);
        if (head.CompletedAt is not null && ++state.Completed % PruneEvery == 0) await PruneAsync(db, id, ct);
        return TimeSpan.Zero;
    }

    /// <summary>Keeps the newest KeepDeliveries deliveries of a webhook (unfinished ones always).</summary>
    private async Task PruneAsync(MetricsDbContext db, Guid id, CancellationToken ct)
    {
        var cutoff = await db.WebhookDeliveries.Where(d => d.SubscriptionId == id).OrderByDescending(d => d.CreatedAt)
            .Skip(options.KeepDeliveries).Select(d => (DateTime?)d.CreatedAt).FirstOrDefaultAsync(ct);
        if (cutoff is null) return;
        var old = db.WebhookDeliveries.Where(d => d.SubscriptionId == id && d.CompletedAt != null && d.CreatedAt <= cutoff);
        using (await gate.EnterAsync(ct))
        {
            await old.DeleteWithAttemptsAsync(db, ct);
        }
    }

    /// <summary>One attempt for a test or a redelivery: never retried, no effect on the circuit.</summary>
    public async Task AttemptOnceAsync(MetricsDbContext db, WebhookSubscription subscription, WebhookDelivery delivery, CancellationToken ct)
    {
        var result = await AttemptAsync(db, subscription, delivery, ct);
        Complete(delivery, result.Succeeded ? WebhookDeliveryStatus.Succeeded : WebhookDeliveryStatus.Failed, clock.GetUtcNow().UtcDateTime);
        using (await gate.EnterAsync(ct)) await db.SaveChangesAsync(CancellationToken.None);
        await PruneAsync(db, subscription.Id, ct);
    }

    private async Task<WebhookAttemptResult> AttemptAsync(MetricsDbContext db, WebhookSubscription subscription, WebhookDelivery delivery, CancellationToken ct)
    {
        var at = clock.GetUtcNow().UtcDateTime;
        var result = await sender.SendAsync(subscription.Url, secrets.Unprotect(subscription.ProtectedSecret), delivery.Id, delivery.EventType, delivery.Body, ct);
        delivery.AttemptCount++;
        var attempt = new WebhookAttempt
        {
            Id = Guid.CreateVersion7(), DeliveryId = delivery.Id, Number = delivery.AttemptCount, StatusCode = result.StatusCode,
            LatencyMs = result.LatencyMs, Error = result.Error, AttemptedAt = at,
        };
        delivery.Attempts.Add(attempt);
        db.Add(attempt);
        log.LogDebug("Webhook {Webhook}: delivery {Delivery} attempt {Attempt}: {Status} {Error}", subscription.Id, delivery.Id, attempt.Number,
            result.StatusCode, result.Error);
        return result;
    }

    private static void Complete(WebhookDelivery delivery, string status, DateTime now)
    {
        delivery.Status = status;
        delivery.NextRetryAt = null;
        delivery.CompletedAt = now;
    }

    public static WebhookDelivery NewDelivery(WebhookSubscription s, string kind, Guid eventId, string type, long? seq, string body, DateTime now) => new()
    {
        Id = Guid.CreateVersion7(), SubscriptionId = s.Id, OrganizationId = s.OrganizationId, EventId = eventId, EventType = type, Seq = seq,
        Kind = kind, Status = WebhookDeliveryStatus.Pending, Body = body, NextRetryAt = now, CreatedAt = now,
    };

    /// <summary>The request body: {id, event, timestamp, data}; the same bytes on every attempt.</summary>
    public static string Body(LogEntry e) => Body(e.EventId, e.Type, e.OccurredAt, JsonDocument.Parse(e.Data).RootElement);

    public static string Body(Guid id, string type, DateTime timestamp, JsonElement data) => JsonSerializer.Serialize(new
    {
        id, @event = type, timestamp = DateTime.SpecifyKind(timestamp, DateTimeKind.Utc).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'"), data,
    }, JsonDefaults.Api);
}

/// <summary>The per-subscription lease that keeps two metrics instances from delivering one subscription at once.</summary>
public static class WebhookLeases
{
    public static async Task<bool> ClaimAsync(
        MetricsDbContext db, DatabaseWriteGate gate, Guid id, string owner, DateTime now, TimeSpan duration, CancellationToken ct)
    {
        var until = now + duration;
        using (await gate.EnterAsync(ct))
            return await db.WebhookSubscriptions
                .Where(s => s.Id == id && (s.LeaseOwner == null || s.LeaseUntil < now || s.LeaseOwner == owner))
                .ExecuteUpdateAsync(u => u.SetProperty(s => s.LeaseOwner, owner).SetProperty(s => s.LeaseUntil, until), ct) == 1;
    }

    public static async Task ReleaseAsync(MetricsDbContext db, DatabaseWriteGate gate, Guid id, string owner, CancellationToken ct)
    {
        using (await gate.EnterAsync(ct))
            await db.WebhookSubscriptions.Where(s => s.Id == id && s.LeaseOwner == owner)
                .ExecuteUpdateAsync(u => u.SetProperty(s => s.LeaseOwner, (string?)null).SetProperty(s => s.LeaseUntil, (DateTime?)null), ct);
    }
}
