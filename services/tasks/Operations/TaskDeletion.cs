using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Tasks;
using MissionControl.InternalAuth;
using MissionControl.Messaging;
using MissionControl.Tasks.Data;

namespace MissionControl.Tasks.Operations;

/// <summary>
/// Deletes a task and what hangs off it (reference §1.5): comments, dependency rows both ways, tags,
/// custom values, approval links (an approval whose primary task this was moves to another linked
/// task, or goes when it has none), then publishes task.deleted and updates the dependents.
/// </summary>
public sealed class TaskDeletion(TasksDbContext db, DatabaseWriteGate gate, TaskReads reads, DependencyCascade cascade, TimeProvider time)
{
    public async Task<IResult> DeleteAsync(BoardCopy board, McPrincipal principal, Guid taskId, CancellationToken ct)
    {
        await using var unit = await WriteUnit.BeginAsync(db, gate, ct);
        var task = await unit.LockTaskAsync(board.Id, taskId, ct);
        if (task is null || task.OrganizationId != board.OrganizationId) return ApiProblems.NotFound("Task not found.");

        var now = time.GetUtcNow().UtcDateTime;
        var snapshot = await reads.SnapshotAsync(board, task, ct);
        var dependents = await cascade.DependentsAsync(task.Id, ct);
        await DeleteChildrenAsync(db, [task.Id], ct);
        db.Tasks.Remove(task);
        await TaskCounts.AddAsync(db, board.Id, task.Status, -1, ct);
        db.AddIntegrationEvent(new TaskDeleted
        {
            OrganizationId = board.OrganizationId, BoardId = board.Id, Task = snapshot, OccurredAt = now,
            Activity = Events.Activity("task.deleted", $"Task deleted: {task.Title}.", principal, task.Id, now),
        });
        if (snapshot.TagIds.Count > 0) Events.TagsChanged(db, board, task.Id, [], now, now);
        await cascade.ApplyAsync(board, dependents, task.Title, DependencyChange.Deleted, principal, now, ct);
        await unit.CommitAsync(ct);
        return Results.Ok(new { ok = true });
    }

    /// <summary>Everything that belongs to these tasks, but not the tasks.</summary>
    public static async Task DeleteChildrenAsync(TasksDbContext db, IReadOnlyList<Guid> taskIds, CancellationToken ct)
    {
        await db.TaskComments.Where(c => taskIds.Contains(c.TaskId)).ExecuteDeleteAsync(ct);
        await db.TaskDependencies.Where(d => taskIds.Contains(d.TaskId) || taskIds.Contains(d.DependsOnTaskId)).ExecuteDeleteAsync(ct);
        await db.TaskTags.Where(t => taskIds.Contains(t.TaskId)).ExecuteDeleteAsync(ct);
        await db.TaskCustomFieldValues.Where(v => taskIds.Contains(v.TaskId)).ExecuteDeleteAsync(ct);
        await db.ApprovalTaskLinks.Where(l => taskIds.Contains(l.TaskId)).ExecuteDeleteAsync(ct);
        var orphans = await db.Approvals.Where(a => a.TaskId != null && taskIds.Contains(a.TaskId.Value)).ToListAsync(ct);
        foreach (var approval in orphans)
        {
            var next = await db.ApprovalTaskLinks.Where(l => l.ApprovalId == approval.Id).OrderBy(l => l.CreatedAt)
                .Select(l => (Guid?)l.TaskId).FirstOrDefaultAsync(ct);
            if (next is null) db.Approvals.Remove(approval);
            else approval.TaskId = next;
        }
    }
}
