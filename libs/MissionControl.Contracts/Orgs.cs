using System.Text.Json;

namespace MissionControl.Contracts.Orgs;

public sealed record OrganizationCreated : IIntegrationEvent
{
    public required Guid OrganizationId { get; init; }
    public required string Name { get; init; }
    public required Guid CreatedByUserId { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
}

/// <summary>The organization and everything in it is gone: every service drops the tenant's rows.</summary>
public sealed record OrganizationDeleted : IIntegrationEvent
{
    public required Guid OrganizationId { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
}

/// <summary>
/// A member's role or board access changed, the member was added or removed, or the user switched
/// active organization. Every edge instance drops the cached principals of that user.
/// Change: added | removed | role | access | active_organization | user_deleted.
/// </summary>
public sealed record MemberChanged : IIntegrationEvent
{
    public required Guid OrganizationId { get; init; }
    public required Guid UserId { get; init; }
    public required string Change { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
}

/// <summary>
/// A user credential stopped being valid (an API key deleted, a user deleted): every edge instance
/// forgets it at once. Not tenant-scoped: OrganizationId is Guid.Empty.
/// </summary>
public sealed record CredentialRevoked : IIntegrationEvent
{
    public Guid OrganizationId { get; init; } = Guid.Empty;
    public required Guid UserId { get; init; }
    /// <summary>The revoked API key, or null when every credential of the user is revoked.</summary>
    public Guid? ApiKeyId { get; init; }
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

/// <summary>A board as orgs holds it (the /api/v1 BoardRead, minus nothing), carried by board events.</summary>
public sealed record BoardState
{
    public required Guid Id { get; init; }
    public required Guid OrganizationId { get; init; }
    public required string Name { get; init; }
    public required string Slug { get; init; }
    public string Description { get; init; } = "";
    public Guid? GatewayId { get; init; }
    public Guid? BoardGroupId { get; init; }
    public string BoardType { get; init; } = "goal";
    public string? Objective { get; init; }
    /// <summary>Free JSON as the client sent it, or null.</summary>
    public JsonElement? SuccessMetrics { get; init; }
    public DateTimeOffset? TargetDate { get; init; }
    public bool GoalConfirmed { get; init; }
    public string? GoalSource { get; init; }
    public required BoardRules Rules { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
}

public sealed record BoardCreated : IIntegrationEvent
{
    public required Guid OrganizationId { get; init; }
    public required Guid BoardId { get; init; }
    public required BoardState Board { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
}

/// <summary>The board after the change; ChangedFields names what changed (snake_case API names).</summary>
public sealed record BoardUpdated : IIntegrationEvent
{
    public required Guid OrganizationId { get; init; }
    public required Guid BoardId { get; init; }
    public required BoardState Board { get; init; }
    public IReadOnlyList<string> ChangedFields { get; init; } = [];
    /// <summary>The group the board left, when board_group_id changed.</summary>
    public Guid? PreviousBoardGroupId { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
}

/// <summary>The board is gone: every service deletes what it holds for it.</summary>
public sealed record BoardDeleted : IIntegrationEvent
{
    public required Guid OrganizationId { get; init; }
    public required Guid BoardId { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
}

public sealed record BoardGroupState
{
    public required Guid Id { get; init; }
    public required Guid OrganizationId { get; init; }
    public required string Name { get; init; }
    public required string Slug { get; init; }
    public string? Description { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>A board group was created or changed.</summary>
public sealed record BoardGroupChanged : IIntegrationEvent
{
    public required Guid OrganizationId { get; init; }
    public required BoardGroupState Group { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
}

/// <summary>The group is gone; its boards are ungrouped (each also gets a BoardUpdated).</summary>
public sealed record BoardGroupDeleted : IIntegrationEvent
{
    public required Guid OrganizationId { get; init; }
    public required Guid GroupId { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
}

public sealed record TagState
{
    public required Guid Id { get; init; }
    public required Guid OrganizationId { get; init; }
    public required string Name { get; init; }
    public required string Slug { get; init; }
    /// <summary>Six lower-case hex digits, no '#'.</summary>
    public required string Color { get; init; }
    public string? Description { get; init; }
}

/// <summary>A tag was created or changed (tasks keeps a copy to show tags on tasks).</summary>
public sealed record TagChanged : IIntegrationEvent
{
    public required Guid OrganizationId { get; init; }
    public required TagState Tag { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
}

/// <summary>The tag is gone: its assignments to tasks go too.</summary>
public sealed record TagDeleted : IIntegrationEvent
{
    public required Guid OrganizationId { get; init; }
    public required Guid TagId { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
}

/// <summary>A task custom field definition (tasks validates values against it).</summary>
public sealed record CustomFieldDefinitionState
{
    public required Guid Id { get; init; }
    public required Guid OrganizationId { get; init; }
    /// <summary>Immutable key the values are stored under.</summary>
    public required string FieldKey { get; init; }
    public required string Label { get; init; }
    /// <summary>text | text_long | integer | decimal | boolean | date | date_time | url | json</summary>
    public required string FieldType { get; init; }
    /// <summary>always | if_set | hidden</summary>
    public required string UiVisibility { get; init; }
    public string? ValidationRegex { get; init; }
    public string? Description { get; init; }
    public bool Required { get; init; }
    public JsonElement? DefaultValue { get; init; }
    /// <summary>The boards whose tasks carry this field.</summary>
    public required IReadOnlyList<Guid> BoardIds { get; init; }
}

public sealed record CustomFieldDefinitionChanged : IIntegrationEvent
{
    public required Guid OrganizationId { get; init; }
    public required CustomFieldDefinitionState Definition { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
}

public sealed record CustomFieldDefinitionDeleted : IIntegrationEvent
{
    public required Guid OrganizationId { get; init; }
    public required Guid DefinitionId { get; init; }
    public required string FieldKey { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
}
