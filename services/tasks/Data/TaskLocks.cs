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
        var rows = unit.LocksRows
            ? await db.Tasks.FromSql($"SELECT * FROM tasks WHERE id = {taskId} FOR UPDATE").ToListAsync(ct)
            : await db.Tasks.Where(t => t.Id == taskId).ToListAsync(ct);
        return rows.FirstOrDefault(t => t.BoardId == boardId);
    }

    /// <summary>Locks tasks (PostgreSQL) so checks over them (one pending approval per task) hold until commit.</summary>
    public static async Task LockTasksAsync(this WriteUnit unit, IReadOnlyList<Guid> taskIds, CancellationToken ct)
    {
        if (!unit.LocksRows || taskIds.Count == 0) return;
        var ids = taskIds.OrderBy(id => id).ToArray();
        await unit.Db.Database.ExecuteSqlAsync($"SELECT id FROM tasks WHERE id = ANY({ids}) ORDER BY id FOR UPDATE", ct);
    }
}
