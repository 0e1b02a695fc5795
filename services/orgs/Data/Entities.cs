namespace MissionControl.Orgs.Data;

public sealed class User
{
    /// <summary>The identity behind the edge's local admin token: the instance admin.</summary>
    public const string LocalAdminExternalId = "local-admin";

    public Guid Id { get; set; }
    /// <summary>
    /// The identity the edge authenticated ("local-admin", "oidc:&lt;issuer&gt;|&lt;sub&gt;"); null for a
    /// user the instance admin created until that person first signs in with an identity of that email.
    /// </summary>
    public string? ExternalId { get; set; }
    public string? Email { get; set; }
    /// <summary>Lower-cased email: emails match regardless of case.</summary>
    public string? NormalizedEmail { get; set; }
    public string? Name { get; set; }
    public string? PreferredName { get; set; }
    public string? Pronouns { get; set; }
    public string? Timezone { get; set; }
    public string? Notes { get; set; }
    public string? Context { get; set; }
    public Guid? ActiveOrganizationId { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }

    public bool IsInstanceAdmin => ExternalId == LocalAdminExternalId;

    public string? DisplayName => PreferredName ?? Name ?? Email;
}

/// <summary>A user's API key: only its SHA-256 hash and a display prefix are kept.</summary>
public sealed class ApiKey
{
    public Guid Id { get; set; }
    public Guid UserId { get; set; }
    public required string Name { get; set; }
    public required string Prefix { get; set; }
    public required byte[] KeyHash { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? ExpiresAt { get; set; }
    public DateTime? LastUsedAt { get; set; }
}

public sealed class Organization
{
    public Guid Id { get; set; }
    public required string Name { get; set; }
    /// <summary>Lower-cased name: organization names are unique regardless of case (personal ones excepted).</summary>
    public required string NormalizedName { get; set; }
    /// <summary>Made for a user on their first call; every user may have one named "Personal".</summary>
    public bool IsPersonal { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

public sealed class OrganizationMember
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public Guid UserId { get; set; }
    public required string Role { get; set; }
    public bool AllBoardsRead { get; set; }
    public bool AllBoardsWrite { get; set; }
    public List<BoardAccess> BoardAccess { get; set; } = [];
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

public sealed class BoardAccess
{
    public Guid Id { get; set; }
    public Guid OrganizationMemberId { get; set; }
    public Guid BoardId { get; set; }
    public bool CanRead { get; set; }
    public bool CanWrite { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

/// <summary>An invitation to join an organization; only the SHA-256 hash of its token is kept.</summary>
public sealed class OrganizationInvite
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    /// <summary>Lower-cased.</summary>
    public required string InvitedEmail { get; set; }
    public required byte[] TokenHash { get; set; }
    public required string Role { get; set; }
    public bool AllBoardsRead { get; set; }
    public bool AllBoardsWrite { get; set; }
    public List<InviteBoardAccess> BoardAccess { get; set; } = [];
    public Guid? CreatedByUserId { get; set; }
    public Guid? AcceptedByUserId { get; set; }
    public DateTime? AcceptedAt { get; set; }
    public DateTime ExpiresAt { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

public sealed class InviteBoardAccess
{
    public Guid Id { get; set; }
    public Guid OrganizationInviteId { get; set; }
    public Guid BoardId { get; set; }
    public bool CanRead { get; set; }
    public bool CanWrite { get; set; }
}

public sealed class BoardGroup
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public required string Name { get; set; }
    public required string Slug { get; set; }
    public string? Description { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

public sealed class Board
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public required string Name { get; set; }
    public required string Slug { get; set; }
    public string Description { get; set; } = "";
    public Guid? GatewayId { get; set; }
    public Guid? BoardGroupId { get; set; }
    public string BoardType { get; set; } = "goal";
    public string? Objective { get; set; }
    /// <summary>Free JSON as the client sent it.</summary>
    public string? SuccessMetrics { get; set; }
    public DateTime? TargetDate { get; set; }
    public bool GoalConfirmed { get; set; }
    public string? GoalSource { get; set; }
    public bool RequireApprovalForDone { get; set; } = true;
    public bool RequireReviewBeforeDone { get; set; }
    public bool CommentRequiredForReview { get; set; }
    public bool BlockStatusChangesWithPendingApproval { get; set; }
    public bool OnlyLeadCanChangeStatus { get; set; }
    public int MaxAgents { get; set; } = 1;
    /// <summary>
    /// Set (to OrganizationId) on the organization's default board only, the board /api/tasks uses when
    /// a task names none; unique, so two first uses racing create one board.
    /// </summary>
    public Guid? DefaultOfOrganizationId { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

public sealed class Tag
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public required string Name { get; set; }
    public required string Slug { get; set; }
    public required string Color { get; set; }
    public string? Description { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

/// <summary>Which task carries which tag, copied from the tasks service's events (for task_count).</summary>
public sealed class TaskTagCopy
{
    public Guid TaskId { get; set; }
    public Guid TagId { get; set; }
    public Guid OrganizationId { get; set; }
    public Guid BoardId { get; set; }
    /// <summary>The task's updated_at in the event that wrote the row: older events do not overwrite newer ones.</summary>
    public DateTime TaskUpdatedAt { get; set; }
}

public sealed class CustomFieldDefinition
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public required string FieldKey { get; set; }
    public required string Label { get; set; }
    public required string FieldType { get; set; }
    public required string UiVisibility { get; set; }
    public string? ValidationRegex { get; set; }
    public string? Description { get; set; }
    public bool Required { get; set; }
    /// <summary>JSON text, or null.</summary>
    public string? DefaultValue { get; set; }
    public List<BoardCustomField> Boards { get; set; } = [];
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

/// <summary>The boards whose tasks carry a custom field.</summary>
public sealed class BoardCustomField
{
    public Guid CustomFieldDefinitionId { get; set; }
    public Guid BoardId { get; set; }
}
