using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using MissionControl.Messaging;

namespace MissionControl.Tasks.Data;

/// <summary>
/// Group commit for new tasks. Each request queues its task and then takes the write gate; whoever
/// holds the gate writes everything queued so far (its own task and those of requests waiting
/// behind it) in one transaction: its new rows by InsertBatch, one outbox batch, one counter upsert per
/// board and status. Under load that turns N small transactions into one, and each request still
/// answers only after its own task has committed.
/// <para>
/// When the commit before held several tasks (requests are arriving together), the writer first waits
/// up to <see cref="TasksOptions.CommitLinger"/> for more, as PostgreSQL's commit_delay does when other
/// transactions are active. A commit costs about half a millisecond of CPU whatever it holds, in tasks
/// and again downstream (the outbox relay's pass, the event log's batch): at concurrency 16 the batches
/// grew from about 3 to about 8 tasks and creates/s by 15–20% (bench/results/2026-12-05-commit-linger.txt).
/// A lone request (the commit before held one) never waits.
/// </para>
/// </summary>
public sealed class TaskWriter(IServiceScopeFactory scopes, DatabaseWriteGate gate, IOptions<TasksOptions> options)
{
    private const int MaxBatch = 256;
    /// <summary>The wait ends early once this many tasks are queued.</summary>
    private const int LingerBatch = 16;

    private readonly ConcurrentQueue<Pending> _queue = new();
    private readonly TimeSpan _linger = options.Value.CommitLinger;
    private TaskCompletionSource? _more;
    private int _lastBatch;
    private long _commits;

    /// <param name="Task">The new task.</param>
    /// <param name="Write">Adds what goes with it to the context: its dependency, tag and value rows and its events.</param>
    private sealed record Pending(TaskItem Task, Action<TasksDbContext> Write)
    {
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Transactions written so far.</summary>
    public long Commits => Interlocked.Read(ref _commits);

    /// <summary>Tasks waiting for a commit.</summary>
    public int Queued => _queue.Count;

    public async Task AddAsync(TaskItem task, Action<TasksDbContext> write)
    {
        var pending = new Pending(task, write);
        _queue.Enqueue(pending);
        if (_queue.Count >= LingerBatch) Volatile.Read(ref _more)?.TrySetResult();
        // Not cancellable: a queued task must be written by someone, and this request may be the only one left.
        using (await gate.EnterAsync(CancellationToken.None))
        {
            if (!pending.Done.Task.IsCompleted) await WriteQueuedAsync();
        }
        await pending.Done.Task;
    }

    private async Task WriteQueuedAsync()
    {
        if (_lastBatch > 1 && _linger > TimeSpan.Zero && _queue.Count < LingerBatch) await LingerAsync();
        var batch = new List<Pending>();
        while (batch.Count < MaxBatch && _queue.TryDequeue(out var next)) batch.Add(next);
        _lastBatch = batch.Count;
        if (batch.Count == 0) return;
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<TasksDbContext>();
            // Not the request's token: once dequeued, these tasks are written even if one caller gives up.
            await using var tx = await db.Database.BeginTransactionAsync(CancellationToken.None);
            foreach (var p in batch)
            {
                db.Tasks.Add(p.Task);
                p.Write(db);
            }
            await db.WriteAddedAsync(CancellationToken.None);
            await db.SaveChangesAsync(CancellationToken.None);
            // Count rows in one order (as TaskCounts.MoveAsync does), so concurrent writers cannot deadlock on them.
            foreach (var group in batch.GroupBy(p => (p.Task.BoardId, p.Task.Status)).OrderBy(g => g.Key.BoardId).ThenBy(g => g.Key.Status, StringComparer.Ordinal))
                await TaskCounts.AddAsync(db, group.Key.BoardId, group.Key.Status, group.Count(), CancellationToken.None);
            await tx.CommitAsync(CancellationToken.None);
            Interlocked.Increment(ref _commits);
            foreach (var p in batch) p.Done.TrySetResult();
        }
        catch (Exception ex)
        {
            foreach (var p in batch) p.Done.TrySetException(ex);
        }
    }

    /// <summary>Holds the gate until <see cref="LingerBatch"/> tasks are queued or the linger is over.</summary>
    private async Task LingerAsync()
    {
        var more = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _more, more);
        if (_queue.Count < LingerBatch) await more.Task.CompletedWithinAsync(_linger, CancellationToken.None);
        Volatile.Write(ref _more, null);
    }
}
