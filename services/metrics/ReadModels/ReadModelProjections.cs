using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;
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
        services.AddSingleton<DeletedTaskRetention>();
        services.AddHostedService(sp => sp.GetRequiredService<DeletedTaskRetention>());
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
/// <para>
/// A task event writes its state with one upsert statement, run at once in the log's transaction: every
/// task event carries the whole task, so nothing needs loading first. Loading the batch's states, tracking
/// them and saving them (a query, a change-tracking pass, an INSERT or UPDATE per task) cost the writer about
/// a fifth more CPU per event, and a status change about a third more of metrics' CPU
/// (bench/results/2026-12-05-task-state-upsert.txt).
/// </para>
/// </summary>
public sealed class TaskProjection : ILogProjection, IAsyncDisposable
{
    public async Task ApplyAsync(MetricsDbContext db, IIntegrationEvent message, LogEntry entry, CancellationToken ct)
    {
        switch (message)
        {
            case TaskCreated m:
                await UpsertAsync(db, m.OrganizationId, m.Task, deletedAt: null, ct);
                AddChange(db, entry, m.OrganizationId, m.Task, null);
                break;
            case TaskUpdated m:
                await UpsertAsync(db, m.OrganizationId, m.Task, deletedAt: null, ct);
                if (m.PreviousStatus != m.Task.Status) AddChange(db, entry, m.OrganizationId, m.Task, m.PreviousStatus);
                break;
            case TaskDeleted m:
                await UpsertAsync(db, m.OrganizationId, m.Task, m.OccurredAt.UtcDateTime, ct);
                break;
            case BoardDeleted m:
                var at = m.OccurredAt.UtcDateTime;
                // With the organization, the (organization, board, status) index finds the board's rows; by
                // board alone it was a scan of every task state, inside the event log's write.
                await db.TaskStates.Where(t => t.OrganizationId == m.OrganizationId && t.BoardId == m.BoardId && !t.Deleted)
                    .ExecuteUpdateAsync(s => s.SetProperty(t => t.Deleted, true).SetProperty(t => t.DeletedAt, at), ct);
                break;
            case OrganizationDeleted m:
                await db.TaskStatusHistory.Where(t => t.OrganizationId == m.OrganizationId).ExecuteDeleteAsync(ct);
                await db.TaskStates.Where(t => t.OrganizationId == m.OrganizationId).ExecuteDeleteAsync(ct);
                break;
        }
    }

    /// <summary>
    /// The task as the event shows it. Its creation time stays the first one seen, and a deletion sticks
    /// (a deleted task's later events, if any, do not bring it back). SQLite and PostgreSQL share the syntax.
    /// One command per batch (this projection lives as long as the batch's scope), its parameters made once:
    /// SQLite keeps the statement prepared while its text stays, so a batch's later events only bind and run it.
    /// </summary>
    private async Task UpsertAsync(MetricsDbContext db, Guid org, TaskSnapshot task, DateTime? deletedAt, CancellationToken ct)
    {
        object?[] values =
            [task.Id, org, task.BoardId, task.Title, task.Status, task.CreatedAt.UtcDateTime, task.UpdatedAt.UtcDateTime, deletedAt is not null, deletedAt];
        if (_upsert is null)
        {
            _upsert = db.Database.GetDbConnection().CreateCommand();
            _upsert.CommandText = UpsertSql;
            // Made by EF's own type mappings, so values are stored as its queries read them (GUIDs as text on SQLite).
            var types = db.GetService<IRelationalTypeMappingSource>();
            for (var i = 0; i < values.Length; i++)
                _upsert.Parameters.Add(types.FindMapping(UpsertTypes[i])!.CreateParameter(_upsert, $"@p{i}", values[i], nullable: values[i] is null));
        }
        else
        {
            for (var i = 0; i < values.Length; i++) _upsert.Parameters[i].Value = values[i] ?? DBNull.Value;
        }
        _upsert.Transaction = db.Database.CurrentTransaction!.GetDbTransaction();
        await _upsert.ExecuteNonQueryAsync(ct);
    }

    private DbCommand? _upsert;

    private static readonly Type[] UpsertTypes =
        [typeof(Guid), typeof(Guid), typeof(Guid), typeof(string), typeof(string), typeof(DateTime), typeof(DateTime), typeof(bool), typeof(DateTime?)];

    private const string UpsertSql = """
        INSERT INTO task_states (id, organization_id, board_id, title, status, created_at, updated_at, deleted, deleted_at)
        VALUES (@p0, @p1, @p2, @p3, @p4, @p5, @p6, @p7, @p8)
        ON CONFLICT (id) DO UPDATE SET organization_id = excluded.organization_id, board_id = excluded.board_id,
            title = excluded.title, status = excluded.status, updated_at = excluded.updated_at,
            deleted = task_states.deleted OR excluded.deleted, deleted_at = COALESCE(excluded.deleted_at, task_states.deleted_at)
        """;

    public ValueTask DisposeAsync() => _upsert?.DisposeAsync() ?? ValueTask.CompletedTask;

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
                await db.ApprovalStates.Where(a => a.OrganizationId == m.OrganizationId && a.BoardId == m.BoardId).ExecuteDeleteAsync(ct);
                break;
            case OrganizationDeleted m:
                await db.ApprovalStates.Where(a => a.OrganizationId == m.OrganizationId).ExecuteDeleteAsync(ct);
                break;
        }
    }
}
