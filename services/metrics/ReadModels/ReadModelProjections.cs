using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts;
using MissionControl.Contracts.Agents;
using MissionControl.Contracts.Orgs;
using MissionControl.Contracts.Tasks;
using MissionControl.Messaging;
using MissionControl.Metrics.Data;
using MissionControl.Metrics.EventLog;

namespace MissionControl.Metrics.ReadModels;

public static class ReadModelRegistration
{
    /// <summary>The read models the dashboard and the activity feed use, each kept in the log's transaction.</summary>
    public static IServiceCollection AddReadModels(this IServiceCollection services)
    {
        services.AddScoped<ILogProjection, BoardCopyProjection>();
        services.AddScoped<ILogProjection, AgentCopyProjection>();
        services.AddScoped<ILogProjection, TaskProjection>();
        services.AddScoped<ILogProjection, ApprovalProjection>();
        return services;
    }
}

/// <summary>Boards: BoardCreated/Updated upsert, BoardDeleted removes.</summary>
public sealed class BoardCopyProjection : ILogProjection
{
    public async Task ApplyAsync(MetricsDbContext db, IIntegrationEvent message, LogEntry entry, CancellationToken ct)
    {
        switch (message)
        {
            case BoardCreated { Board: var board }:
                await UpsertAsync(db, board, ct);
                break;
            case BoardUpdated { Board: var board }:
                await UpsertAsync(db, board, ct);
                break;
            case BoardDeleted m:
                await db.BoardCopies.Where(b => b.Id == m.BoardId).ExecuteDeleteAsync(ct);
                break;
            case OrganizationDeleted m:
                await db.BoardCopies.Where(b => b.OrganizationId == m.OrganizationId).ExecuteDeleteAsync(ct);
                break;
        }
    }

    private static async Task UpsertAsync(MetricsDbContext db, BoardState board, CancellationToken ct)
    {
        var copy = await db.BoardCopies.FindAsync([board.Id], ct);
        if (copy is null) db.BoardCopies.Add(copy = new BoardCopy { Id = board.Id, Name = board.Name });
        copy.OrganizationId = board.OrganizationId;
        copy.Name = board.Name;
        copy.BoardGroupId = board.BoardGroupId;
    }
}

/// <summary>Agents: created/updated upsert, deleted removes, a heartbeat moves last_seen_at forward.</summary>
public sealed class AgentCopyProjection : ILogProjection
{
    public async Task ApplyAsync(MetricsDbContext db, IIntegrationEvent message, LogEntry entry, CancellationToken ct)
    {
        switch (message)
        {
            case AgentCreated { Agent: var agent }:
                await UpsertAsync(db, agent, ct);
                break;
            case AgentUpdated { Agent: var agent }:
                await UpsertAsync(db, agent, ct);
                break;
            case AgentDeleted m:
                await db.AgentCopies.Where(a => a.Id == m.AgentId).ExecuteDeleteAsync(ct);
                break;
            case AgentHeartbeat m:
                var copy = await db.AgentCopies.FindAsync([m.AgentId], ct);
                // A heartbeat from an agent created before the log began: known from now on, nameless.
                if (copy is null) db.AgentCopies.Add(copy = new AgentCopy { Id = m.AgentId, OrganizationId = m.OrganizationId, BoardId = m.BoardId, Name = "" });
                var at = m.OccurredAt.UtcDateTime;
                if (copy.LastSeenAt is null || copy.LastSeenAt < at) copy.LastSeenAt = at;
                break;
            case OrganizationDeleted m:
                await db.AgentCopies.Where(a => a.OrganizationId == m.OrganizationId).ExecuteDeleteAsync(ct);
                break;
        }
    }

    private static async Task UpsertAsync(MetricsDbContext db, AgentState agent, CancellationToken ct)
    {
        var copy = await db.AgentCopies.FindAsync([agent.Id], ct);
        if (copy is null) db.AgentCopies.Add(copy = new AgentCopy { Id = agent.Id, Name = agent.Name });
        copy.OrganizationId = agent.OrganizationId;
        copy.BoardId = agent.BoardId;
        copy.Name = agent.Name;
        copy.IsBoardLead = agent.IsBoardLead;
    }
}

/// <summary>
/// Tasks: the current state of each task, and one history row per status transition (the creation
/// counts as a transition from nothing into the first status).
/// </summary>
public sealed class TaskProjection : ILogProjection
{
    // The batch's task states, loaded in one query (null: no row yet), instead of a lookup per event.
    private readonly Dictionary<Guid, TaskState?> _states = [];

    public async Task PrepareAsync(MetricsDbContext db, IReadOnlyList<IIntegrationEvent> batch, CancellationToken ct)
    {
        var ids = batch.Select(m => m switch
            {
                TaskCreated c => c.Task.Id,
                TaskUpdated u => u.Task.Id,
                TaskDeleted d => d.Task.Id,
                _ => Guid.Empty,
            }).Where(id => id != Guid.Empty).Distinct().ToList();
        if (ids.Count == 0) return;
        foreach (var id in ids) _states[id] = null;
        await foreach (var state in StatesQuery.For(db)(db, ids).WithCancellation(ct)) _states[state.Id] = state;
    }

    // Once per event-log batch that holds task events: compiled, like the writer's first query.
    private static readonly CompiledPerModel<Func<MetricsDbContext, List<Guid>, IAsyncEnumerable<TaskState>>> StatesQuery = new(() =>
        EF.CompileAsyncQuery((MetricsDbContext db, List<Guid> ids) => db.TaskStates.Where(t => ids.Contains(t.Id))));

    public async Task ApplyAsync(MetricsDbContext db, IIntegrationEvent message, LogEntry entry, CancellationToken ct)
    {
        switch (message)
        {
            case TaskCreated m:
                await UpsertAsync(db, m.OrganizationId, m.Task, ct);
                AddChange(db, entry, m.OrganizationId, m.Task, null);
                break;
            case TaskUpdated m:
                await UpsertAsync(db, m.OrganizationId, m.Task, ct);
                if (m.PreviousStatus != m.Task.Status) AddChange(db, entry, m.OrganizationId, m.Task, m.PreviousStatus);
                break;
            case TaskDeleted m:
                var state = await UpsertAsync(db, m.OrganizationId, m.Task, ct);
                state.Deleted = true;
                state.DeletedAt = m.OccurredAt.UtcDateTime;
                break;
            case BoardDeleted m:
                var at = m.OccurredAt.UtcDateTime;
                await db.TaskStates.Where(t => t.BoardId == m.BoardId && !t.Deleted)
                    .ExecuteUpdateAsync(s => s.SetProperty(t => t.Deleted, true).SetProperty(t => t.DeletedAt, at), ct);
                break;
            case OrganizationDeleted m:
                await db.TaskStatusHistory.Where(t => t.OrganizationId == m.OrganizationId).ExecuteDeleteAsync(ct);
                await db.TaskStates.Where(t => t.OrganizationId == m.OrganizationId).ExecuteDeleteAsync(ct);
                break;
        }
    }

    private async Task<TaskState> UpsertAsync(MetricsDbContext db, Guid org, TaskSnapshot task, CancellationToken ct)
    {
        // A prepared row stays usable while tracked; a save around a deletion detaches everything, so look again then.
        var state = _states.TryGetValue(task.Id, out var known) && (known is null || db.Entry(known).State != EntityState.Detached)
            ? known
            : await db.TaskStates.FindAsync([task.Id], ct);
        return _states[task.Id] = Upsert(db, state, org, task);
    }

    private static TaskState Upsert(MetricsDbContext db, TaskState? state, Guid org, TaskSnapshot task)
    {
        if (state is null)
            db.TaskStates.Add(state = new TaskState { Id = task.Id, Title = task.Title, Status = task.Status, CreatedAt = task.CreatedAt.UtcDateTime });
        state.OrganizationId = org;
        state.BoardId = task.BoardId;
        state.Title = task.Title;
        state.Status = task.Status;
        state.UpdatedAt = task.UpdatedAt.UtcDateTime;
        return state;
    }

    private static void AddChange(MetricsDbContext db, LogEntry entry, Guid org, TaskSnapshot task, string? from) =>
        db.TaskStatusHistory.Add(new TaskStatusChange
        {
            Seq = entry.Seq, TaskId = task.Id, OrganizationId = org, BoardId = task.BoardId, FromStatus = from, ToStatus = task.Status, At = entry.OccurredAt,
        });
}

/// <summary>Approvals: each ApprovalChanged carries the whole approval; the board's deletion removes them.</summary>
public sealed class ApprovalProjection : ILogProjection
{
    public async Task ApplyAsync(MetricsDbContext db, IIntegrationEvent message, LogEntry entry, CancellationToken ct)
    {
        switch (message)
        {
            case ApprovalChanged { Approval: var a } m:
                var copy = await db.ApprovalStates.FindAsync([a.Id], ct);
                if (copy is null) db.ApprovalStates.Add(copy = new ApprovalCopy { Id = a.Id, Status = a.Status, ActionType = a.ActionType });
                copy.OrganizationId = m.OrganizationId;
                copy.BoardId = a.BoardId;
                copy.TaskId = a.TaskId;
                copy.Status = a.Status;
                copy.ActionType = a.ActionType;
                copy.Confidence = a.Confidence;
                copy.CreatedAt = a.CreatedAt.UtcDateTime;
                copy.ResolvedAt = a.ResolvedAt?.UtcDateTime;
                break;
            case BoardDeleted m:
                await db.ApprovalStates.Where(a => a.BoardId == m.BoardId).ExecuteDeleteAsync(ct);
                break;
            case OrganizationDeleted m:
                await db.ApprovalStates.Where(a => a.OrganizationId == m.OrganizationId).ExecuteDeleteAsync(ct);
                break;
        }
    }
}
