using System.Text.Json;
using MissionControl.Tasks.Data;

namespace MissionControl.Tasks.Apis;

/// <summary>The board as the copy holds it (orgs' BoardRead).</summary>
public sealed record BoardRead(
    Guid Id, Guid OrganizationId, string Name, string Slug, string Description, Guid? GatewayId, Guid? BoardGroupId, string BoardType,
    string? Objective, JsonElement? SuccessMetrics, DateTime? TargetDate, bool GoalConfirmed, string? GoalSource, bool RequireApprovalForDone,
    bool RequireReviewBeforeDone, bool CommentRequiredForReview, bool BlockStatusChangesWithPendingApproval, bool OnlyLeadCanChangeStatus,
    int MaxAgents, DateTime? CreatedAt, DateTime UpdatedAt)
{
    public static BoardRead From(BoardCopy b) => new(
        b.Id, b.OrganizationId, b.Name, b.Slug, b.Description, b.GatewayId, b.BoardGroupId, b.BoardType, b.Objective,
        b.SuccessMetrics is null ? null : Json.Parse(b.SuccessMetrics), b.TargetDate, b.GoalConfirmed, b.GoalSource, b.RequireApprovalForDone,
        b.RequireReviewBeforeDone, b.CommentRequiredForReview, b.BlockStatusChangesWithPendingApproval, b.OnlyLeadCanChangeStatus, b.MaxAgents,
        b.CreatedAt, b.UpdatedAt);
}

public sealed record BoardGroupRead(Guid Id, Guid OrganizationId, string Name, string Slug, string? Description, DateTime CreatedAt, DateTime UpdatedAt)
{
    public static BoardGroupRead From(BoardGroupCopy g) => new(g.Id, g.OrganizationId, g.Name, g.Slug, g.Description, g.CreatedAt, g.UpdatedAt);
}

/// <summary>An agent as the copy holds it.</summary>
public sealed record AgentRead(
    Guid Id, Guid? BoardId, Guid? GatewayId, string Name, string Status, bool IsBoardLead, bool IsGatewayMain, string? OpenclawSessionId,
    DateTime CreatedAt, DateTime UpdatedAt)
{
    public static AgentRead From(AgentCopy a) =>
        new(a.Id, a.BoardId, a.GatewayId, a.Name, a.Status, a.IsBoardLead, a.IsGatewayMain, a.SessionKey, a.CreatedAt, a.UpdatedAt);
}
