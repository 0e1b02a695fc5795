using Microsoft.EntityFrameworkCore;
using MissionControl.InternalAuth;
using MissionControl.Messaging;
using MissionControl.Tasks.Data;
using MissionControl.Tasks.Domain;

namespace MissionControl.Tasks.Operations;

public enum DependencyChange
{
    /// <summary>The dependency moved to done.</summary>
    Completed,
    /// <summary>The dependency left done: dependents already under way go back to the inbox.</summary>
    Reopened,
    /// <summary>The dependency was deleted (its rows are gone by now).</summary>
    Deleted,
}

/// <summary>
/// What a dependency's change does to the unfinished tasks that depend on it (reference §3.6): each
/// gets a task.updated event (its blocked state changed); a reopened dependency sends the ones not
/// pristine in the inbox back there, unassigned.
/// </summary>
public sealed class DependencyCascade(TasksDbContext db, TaskReads reads)
{
    /// <summary>The open tasks (not done or cancelled) that depend on the task (call before its dependency rows are deleted).</summary>
    public Task<List<TaskItem>> DependentsAsync(Guid taskId, CancellationToken ct) =>
        db.Tasks.Where(t => db.TaskDependencies.Where(d => d.DependsOnTaskId == taskId).Select(d => d.TaskId).Contains(t.Id)
                            && t.Status != TaskStatuses.Done && t.Status != TaskStatuses.Cancelled).ToListAsync(ct);

    public async Task ApplyAsync(BoardCopy board, List<TaskItem> dependents, string dependencyTitle, DependencyChange change, McPrincipal? actor,
        DateTime now, CancellationToken ct)
    {
        if (dependents.Count == 0) return;
        var previous = dependents.ToDictionary(t => t.Id, t => t.Status);
        var reset = new HashSet<Guid>();
        foreach (var task in dependents)
        {
            if (change == DependencyChange.Reopened && !(task.Status == TaskStatuses.Inbox && task.AssignedAgentId is null))
            {
                await TaskCounts.MoveAsync(db, board.Id, task.Status, TaskStatuses.Inbox, ct);
                task.Status = TaskStatuses.Inbox;
                task.AssignedAgentId = null;
                task.PreviousInProgressAt = task.InProgressAt;
                task.InProgressAt = null;
                reset.Add(task.Id);
            }
            task.UpdatedAt = now;
        }
        await db.SaveChangesAsync(ct);

        var snapshots = await reads.SnapshotsAsync(board, dependents, ct);
        foreach (var snapshot in snapshots)
        {
            var wasReset = reset.Contains(snapshot.Id);
            var activity = wasReset
                ? Events.Activity("task.status_changed", $"Task returned to inbox: dependency reopened ({dependencyTitle}).", actor, snapshot.Id, now)
                : Events.Activity("task.updated", change == DependencyChange.Deleted
                    ? $"Dependency deleted: {dependencyTitle}."
                    : $"Dependency completion changed: {dependencyTitle}.", actor, snapshot.Id, now);
            IReadOnlyList<string> changed = wasReset ? ["status", "assigned_agent_id", "in_progress_at", "blocked_by_task_ids"]
                : change == DependencyChange.Deleted ? ["depends_on_task_ids", "blocked_by_task_ids"] : ["blocked_by_task_ids"];
            db.AddIntegrationEvent(Events.Updated(board, snapshot, previous[snapshot.Id], changed, activity, now));
        }
    }
}
