using System.Collections.Concurrent;
using MissionControl.Messaging;

namespace MissionControl.Tasks.Data;

/// <summary>
/// Group commit for new tasks. Each request queues its task and then takes the write gate; whoever
/// holds the gate writes everything queued so far (its own task and those of requests waiting
/// behind it) in one transaction: its new rows by InsertBatch, one outbox batch, one counter upsert per
/// board and status. Under load that turns N small transactions into one, and each request still
/// answers only after its own task has committed.
/// </summary>
public sealed class TaskWriter(IServiceScopeFactory scopes, DatabaseWriteGate gate)
{
    private const int MaxBatch = 256;
    private readonly ConcurrentQueue<Pending> _queue = new();

    /// <param name="Task">The new task.</param>
    /// <param name="Write">Adds what goes with it to the context: its dependency, tag and value rows and its events.</param>
    private sealed record Pending(TaskItem Task, Action<TasksDbContext> Write)
    {
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public async Task AddAsync(TaskItem task, Action<TasksDbContext> write)
    {
        var pending = new Pending(task, write);
        _queue.Enqueue(pending);
        // Not cancellable: a queued task must be written by someone, and this request may be the only one left.
        using (await gate.EnterAsync(CancellationToken.None))
        {
            if (!pending.Done.Task.IsCompleted) await WriteQueuedAsync();
        }
        await pending.Done.Task;
    }

    private async Task WriteQueuedAsync()
    {
        var batch = new List<Pending>();
        while (batch.Count < MaxBatch && _queue.TryDequeue(out var next)) batch.Add(next);
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
            foreach (var p in batch) p.Done.TrySetResult();
        }
        catch (Exception ex)
        {
            foreach (var p in batch) p.Done.TrySetException(ex);
        }
    }
}
