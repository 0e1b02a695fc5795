using Microsoft.EntityFrameworkCore;
using MissionControl.Messaging;

namespace MissionControl.Tasks.Data;

/// <summary>The rows tasks' decisions depend on, locked for the rest of a <see cref="WriteUnit"/> (PostgreSQL).</summary>
public static class TaskLocks
{
    /// <summary>The task, locked until the unit ends (PostgreSQL); null when it is not on that board.</summary>
    public static async Task<TaskItem?> LockTaskAsync(this WriteUnit unit, Guid boardId, Guid taskId, CancellationToken ct)
    {
        var db = (TasksDbContext)unit.Db;
        var task = unit.LocksRows
            ? (await db.Tasks.FromSql($"SELECT * FROM tasks WHERE id = {taskId} FOR UPDATE").ToListAsync(ct)).FirstOrDefault()
            : await TaskByIdQuery.For(db)(db, taskId, ct);
        return task?.BoardId == boardId ? task : null;
    }

    // The first query of every task change (each PATCH) on SQLite, compiled: a call skips building the
    // expression tree and EF's per-query work on it (parameter extraction, the query cache's key).
    private static readonly CompiledPerModel<Func<TasksDbContext, Guid, CancellationToken, Task<TaskItem?>>> TaskByIdQuery = new(() =>
        EF.CompileAsyncQuery((TasksDbContext db, Guid taskId, CancellationToken ct) => db.Tasks.FirstOrDefault(t => t.Id == taskId)));

    /// <summary>Locks tasks (PostgreSQL) so checks over them (one pending approval per task) hold until commit.</summary>
    public static async Task LockTasksAsync(this WriteUnit unit, IReadOnlyList<Guid> taskIds, CancellationToken ct)
    {
        if (!unit.LocksRows || taskIds.Count == 0) return;
        var ids = taskIds.OrderBy(id => id).ToArray();
        await unit.Db.Database.ExecuteSqlAsync($"SELECT id FROM tasks WHERE id = ANY({ids}) ORDER BY id FOR UPDATE", ct);
    }
}
