using System.Threading.Channels;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts;
using MissionControl.Messaging;
using MissionControl.Metrics.Activity;
using MissionControl.Metrics.Data;

namespace MissionControl.Metrics.EventLog;

/// <summary>
/// A read model metrics keeps beside the log (token usage, task status history, name copies). It is
/// applied in the same transaction as the log row, so it holds exactly the logged events, once.
/// Change tracked entities (Find, Add): a batch of events is saved together. A statement run at once
/// (an upsert) only on rows no tracked entity maps; bulk statements (ExecuteUpdate/ExecuteDelete) only
/// for events named *Deleted, around which the writer saves.
/// </summary>
public interface ILogProjection
{
    Task ApplyAsync(MetricsDbContext db, IIntegrationEvent message, LogEntry entry, CancellationToken ct);
}

/// <summary>
/// Appends integration events to the log: each one once (a redelivered message id changes nothing),
/// numbered from the single head row, whose row lock also makes concurrent writers on PostgreSQL
/// commit in sequence order, so a reader that tails by seq never skips a row committed late.
/// <para>
/// Events from the bus arrive on many consumer calls at once (so a busy moment is written as one
/// transaction, not one per event) and are put back into the broker's delivery order (the delivery
/// tag) before they are numbered: the log keeps each publisher's order. A delivery whose predecessor
/// has not arrived waits for it up to <see cref="GapWait"/> (long enough for a consumer call delayed on a busy
/// machine; short, because only a message the consumer never sees, e.g.
/// one that could not be read, must not stop the log).
/// </para>
/// </summary>
public sealed class EventLogWriter(
    IServiceScopeFactory scopes, DatabaseWriteGate gate, RecentEvents recent, LogNotifications notifications, TimeProvider clock,
    ILogger<EventLogWriter> log) : BackgroundService
{
    public static readonly TimeSpan GapWait = TimeSpan.FromSeconds(3);
    private const int MaxBatch = 256;

    // A bus message's events arrive as one item, so no other delivery is put between them.
    private readonly Channel<Delivery[]> _incoming = Channel.CreateUnbounded<Delivery[]>(new UnboundedChannelOptions { SingleReader = true });
    private readonly DeliveryOrder _order = new(GapWait, MaxBatch);

    /// <summary>Logs an event that did not come from the bus (an API that records one itself).</summary>
    public Task AppendAsync(IIntegrationEvent message, Guid messageId, CancellationToken ct) => Submit([new Delivery(message, messageId, null, 0, DateTime.UtcNow)], ct);

    /// <summary>
    /// Logs the events of a message consumed from the bus (one, or an <see cref="EventBatch"/>'s), in the
    /// broker's delivery order and then their order in the message; completes once all are committed.
    /// A null event (nothing to log) only passes its place, so later ones need not wait for it.
    /// </summary>
    public Task AppendAsync(ConsumeContext context, IReadOnlyList<(Guid Id, IIntegrationEvent? Message)> events)
    {
        var delivery = context.ReceiveContext as RabbitMqBasicConsumeContext;
        var arrived = DateTime.UtcNow;
        var parts = new Delivery[events.Count];
        for (var i = 0; i < parts.Length; i++)
            parts[i] = new Delivery(events[i].Message, events[i].Id, delivery?.ConsumerTag, delivery?.DeliveryTag ?? 0, arrived) { Part = i };
        return Submit(parts, context.CancellationToken);
    }

    private Task Submit(Delivery[] parts, CancellationToken ct)
    {
        if (parts.Length == 0) throw new ArgumentException("A message without events.", nameof(parts));
        if (!_incoming.Writer.TryWrite(parts)) throw new InvalidOperationException("The event log writer has stopped.");
        return parts.Length == 1 ? parts[0].Done.Task.WaitAsync(ct) : Task.WhenAll(parts.Select(p => p.Done.Task)).WaitAsync(ct);
    }

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        try
        {
            while (!ct.IsCancellationRequested)
            {
                if (_order.Count == 0) await _incoming.Reader.WaitToReadAsync(ct);
                while (_incoming.Reader.TryRead(out var parts)) _order.Add(parts);
                var batch = _order.TakeReady(DateTime.UtcNow);
                if (batch.Count == 0)
                {
                    // Held back behind a missing delivery: wait for it (or for the gap timeout).
                    await _incoming.Reader.WaitToReadAsync(ct).AsTask().CompletedWithinAsync(TimeSpan.FromMilliseconds(2), ct);
                    continue;
                }
                if (await TryWriteAsync(batch, ct))
                {
                    _order.Passed(batch.Select(p => (p, true)).ToList());
                    continue;
                }
                // One bad event must not fail its neighbours: write them one by one.
                var outcome = new List<(Delivery, bool)>();
                foreach (var p in batch) outcome.Add((p, await TryWriteAsync([p], ct)));
                _order.Passed(outcome);
            }
        }
        finally
        {
            _incoming.Writer.TryComplete();
            foreach (var p in _order.Drain()) p.Done.TrySetCanceled();
            while (_incoming.Reader.TryRead(out var parts))
                foreach (var p in parts) p.Done.TrySetCanceled();
        }
    }

    private async Task<bool> TryWriteAsync(List<Delivery> batch, CancellationToken ct)
    {
        try
        {
            var logged = await WriteAsync(batch, ct);
            recent.AddRange(logged);
            foreach (var p in batch) p.Done.TrySetResult();
            return true;
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            if (batch.Count == 1)
            {
                log.LogWarning(ex, "Could not log {Type} {MessageId}", batch[0].Message?.GetType().Name, batch[0].Id);
                batch[0].Done.TrySetException(ex);
            }
            return false;
        }
    }

    private async Task<List<MissionControl.EventLog.LoggedEvent>> WriteAsync(List<Delivery> batch, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<MetricsDbContext>();
        var projections = scope.ServiceProvider.GetServices<ILogProjection>().ToList();
        var entries = new List<LogEntry>();
        using (await gate.EnterAsync(ct))
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var ids = batch.Select(p => p.Id).Distinct().ToList();
            var known = new HashSet<Guid>();
            await foreach (var id in LoggedIdsQuery.For(db)(db, ids).WithCancellation(ct)) known.Add(id);
            var fresh = batch.Where(p => p.Message is not null && known.Add(p.Id)).ToList();
            if (fresh.Count == 0) return [];

            var seq = await ReserveAsync(db, fresh.Count, notifications.InstanceId, ct);
            var loggedAt = clock.GetUtcNow().UtcDateTime;
            foreach (var p in fresh)
            {
                // Projections change tracked rows (saved once per batch); a deletion may run bulk
                // statements, which must see everything before it and be seen by everything after.
                var message = p.Message!;
                var deletion = IsDeletion(message);
                if (deletion) await FlushAsync(db, ct);
                var entry = EventProjection.Project(message, p.Id, loggedAt);
                entry.Seq = seq++;
                db.Events.Add(entry);
                foreach (var projection in projections) await projection.ApplyAsync(db, message, entry, ct);
                if (deletion) await FlushAsync(db, ct);
                entries.Add(entry);
            }
            await ActivityCount.AddAsync(db, entries, ct);
            await FlushAsync(db, ct);
            await tx.CommitAsync(ct);
        }
        return entries.Select(e => e.ToLogged()).ToList();
    }

    // The first query of every batch, compiled: a call skips EF's per-query work on the expression tree
    // (parameter extraction, the query cache's key). The ids become one parameter each (EF's default for a
    // list), and EF keeps the SQL made for each count it meets.
    private static readonly CompiledPerModel<Func<MetricsDbContext, List<Guid>, IAsyncEnumerable<Guid>>> LoggedIdsQuery = new(() =>
        EF.CompileAsyncQuery((MetricsDbContext db, List<Guid> ids) => db.Events.Where(e => ids.Contains(e.EventId)).Select(e => e.EventId)));

    private static bool IsDeletion(IIntegrationEvent message) => message.GetType().Name.EndsWith("Deleted", StringComparison.Ordinal);

    private static async Task FlushAsync(MetricsDbContext db, CancellationToken ct)
    {
        // New rows (log entries, status history, first copies) by InsertBatch; changed ones by SaveChanges.
        await db.WriteAddedAsync(ct);
        await db.SaveChangesAsync(ct);
        db.ChangeTracker.Clear();
    }

    /// <summary>
    /// Takes <paramref name="count"/> positions from the head row; returns the first. On PostgreSQL the same
    /// statement queues a notification of the new head for the other instances (<see cref="LogNotifications"/>),
    /// sent when the transaction commits and never if it rolls back.
    /// </summary>
    private static async Task<long> ReserveAsync(MetricsDbContext db, int count, string instanceId, CancellationToken ct)
    {
        var connection = db.Database.GetDbConnection();
        await using var command = connection.CreateCommand();
        command.Transaction = Microsoft.EntityFrameworkCore.Storage.DbContextTransactionExtensions.GetDbTransaction(db.Database.CurrentTransaction!);
        var reserve = $"UPDATE event_log_head SET last_seq = last_seq + {count} WHERE id = 1 RETURNING last_seq";
        command.CommandText = db.Database.IsNpgsql()
            ? $"WITH h AS ({reserve}) SELECT last_seq FROM h, pg_notify('{LogNotifications.Channel}', last_seq || ' {instanceId}')"
            : reserve;
        return Convert.ToInt64(await command.ExecuteScalarAsync(ct)) - count + 1;
    }
}
