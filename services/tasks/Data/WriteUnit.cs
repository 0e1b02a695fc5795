using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using MissionControl.Messaging;

namespace MissionControl.Tasks.Data;

/// <summary>
/// One read-decide-write change in one transaction. On SQLite it holds the write gate for the whole
/// unit (writers queue instead of meeting SQLite's busy handler, and what was read cannot change
/// before the write); on PostgreSQL rows read for update are locked with FOR UPDATE instead.
/// </summary>
public sealed class WriteUnit : IAsyncDisposable
{
    private readonly TasksDbContext _db;
    private readonly IDbContextTransaction _tx;
    private readonly DatabaseWriteGate.Releaser _gate;

    private WriteUnit(TasksDbContext db, IDbContextTransaction tx, DatabaseWriteGate.Releaser gate) => (_db, _tx, _gate) = (db, tx, gate);

    public static async Task<WriteUnit> BeginAsync(TasksDbContext db, DatabaseWriteGate gate, CancellationToken ct)
    {
        var releaser = await gate.EnterAsync(ct);
        try
        {
            return new WriteUnit(db, await db.Database.BeginTransactionAsync(ct), releaser);
        }
        catch
        {
            releaser.Dispose();
            throw;
        }
    }

    /// <summary>The task, locked until the unit ends (PostgreSQL); null when it is not on that board.</summary>
    public async Task<TaskItem?> LockTaskAsync(Guid boardId, Guid taskId, CancellationToken ct)
    {
        var rows = _db.Database.IsNpgsql()
            ? await _db.Tasks.FromSql($"SELECT * FROM tasks WHERE id = {taskId} FOR UPDATE").ToListAsync(ct)
            : await _db.Tasks.Where(t => t.Id == taskId).ToListAsync(ct);
        return rows.FirstOrDefault(t => t.BoardId == boardId);
    }

    /// <summary>Locks tasks (PostgreSQL) so checks over them (one pending approval per task) hold until commit.</summary>
    public async Task LockTasksAsync(IReadOnlyList<Guid> taskIds, CancellationToken ct)
    {
        if (!_db.Database.IsNpgsql() || taskIds.Count == 0) return;
        var ids = taskIds.OrderBy(id => id).ToArray();
        await _db.Database.ExecuteSqlAsync($"SELECT id FROM tasks WHERE id = ANY({ids}) ORDER BY id FOR UPDATE", ct);
    }

    public async Task CommitAsync(CancellationToken ct)
    {
        await _db.SaveChangesAsync(ct);
        await _tx.CommitAsync(ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _tx.DisposeAsync();
        _gate.Dispose();
    }
}
