namespace MissionControl.Contracts.Orgs;

public sealed record OrganizationCreated : IIntegrationEvent
{
    public required Guid OrganizationId { get; init; }
    public required string Name { get; init; }
    public required Guid CreatedByUserId { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
}

/// <summary>A member's role or board access changed (or the member was added or removed).</summary>
public sealed record MemberChanged : IIntegrationEvent
{
    public required Guid OrganizationId { get; init; }
    public required Guid UserId { get; init; }
    public required string Change { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
}

/// <summary>The board rules other services keep a copy of (tasks enforces them).</summary>
public sealed record BoardRules
{
    public bool RequireApprovalForDone { get; init; } = true;
    public bool RequireReviewBeforeDone { get; init; }
    public bool CommentRequiredForReview { get; init; }
    public bool BlockStatusChangesWithPendingApproval { get; init; }
    public bool OnlyLeadCanChangeStatus { get; init; }
    public int MaxAgents { get; init; } = 1;
}

public sealed record BoardCreated : IIntegrationEvent
{
    public required Guid OrganizationId { get; init; }
    public required Guid BoardId { get; init; }
    public required string Name { get; init; }
    public required string Slug { get; init; }
    public Guid? GatewayId { get; init; }
    public required BoardRules Rules { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
}
