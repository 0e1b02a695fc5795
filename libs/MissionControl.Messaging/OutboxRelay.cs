using System.Collections.Concurrent;
using System.Data.Common;
using System.Runtime.CompilerServices;
using System.Text.Json;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MissionControl.Contracts;

namespace MissionControl.Messaging;

/// <summary>
/// Wakes the relay right after a commit that wrote outbox rows, so polling is only the safety net, and
/// hands it the rows this process committed (on SQLite), so it can publish them without reading them back.
/// </summary>
public sealed class OutboxSignal
{
    /// <summary>Beyond this many rows held (the relay is behind, e.g. the broker is down), the relay reads the table instead.</summary>
    internal const int MaxHeld = 10_000;

    private readonly WakeSignal _signal = new();
    private readonly ConcurrentQueue<OutboxMessage> _held = new();
    private int _heldCount;
    private volatile bool _overflowed;

    public void Notify() => _signal.Notify();

    /// <summary>Set by the relay when it publishes handed-over rows (SQLite); otherwise a commit only wakes it.</summary>
    internal bool HoldsRows { get; set; }

    /// <summary>Rows whose transaction has committed, numbered by the database (Sequence set).</summary>
    internal void Committed(List<OutboxMessage> rows)
    {
        if (!HoldsRows)
        {
            Notify();
            return;
        }
        if (Interlocked.Add(ref _heldCount, rows.Count) > MaxHeld)
        {
            Interlocked.Add(ref _heldCount, -rows.Count);
            _overflowed = true;
        }
        else
        {
            foreach (var row in rows) _held.Enqueue(row);
        }
        Notify();
    }

    /// <summary>True when rows were dropped for want of room: only the table has them all.</summary>
    internal bool Overflowed => _overflowed;

    /// <summary>Everything held, in sequence order; with <paramref name="clearOverflow"/> (the caller reads the table next) the overflow mark is cleared first.</summary>
    internal List<OutboxMessage> TakeHeld(bool clearOverflow = false)
    {
        if (clearOverflow) _overflowed = false;
        var rows = new List<OutboxMessage>();
        while (_held.TryDequeue(out var row)) rows.Add(row);
        Interlocked.Add(ref _heldCount, -rows.Count);
        // Hand-offs from two committing threads may arrive out of order; the database's numbering is the commit order.
        rows.Sort((a, b) => a.Sequence.CompareTo(b.Sequence));
        return rows;
    }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct) => _signal.WaitAsync(timeout, ct);
}

/// <summary>
/// Passes outbox rows to the relay once they are committed: after SaveChanges when it ran in its own
/// transaction, else when the explicit transaction around it commits. Rows of a transaction that
/// rolled back (or of a SaveChanges that failed) are forgotten.
/// </summary>
internal sealed class OutboxCommitInterceptor(OutboxSignal signal) : SaveChangesInterceptor, IDbTransactionInterceptor
{
    /// <summary>Per context: rows written in its current transaction, and rows of a SaveChanges under way.</summary>
    private sealed class Pending
    {
        public List<OutboxMessage> Written { get; } = [];
        public List<OutboxMessage> Saving { get; } = [];
    }

    private static readonly ConditionalWeakTable<DbContext, Pending> Contexts = [];

    /// <summary>Rows <see cref="InsertBatch"/> wrote (and so are no longer tracked) in the context's transaction.</summary>
    internal static void MarkWritten(DbContext db, IEnumerable<OutboxMessage> rows) => Contexts.GetOrCreateValue(db).Written.AddRange(rows);

    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        StageAdded(eventData.Context);
        return result;
    }

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken ct = default)
    {
        StageAdded(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public override int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        Saved(eventData.Context);
        return result;
    }

    public override ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken ct = default)
    {
        Saved(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public override void SaveChangesFailed(DbContextErrorEventData eventData) => Unstage(eventData.Context);

    public override Task SaveChangesFailedAsync(DbContextErrorEventData eventData, CancellationToken ct = default)
    {
        Unstage(eventData.Context);
        return Task.CompletedTask;
    }

    public override void SaveChangesCanceled(DbContextEventData eventData) => Unstage(eventData.Context);

    public override Task SaveChangesCanceledAsync(DbContextEventData eventData, CancellationToken ct = default)
    {
        Unstage(eventData.Context);
        return Task.CompletedTask;
    }

    /// <summary>
    /// A new transaction: rows of an earlier one that ended without a commit (disposed, pooled context) are
    /// not handed off. Rows of a SaveChanges under way stay: it may be that SaveChanges opening its own.
    /// </summary>
    public DbTransaction TransactionStarted(DbConnection connection, TransactionEndEventData eventData, DbTransaction result)
    {
        ForgetWritten(eventData.Context);
        return result;
    }

    public ValueTask<DbTransaction> TransactionStartedAsync(DbConnection connection, TransactionEndEventData eventData, DbTransaction result,
        CancellationToken ct = default)
    {
        ForgetWritten(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => HandOff(eventData.Context);

    public Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken ct = default)
    {
        HandOff(eventData.Context);
        return Task.CompletedTask;
    }

    public void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => Forget(eventData.Context);

    public Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken ct = default)
    {
        Forget(eventData.Context);
        return Task.CompletedTask;
    }

    public void TransactionFailed(DbTransaction transaction, TransactionErrorEventData eventData) => Forget(eventData.Context);

    public Task TransactionFailedAsync(DbTransaction transaction, TransactionErrorEventData eventData, CancellationToken ct = default)
    {
        Forget(eventData.Context);
        return Task.CompletedTask;
    }

    private static void StageAdded(DbContext? db)
    {
        if (db is null) return;
        Pending? pending = null;
        // Without change detection, which SaveChanges does itself (here it was one more comparison of every tracked
        // entity, 2.4% of tasks' CPU under status changes): outbox rows are only added through their DbSet (AddIntegrationEvent).
        foreach (var entry in db.AddedEntries())
        {
            if (entry.Entity is OutboxMessage row) (pending ??= Contexts.GetOrCreateValue(db)).Saving.Add(row);
        }
    }

    private void Saved(DbContext? db)
    {
        if (db is null || !Contexts.TryGetValue(db, out var pending)) return;
        // In its own transaction, committed by now: anything else still listed belongs to a transaction that
        // ended without a commit we saw.
        var ownTransaction = db.Database.CurrentTransaction is null;
        if (ownTransaction) pending.Written.Clear();
        pending.Written.AddRange(pending.Saving); // numbered by now: SaveChanges reads the sequence back
        pending.Saving.Clear();
        if (ownTransaction) HandOff(db);
    }

    private static void Unstage(DbContext? db)
    {
        if (db is not null && Contexts.TryGetValue(db, out var pending)) pending.Saving.Clear();
    }

    private void HandOff(DbContext? db)
    {
        if (db is null || !Contexts.TryGetValue(db, out var pending) || pending.Written.Count == 0) return;
        var rows = pending.Written.ToList();
        pending.Written.Clear();
        signal.Committed(rows);
    }

    private static void ForgetWritten(DbContext? db)
    {
        if (db is not null && Contexts.TryGetValue(db, out var pending)) pending.Written.Clear();
    }

    private static void Forget(DbContext? db)
    {
        if (db is not null && Contexts.TryGetValue(db, out var pending))
        {
            pending.Written.Clear();
            pending.Saving.Clear();
        }
    }
}

/// <summary>
/// Publishes outbox rows in order and deletes them once the broker has confirmed them. A failed
/// publish stays in the table and is retried with backoff; nothing is lost if the process dies
/// between the commit and the publish (the next start publishes it).
/// <para>
/// On SQLite (one process per database file) the rows this process commits are handed to the relay
/// (<see cref="OutboxSignal"/>), and it publishes them from memory instead of reading them back: it
/// does so only while they continue the table's numbering without a gap from the last row it
/// published, which on SQLite (one writer at a time) is the commit order. Anything else (a gap, a
/// failed publish, a poll interval without a commit, rows held beyond the limit, the start) sends it
/// back to reading the table, which is always complete.
/// </para>
/// <para>
/// From memory, the events only the log reads go out transient (<see cref="EventBatch.Source"/>): the broker
/// confirms them without writing them to disk first, which was the longest wait on a write's way to its SSE
/// event. Their rows stay in the table until the log reports them logged (<see cref="EventLogReceipts"/>). If the
/// bus loses its broker connection (the broker may have restarted without them), or the log has not reported
/// a batch within <see cref="LogReportTimeout"/>, the relay reads the table from its start again and publishes
/// them once more, persistent: the log skips ids it already has. The table path (the start, after a failure,
/// and always on PostgreSQL, where several instances may share the table) publishes everything persistent.
/// </para>
/// </summary>
public sealed class OutboxRelay<TContext>(
    IServiceScopeFactory scopes, IBus bus, OutboxSignal signal, ILogger<OutboxRelay<TContext>> log, EventLogReceipts? receipts = null)
    : BackgroundService
    where TContext : DbContext
{
    private const int BatchSize = 200;
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The last sequence number published (or found dead) when every row up to it is known handled, so
    /// rows handed over from memory may continue from it; null while the table must be read.
    /// </summary>
    private long? _handledThrough;

    /// <summary>How many rows the relay published from memory and from the table (for tests and diagnostics).</summary>
    internal (long FromMemory, long FromTable) Published => (Interlocked.Read(ref _fromMemory), Interlocked.Read(ref _fromTable));

    private long _fromMemory;
    private long _fromTable;

    /// <summary>
    /// Rows up to here went out from memory and wait to be deleted: one range delete every
    /// <see cref="DeleteInterval"/> (and before the table is read), not one write transaction per pass.
    /// A crash before it publishes them again, as a crash between a publish and its delete always could.
    /// </summary>
    private long? _deleteThrough;
    private long _deletedThrough;
    private long _lastDelete;
    private static readonly TimeSpan DeleteInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>Batches sent transient from memory, oldest first, whose rows stay until the log reports them logged.</summary>
    private readonly Queue<(long First, long Through, long SentAt)> _awaitingLog = new();
    private readonly HashSet<long> _reportedLogged = [];
    private int _connectionLossesSeen;

    /// <summary>How long a transient batch may wait for the log's report before it is published again, persistent.</summary>
    internal TimeSpan LogReportTimeout { get; set; } = TimeSpan.FromSeconds(30);

    private static readonly IPipe<PublishContext> Transient = Pipe.Execute<PublishContext>(c => c.Durable = false);

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        var failures = 0;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var woken = await signal.WaitAsync(PollInterval, ct);
                CheckAwaitingLog();
                if (!woken || !await RelayHeldAsync(ct))
                {
                    while (await RelayBatchAsync(ct) == BatchSize) { }
                }
                failures = 0;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { break; }
            catch (Exception ex)
            {
                RepublishAwaiting(null); // a failed publish may be a lost connection
                failures++;
                var delay = TimeSpan.FromMilliseconds(Math.Min(30_000, 100 * Math.Pow(2, Math.Min(failures, 10))));
                log.LogWarning(ex, "Outbox relay failed ({Failures} in a row); retrying in {Delay}", failures, delay);
                try { await Task.Delay(delay, ct); } catch (OperationCanceledException) { break; }
            }
        }
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            await DeletePublishedAsync(scope, scope.ServiceProvider.GetRequiredService<TContext>());
        }
        catch (Exception ex)
        {
            log.LogWarning(ex, "Could not delete the outbox rows published last; they will be published again at the next start");
        }
    }

    /// <summary>
    /// Publishes the rows handed over since the last pass, when they continue from the last handled
    /// row without a gap; false when the table must be read instead.
    /// </summary>
    private async Task<bool> RelayHeldAsync(CancellationToken ct)
    {
        if (_handledThrough is not { } through || signal.Overflowed) return false;
        var rows = signal.TakeHeld();
        // Rows the last table pass already published (committed between its start and its read).
        rows.RemoveAll(r => r.Sequence <= through);
        // Nothing new: a wake for rows an earlier pass took. A row committed without being handed over shows
        // up as a gap before the next one that is, or is read by the pass that follows a quiet poll interval.
        if (rows.Count == 0) return true;
        for (var i = 0; i < rows.Count; i++)
        {
            if (rows[i].Sequence != through + 1 + i) return false;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TContext>();
        for (var start = 0; start < rows.Count; start += BatchSize)
        {
            var batch = rows.GetRange(start, Math.Min(BatchSize, rows.Count - start));
            var published = await PublishAsync(scope, db, batch, deferDelete: true, ct);
            Interlocked.Add(ref _fromMemory, published);
            _handledThrough = _deleteThrough = batch[^1].Sequence;
        }
        if (Environment.TickCount64 - _lastDelete >= DeleteInterval.TotalMilliseconds) await DeletePublishedAsync(scope, db);
        return true;
    }

    /// <summary>
    /// Deletes the rows published from memory so far, up to the oldest batch the log has not reported logged
    /// (never a dead row: those stay for inspection).
    /// </summary>
    private async Task DeletePublishedAsync(AsyncServiceScope scope, TContext db)
    {
        _lastDelete = Environment.TickCount64;
        TakeLogReports();
        if (_deleteThrough is not { } published) return;
        var through = _awaitingLog.TryPeek(out var oldest) ? Math.Min(published, oldest.First - 1) : published;
        if (through > _deletedThrough)
        {
            using (await scope.ServiceProvider.GetRequiredService<DatabaseWriteGate>().EnterAsync(CancellationToken.None))
                await db.Database.ExecuteSqlAsync($"DELETE FROM outbox_messages WHERE sequence <= {through} AND dead_at IS NULL", CancellationToken.None);
            _deletedThrough = through;
        }
        if (through == published) _deleteThrough = null;
    }

    /// <summary>Batches the log reported logged leave the waiting list (their rows may go at the next delete).</summary>
    private void TakeLogReports()
    {
        if (receipts is null) return;
        while (receipts.TryTakeLogged(out var through)) _reportedLogged.Add(through);
        while (_awaitingLog.TryPeek(out var oldest) && _reportedLogged.Remove(oldest.Through)) _awaitingLog.Dequeue();
        // Reports that will never match (a batch already published again, a redelivered report): only the
        // oldest batch's is ever looked for, and a report is never older than that.
        if (_reportedLogged.Count > _awaitingLog.Count)
        {
            var oldestFirst = _awaitingLog.TryPeek(out var o) ? o.First : long.MaxValue;
            _reportedLogged.RemoveWhere(t => t < oldestFirst);
        }
    }

    /// <summary>Publishes the waiting batches again when the broker may have lost them or the log has not reported them in time.</summary>
    private void CheckAwaitingLog()
    {
        if (receipts is null) return;
        TakeLogReports();
        var losses = receipts.ConnectionLosses;
        if (losses != _connectionLossesSeen)
        {
            _connectionLossesSeen = losses;
            RepublishAwaiting("the bus lost its broker connection");
        }
        else if (_awaitingLog.TryPeek(out var oldest) && Environment.TickCount64 - oldest.SentAt > LogReportTimeout.TotalMilliseconds)
        {
            RepublishAwaiting($"the event log did not report them logged within {LogReportTimeout.TotalSeconds:0} s");
        }
    }

    /// <summary>
    /// Forgets the waiting batches, so the next pass reads the table from its start and publishes their rows
    /// again, persistent (with the rows after them not yet deleted: consumers and the log skip ids they have).
    /// </summary>
    private void RepublishAwaiting(string? why)
    {
        if (_awaitingLog.TryPeek(out var oldest))
        {
            if (why is not null)
                log.LogWarning("Publishing {Count} event-log batch(es) again, persistent, from outbox row {First}: {Why}",
                    _awaitingLog.Count, oldest.First, why);
            if (_deleteThrough is { } published) _deleteThrough = Math.Min(published, oldest.First - 1);
        }
        _awaitingLog.Clear();
        _reportedLogged.Clear();
        _handledThrough = null;
    }

    /// <summary>Reads and publishes the oldest rows of the table; returns how many were read, so the caller keeps going while the table is full.</summary>
    public async Task<int> RelayBatchAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TContext>();
        var sqlite = db.Database.IsSqlite();
        signal.HoldsRows = sqlite;
        _handledThrough = null;
        await DeletePublishedAsync(scope, db); // else the read would find them again
        // Rows handed over until now are in the table (committed first): read from there, and only
        // rows committed from here on continue from memory.
        signal.TakeHeld(clearOverflow: true);
        // The last number handed out so far; read before the rows, so every row up to it is among them
        // (or gone) when the read is not cut short by the batch size.
        var head = sqlite
            ? await db.Database.SqlQuery<long>($"SELECT seq AS \"Value\" FROM sqlite_sequence WHERE name = 'outbox_messages'").ToListAsync(ct)
            : null;

        // PostgreSQL may run several instances of a service against one database: each relay claims
        // its rows (locked until its transaction ends) and skips rows another relay holds. SQLite has
        // one process per database file, so no claim is needed there.
        await using var claim = db.Database.IsPostgres() ? await db.Database.BeginTransactionAsync(ct) : null;
        // While batches wait for the log's report, every row up to the last one published from memory (which the
        // delete has not reached) is handled: the read starts after it. Otherwise from the start.
        var after = _awaitingLog.Count > 0 ? _deleteThrough ?? 0 : 0;
        var batch = claim is null
            ? await db.Set<OutboxMessage>().AsNoTracking().Where(m => m.DeadAt == null && m.Sequence > after).OrderBy(m => m.Sequence).Take(BatchSize)
                .ToListAsync(ct)
            : await db.Set<OutboxMessage>().FromSql(
                    $"SELECT * FROM outbox_messages WHERE dead_at IS NULL AND sequence > {after} ORDER BY sequence LIMIT {BatchSize} FOR UPDATE SKIP LOCKED")
                .AsNoTracking().ToListAsync(ct);
        if (batch.Count > 0)
        {
            var published = await PublishAsync(scope, db, batch, deferDelete: false, ct);
            Interlocked.Add(ref _fromTable, published);
        }
        if (claim is not null) await claim.CommitAsync(CancellationToken.None);
        if (sqlite && batch.Count < BatchSize)
            _handledThrough = Math.Max(head is [var last] ? last : 0, batch.Count > 0 ? batch[^1].Sequence : 0);
        return batch.Count;
    }

    /// <summary>
    /// Publishes rows in sequence order (started together on one connection, so confirms overlap; events
    /// only the log reads in batches, <see cref="EventBatch"/>, transient from memory when the log reports
    /// back), marks the ones that can never be published dead, and deletes the published ones (unless told to
    /// leave that to <see cref="DeletePublishedAsync"/>, when all went out); throws when any failed.
    /// </summary>
    private async Task<int> PublishAsync(AsyncServiceScope scope, TContext db, List<OutboxMessage> batch, bool deferDelete, CancellationToken ct)
    {
        var transient = deferDelete && receipts is not null;
        var published = new List<long>(batch.Count);
        Exception? firstError = null;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            timeout.CancelAfter(PublishTimeout);
            // Rows in order; a run of consecutive events only the log reads goes out as one EventBatch.
            var sends = new List<(List<OutboxMessage> Rows, Task Publish, bool AwaitsLog)>(batch.Count);
            List<OutboxMessage>? runRows = null;
            List<BatchedEvent>? run = null;
            void EndRun()
            {
                if (run is null) return;
                sends.Add(transient
                    ? (runRows!, bus.Publish(new EventBatch(run) { Source = receipts!.Source, Through = runRows![^1].Sequence }, Transient, timeout.Token), true)
                    : (runRows!, bus.Publish(new EventBatch(run), timeout.Token), false));
                run = null;
                runRows = null;
            }
            foreach (var row in batch)
            {
                if (!EventRouting.EventTypes.TryGetValue(row.Type, out var type))
                {
                    await MarkDeadAsync(db, row, $"unknown event type {row.Type}", ct);
                    continue;
                }
                var logOnly = EventRouting.IsLogOnly(type);
                JsonElement payload = default;
                object? message = null;
                try
                {
                    if (logOnly) payload = JsonSerializer.Deserialize<JsonElement>(row.Payload);
                    else message = JsonSerializer.Deserialize(row.Payload, type, EventRouting.Json)!;
                }
                catch (JsonException ex)
                {
                    await MarkDeadAsync(db, row, ex.Message, ct);
                    continue;
                }
                if (logOnly)
                {
                    (run ??= []).Add(new BatchedEvent(row.MessageId, row.Type, payload));
                    (runRows ??= []).Add(row);
                    continue;
                }
                EndRun();
                sends.Add(([row], bus.Publish(message!, type, Pipe.Execute<PublishContext>(c => c.MessageId = row.MessageId), timeout.Token), false));
            }
            EndRun();
            foreach (var (rows, publish, awaitsLog) in sends)
            {
                try
                {
                    await publish;
                    foreach (var row in rows) published.Add(row.Sequence);
                    if (awaitsLog) _awaitingLog.Enqueue((rows[0].Sequence, rows[^1].Sequence, Environment.TickCount64));
                }
                catch (Exception ex)
                {
                    firstError ??= ex;
                    foreach (var row in rows)
                        await db.Set<OutboxMessage>().Where(m => m.Sequence == row.Sequence)
                            .ExecuteUpdateAsync(s => s.SetProperty(m => m.Attempts, m => m.Attempts + 1)
                                .SetProperty(m => m.LastError, Truncate(ex.Message)), CancellationToken.None);
                }
            }
        }

        // After a failure from memory, the rows that went out stay unless the batch was persistent: a transient
        // batch's rows must wait for the log's report, and the table pass that follows publishes them again.
        if (published.Count > 0 && (!deferDelete || (firstError is not null && !transient)))
            using (await scope.ServiceProvider.GetRequiredService<DatabaseWriteGate>().EnterAsync(CancellationToken.None))
                await DeleteAsync(db, db.Database.IsPostgres(), published);
        if (firstError is not null)
            throw new InvalidOperationException($"{batch.Count - published.Count} outbox message(s) not published", firstError);
        return published.Count;
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
