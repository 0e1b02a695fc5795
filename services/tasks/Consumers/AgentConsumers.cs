using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using MissionControl.Contracts.Agents;
using MissionControl.InternalAuth;
using MissionControl.Messaging;
using MissionControl.Tasks.Apis;
using MissionControl.Tasks.Data;
using MissionControl.Tasks.Domain;
using MissionControl.Tasks.Operations;

namespace MissionControl.Tasks.Consumers;

public sealed class AgentCreatedConsumer(TasksDbContext db, DatabaseWriteGate writes, IMemoryCache cache)
    : IdempotentConsumer<AgentCreated, TasksDbContext>(db, writes)
{
    protected override Task Handle(AgentCreated message, CancellationToken ct) => AgentUpsert.ApplyAsync(Db, cache, message.Agent, ct);
}

public sealed class AgentUpdatedConsumer(TasksDbContext db, DatabaseWriteGate writes, IMemoryCache cache)
    : IdempotentConsumer<AgentUpdated, TasksDbContext>(db, writes)
{
    protected override Task Handle(AgentUpdated message, CancellationToken ct) => AgentUpsert.ApplyAsync(Db, cache, message.Agent, ct);
}

/// <summary>
/// The agent is gone (reference §1.5): its in-progress tasks go back to the inbox, its other tasks are
/// unassigned (each with a TaskUpdated), and approvals and webhooks forget it.
/// </summary>
public sealed class AgentDeletedConsumer(TasksDbContext db, DatabaseWriteGate writes, IMemoryCache cache, TaskReads reads, TimeProvider time)
    : IdempotentConsumer<AgentDeleted, TasksDbContext>(db, writes)
{
    private readonly DatabaseWriteGate _writes = writes;

    protected override async Task Handle(AgentDeleted message, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        Guid? boardId;
        // Repeating this finds nothing left to unassign, so a crash before the inbox row is saved is harmless.
        await using (var unit = await WriteUnit.BeginAsync(Db, _writes, ct))
        {
            var agent = await Db.Agents.FindAsync([message.AgentId], ct);
            boardId = agent?.BoardId ?? message.BoardId;
            if (agent is not null) Db.Agents.Remove(agent);
            var tasks = await Db.Tasks.Where(t => t.AssignedAgentId == message.AgentId && t.OrganizationId == message.OrganizationId).ToListAsync(ct);
            var previous = tasks.ToDictionary(t => t.Id, t => t.Status);
            foreach (var task in tasks)
            {
                if (task.Status == TaskStatuses.InProgress)
                {
                    await TaskCounts.MoveAsync(Db, task.BoardId, task.Status, TaskStatuses.Inbox, ct);
                    task.Status = TaskStatuses.Inbox;
                    task.PreviousInProgressAt = task.InProgressAt;
                    task.InProgressAt = null;
                }
                task.AssignedAgentId = null;
                task.UpdatedAt = now;
            }
            await Db.Approvals.Where(a => a.AgentId == message.AgentId).ExecuteUpdateAsync(s => s.SetProperty(a => a.AgentId, (Guid?)null), ct);
            await Db.Webhooks.Where(w => w.AgentId == message.AgentId).ExecuteUpdateAsync(s => s.SetProperty(w => w.AgentId, (Guid?)null), ct);
            await Db.SaveChangesAsync(ct);

            foreach (var group in tasks.GroupBy(t => t.BoardId))
            {
                if (await Db.Boards.AsNoTracking().FirstOrDefaultAsync(b => b.Id == group.Key, ct) is not { } board) continue;
                foreach (var snapshot in await reads.SnapshotsAsync(board, group.ToList(), ct))
                {
                    var returned = previous[snapshot.Id] != snapshot.Status;
                    var activity = returned
                        ? Events.Activity("task.status_changed", $"Task returned to inbox: assigned agent deleted ({snapshot.Title}).", null, snapshot.Id, now)
                        : Events.Activity("task.updated", $"Task unassigned: assigned agent deleted ({snapshot.Title}).", null, snapshot.Id, now);
                    IReadOnlyList<string> changed = returned ? ["status", "assigned_agent_id", "in_progress_at"] : ["assigned_agent_id"];
                    Db.AddIntegrationEvent(Events.Updated(board, snapshot, previous[snapshot.Id], changed, activity, now));
                }
            }
            await unit.CommitAsync(ct);
        }
        CopyCache.EvictAgents(cache, boardId);
    }
}

internal static class AgentUpsert
{
    public static async Task ApplyAsync(TasksDbContext db, IMemoryCache cache, AgentState state, CancellationToken ct)
    {
        var agent = await db.Agents.FindAsync([state.Id], ct);
        if (agent is null)
        {
            agent = new AgentCopy { Id = state.Id, OrganizationId = state.OrganizationId, Name = state.Name, Status = state.Status };
            db.Agents.Add(agent);
        }
        else if (agent.UpdatedAt > state.UpdatedAt.UtcDateTime) return;
        CopyCache.EvictAgents(cache, agent.BoardId);
        agent.BoardId = state.BoardId;
        agent.GatewayId = state.GatewayId;
        agent.Name = state.Name;
        agent.Status = state.Status;
        agent.IsBoardLead = state.IsBoardLead;
        agent.IsGatewayMain = state.IsGatewayMain;
        agent.SessionKey = state.SessionKey;
        agent.CreatedAt = state.CreatedAt.UtcDateTime;
        agent.UpdatedAt = state.UpdatedAt.UtcDateTime;
        CopyCache.EvictAgents(cache, state.BoardId);
    }
}

/// <summary>
/// An agent's reply to a message about a task (from its gateway session) becomes the agent's comment on
/// the task, so people see it in the thread and on the stream. Only finished turns, only on the agent's
/// own board. A final reply to the running mission-control task (seed 002) the agent was sent also finishes it,
/// as the agent's "done" (MissionControlApi.Finish: review with a pending approval, or done), with the reply as
/// its comment and result.
/// </summary>
public sealed class AgentMessageReceivedConsumer(TasksDbContext db, DatabaseWriteGate writes, CommentWriter comments, TaskUpdates updates, TimeProvider time)
    : IdempotentConsumer<AgentMessageReceived, TasksDbContext>(db, writes)
{
    protected override async Task Handle(AgentMessageReceived message, CancellationToken ct)
    {
        if (message.State != "final" || message.TaskId is not { } taskId || message.AgentId is not { } agentId || string.IsNullOrWhiteSpace(message.Text)) return;
        var task = await Db.Tasks.FirstOrDefaultAsync(t => t.Id == taskId && t.OrganizationId == message.OrganizationId, ct);
        var agent = await Db.Agents.AsNoTracking().FirstOrDefaultAsync(a => a.Id == agentId && a.OrganizationId == message.OrganizationId, ct);
        if (task is null || agent is null || agent.BoardId != task.BoardId) return;
        var board = await Db.Boards.AsNoTracking().FirstOrDefaultAsync(b => b.Id == task.BoardId, ct);
        if (board is null) return;
        var author = new McPrincipal
        {
            Kind = PrincipalKind.Agent, Subject = agentId.ToString(), OrganizationId = message.OrganizationId, Name = agent.Name, AgentBoardId = agent.BoardId,
            Role = agent.IsBoardLead ? AgentRoles.Lead : AgentRoles.Worker,
        };
        var text = message.Text.Trim();
        if (text.Length > TaskInput.MaxComment) text = text[..(TaskInput.MaxComment - 1)] + "…";
        if (task.Kind is not null && task.Status == TaskStatuses.InProgress && task.AssignedAgentId == agentId)
        {
            // As a worker: the agent reports on its own task (a lead could not move it out of in_progress).
            var (status, hooks) = MissionControlApi.Finish(Db, board, task, author);
            var patch = new TaskPatch
            {
                Fields = new HashSet<string> { "status", "comment", "result" }, Status = status, Comment = text,
                Result = text.Length > TaskInput.MaxResult ? text[..TaskInput.MaxResult] : text,
            };
            if (await updates.UpdateAsync(board, author, TaskActor.Worker(agentId), taskId, patch, ct, hooks) is IValueHttpResult<Contracts.Tasks.TaskSnapshot>) return;
            Db.ChangeTracker.Clear(); // refused by the board's rules: the reply is still recorded below
            task = await Db.Tasks.FirstAsync(t => t.Id == taskId, ct);
        }
        await comments.AddAsync(board, task, author, text, notifyAssignee: false, time.GetUtcNow().UtcDateTime, ct);
    }
}
