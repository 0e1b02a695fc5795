using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using MissionControl.Agents.Data;
using MissionControl.Agents.Operations;
using MissionControl.Contracts.Orgs;
using MissionControl.Messaging;

namespace MissionControl.Agents.Consumers;

public sealed class BoardCreatedConsumer(AgentsDbContext db, DatabaseWriteGate writes) : IdempotentConsumer<BoardCreated, AgentsDbContext>(db, writes)
{
    protected override Task Handle(BoardCreated message, CancellationToken ct) => BoardUpsert.ApplyAsync(Db, message.Board, ct);
}

/// <summary>
/// The copy, and when something the agents' files show changed (name, description, goal, rules), an
/// update run for each of the board's agents that has files on the gateway or a run in flight.
/// </summary>
public sealed class BoardUpdatedConsumer(AgentsDbContext db, DatabaseWriteGate writes, Provisioning provisioning, AgentClock clock)
    : IdempotentConsumer<BoardUpdated, AgentsDbContext>(db, writes)
{
    /// <summary>The board fields the workspace templates render.</summary>
    public static readonly string[] RenderedFields =
    [
        "name", "description", "board_type", "objective", "success_metrics", "target_date", "goal_confirmed", "require_approval_for_done",
        "require_review_before_done", "comment_required_for_review", "block_status_changes_with_pending_approval", "only_lead_can_change_status",
        "max_agents",
    ];

    protected override async Task Handle(BoardUpdated message, CancellationToken ct)
    {
        if (await BoardUpsert.ApplyAsync(Db, message.Board, ct) is not { } board || !message.ChangedFields.Any(f => RenderedFields.Contains(f))) return;
        var now = clock.Now;
        var agents = await Db.Agents.Where(a => a.BoardId == board.Id && a.OrganizationId == board.OrganizationId).OrderBy(a => a.CreatedAt).ToListAsync(ct);
        foreach (var agent in agents.Where(Provisioning.NeedsRerender)) await provisioning.RerenderAsync(agent, now, ct);
    }
}

/// <summary>The board is gone: so are its agents, on the gateway too (AgentDeleted and AgentDeprovisionRequested for each).</summary>
public sealed class BoardDeletedConsumer(AgentsDbContext db, DatabaseWriteGate writes, AgentClock clock)
    : IdempotentConsumer<BoardDeleted, AgentsDbContext>(db, writes)
{
    protected override async Task Handle(BoardDeleted message, CancellationToken ct)
    {
        var now = clock.Now;
        var agents = await Db.Agents.Where(a => a.BoardId == message.BoardId && a.OrganizationId == message.OrganizationId).ToListAsync(ct);
        var gatewayIds = agents.Select(a => a.GatewayId).OfType<Guid>().Distinct().ToList();
        var known = await Db.Gateways.Where(g => gatewayIds.Contains(g.Id)).Select(g => g.Id).ToListAsync(ct);
        foreach (var agent in agents)
        {
            Db.Agents.Remove(agent);
            Events.Deleted(Db, agent, deprovision: agent.GatewayId is { } g && known.Contains(g), now);
        }
        if (await Db.Boards.FindAsync([message.BoardId], ct) is { } board) Db.Boards.Remove(board);
    }
}

internal static class BoardUpsert
{
    /// <summary>Creates or updates the copy; an event older than the copy (board events can overtake each other) changes nothing (null).</summary>
    public static async Task<BoardCopy?> ApplyAsync(AgentsDbContext db, BoardState state, CancellationToken ct)
    {
        var board = await db.Boards.FindAsync([state.Id], ct);
        if (board is null)
        {
            board = new BoardCopy { Id = state.Id, OrganizationId = state.OrganizationId, Name = state.Name };
            db.Boards.Add(board);
        }
        else if (board.UpdatedAt > state.UpdatedAt.UtcDateTime) return null;
        board.Name = state.Name;
        board.Description = state.Description;
        board.GatewayId = state.GatewayId;
        board.BoardType = state.BoardType;
        board.Objective = state.Objective;
        board.SuccessMetrics = state.SuccessMetrics is { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined } metrics ? metrics.GetRawText() : null;
        board.TargetDate = state.TargetDate?.UtcDateTime;
        board.GoalConfirmed = state.GoalConfirmed;
        board.RequireApprovalForDone = state.Rules.RequireApprovalForDone;
        board.RequireReviewBeforeDone = state.Rules.RequireReviewBeforeDone;
        board.CommentRequiredForReview = state.Rules.CommentRequiredForReview;
        board.BlockStatusChangesWithPendingApproval = state.Rules.BlockStatusChangesWithPendingApproval;
        board.OnlyLeadCanChangeStatus = state.Rules.OnlyLeadCanChangeStatus;
        board.MaxAgents = state.Rules.MaxAgents;
        board.UpdatedAt = state.UpdatedAt.UtcDateTime;
        return board;
    }
}
