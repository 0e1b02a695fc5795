using System.Text.Json;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MissionControl.Contracts;

namespace MissionControl.Messaging;

/// <summary>Wakes the relay right after a commit that wrote outbox rows, so polling is only the safety net.</summary>
public sealed class OutboxSignal
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    public void Notify()
    {
        if (_signal.CurrentCount == 0)
            try { _signal.Release(); } catch (SemaphoreFullException) { }
    }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct) => _signal.WaitAsync(timeout, ct);
}

/// <summary>
/// Signals the relay once outbox rows are committed: after SaveChanges when it ran in its own
/// transaction, else when the explicit transaction around it commits.
/// </summary>
internal sealed class OutboxCommitInterceptor(OutboxSignal signal) : SaveChangesInterceptor, IDbTransactionInterceptor
{
    public override int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        if (eventData.Context?.Database.CurrentTransaction is null) NotifyIfOutboxWritten(eventData.Context);
        return result;
    }

    public override ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken ct = default)
    {
        if (eventData.Context?.Database.CurrentTransaction is null) NotifyIfOutboxWritten(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public void TransactionCommitted(System.Data.Common.DbTransaction transaction, TransactionEndEventData eventData) =>
        NotifyIfOutboxWritten(eventData.Context);

    public Task TransactionCommittedAsync(System.Data.Common.DbTransaction transaction, TransactionEndEventData eventData, CancellationToken ct = default)
    {
        NotifyIfOutboxWritten(eventData.Context);
        return Task.CompletedTask;
    }

    /// <summary>Contexts whose outbox rows were written by <see cref="InsertBatch"/> (and so are no longer tracked).</summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<DbContext, object> Written = [];

    internal static void MarkWritten(DbContext db) => Written.AddOrUpdate(db, Written);

    private void NotifyIfOutboxWritten(DbContext? db)
    {
        if (db is null) return;
        // A mark left by a transaction that rolled back costs one needless wake at most.
        if (Written.Remove(db))
        {
            signal.Notify();
            return;
        }
        foreach (var _ in db.ChangeTracker.Entries<OutboxMessage>())
        {
            signal.Notify();
            return;
        }
    }
}

/// <summary>
/// Publishes outbox rows in order and deletes them once the broker has confirmed them. A failed
/// publish stays in the table and is retried with backoff; nothing is lost if the process dies
/// between the commit and the publish (the next start publishes it).
/// </summary>
public sealed class OutboxRelay<TContext>(
    IServiceScopeFactory scopes, IBus bus, OutboxSignal signal, ILogger<OutboxRelay<TContext>> log) : BackgroundService
    where TContext : DbContext
{
    private const int BatchSize = 200;
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(10);
    private static readonly Dictionary<string, Type> EventTypes = typeof(IIntegrationEvent).Assembly.GetTypes()
        .Where(t => t.IsClass && typeof(IIntegrationEvent).IsAssignableFrom(t))
        .ToDictionary(t => t.FullName!);

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        var failures = 0;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await signal.WaitAsync(PollInterval, ct);
                while (await RelayBatchAsync(ct) == BatchSize) { }
                failures = 0;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
            catch (Exception ex)
            {
                failures++;
                var delay = TimeSpan.FromMilliseconds(Math.Min(30_000, 100 * Math.Pow(2, Math.Min(failures, 10))));
                log.LogWarning(ex, "Outbox relay failed ({Failures} in a row); retrying in {Delay}", failures, delay);
                try { await Task.Delay(delay, ct); } catch (OperationCanceledException) { return; }
            }
        }
    }

    /// <summary>Returns how many rows were read, so the caller keeps going while the table is full.</summary>
    public async Task<int> RelayBatchAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TContext>();
        // PostgreSQL may run several instances of a service against one database: each relay claims
        // its rows (locked until its transaction ends) and skips rows another relay holds. SQLite has
        // one process per database file, so no claim is needed there.
        await using var claim = db.Database.IsPostgres() ? await db.Database.BeginTransactionAsync(ct) : null;
        var batch = claim is null
            ? await db.Set<OutboxMessage>().AsNoTracking().Where(m => m.DeadAt == null).OrderBy(m => m.Sequence).Take(BatchSize).ToListAsync(ct)
            : await db.Set<OutboxMessage>().FromSql(
                    $"SELECT * FROM outbox_messages WHERE dead_at IS NULL ORDER BY sequence LIMIT {BatchSize} FOR UPDATE SKIP LOCKED")
                .AsNoTracking().ToListAsync(ct);
        if (batch.Count == 0) return 0;

        var published = new List<long>(batch.Count);
        Exception? firstError = null;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            timeout.CancelAfter(PublishTimeout);
            // Started in sequence order on one connection; awaited together so confirms overlap.
            var sends = new List<(OutboxMessage Row, Task Publish)>(batch.Count);
            foreach (var row in batch)
            {
                if (!EventTypes.TryGetValue(row.Type, out var type))
                {
                    await MarkDeadAsync(db, row, $"unknown event type {row.Type}", ct);
                    continue;
                }
                object message;
                try { message = JsonSerializer.Deserialize(row.Payload, type, OutboxModel.PayloadJson)!; }
                catch (JsonException ex)
                {
                    await MarkDeadAsync(db, row, ex.Message, ct);
                    continue;
                }
                sends.Add((row, bus.Publish(message, type, Pipe.Execute<PublishContext>(c => c.MessageId = row.MessageId), timeout.Token)));
            }
            foreach (var (row, publish) in sends)
            {
                try
                {
                    await publish;
                    published.Add(row.Sequence);
                }
                catch (Exception ex)
                {
                    firstError ??= ex;
                    await db.Set<OutboxMessage>().Where(m => m.Sequence == row.Sequence)
                        .ExecuteUpdateAsync(s => s.SetProperty(m => m.Attempts, m => m.Attempts + 1)
                            .SetProperty(m => m.LastError, Truncate(ex.Message)), CancellationToken.None);
                }
            }
        }

        if (published.Count > 0)
            using (await scope.ServiceProvider.GetRequiredService<DatabaseWriteGate>().EnterAsync(CancellationToken.None))
                await DeleteAsync(db, claim is not null, published);
        if (claim is not null) await claim.CommitAsync(CancellationToken.None);
        if (firstError is not null)
            throw new InvalidOperationException($"{batch.Count - published.Count} outbox message(s) not published", firstError);
        return batch.Count;
    }

    /// <summary>
    /// One statement text whatever the batch size: a LINQ Contains over a list becomes a new SQL text
    /// (and a newly compiled query) for each count of ids, which cost more than the delete itself.
    /// </summary>
    private static Task<int> DeleteAsync(TContext db, bool postgres, List<long> sequences) => postgres
        ? db.Database.ExecuteSqlAsync($"DELETE FROM outbox_messages WHERE sequence = ANY({sequences.ToArray()})", CancellationToken.None)
        : db.Database.ExecuteSqlAsync(
            $"DELETE FROM outbox_messages WHERE sequence IN (SELECT value FROM json_each({JsonSerializer.Serialize(sequences)}))", CancellationToken.None);

    private async Task MarkDeadAsync(TContext db, OutboxMessage row, string error, CancellationToken ct)
    {
        log.LogError("Outbox message {MessageId} can never be published: {Error}", row.MessageId, error);
        await db.Set<OutboxMessage>().Where(m => m.Sequence == row.Sequence)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.DeadAt, DateTime.UtcNow).SetProperty(m => m.LastError, Truncate(error)), ct);
    }

    private static string Truncate(string s) => s.Length <= 2000 ? s : s[..2000];
}
