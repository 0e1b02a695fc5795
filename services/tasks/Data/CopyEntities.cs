namespace MissionControl.Tasks.Data;

// Local read copies of what other services own, fed by their events (tasks enforces board rules,
// shows tags and validates custom fields and assignees without calling anyone per request).

/// <summary>A board owned by orgs (its rules are enforced here).</summary>
public sealed class BoardCopy
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public required string Name { get; set; }
    public string Slug { get; set; } = "";
    public string Description { get; set; } = "";
    public Guid? GatewayId { get; set; }
    public Guid? BoardGroupId { get; set; }
    public string BoardType { get; set; } = "goal";
    public string? Objective { get; set; }
    /// <summary>JSON text.</summary>
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
    public DateTime? CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

public sealed class BoardGroupCopy
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public required string Name { get; set; }
    public required string Slug { get; set; }
    public string? Description { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

public sealed class TagCopy
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public required string Name { get; set; }
    public required string Slug { get; set; }
    public required string Color { get; set; }
    public string? Description { get; set; }
}

public sealed class CustomFieldDefinitionCopy
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
}

/// <summary>The boards whose tasks carry a custom field.</summary>
public sealed class CustomFieldBinding
{
    public Guid DefinitionId { get; set; }
    public Guid BoardId { get; set; }
}

public sealed class AgentCopy
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    /// <summary>Null for a gateway-main agent.</summary>
    public Guid? BoardId { get; set; }
    public Guid? GatewayId { get; set; }
    public required string Name { get; set; }
    public required string Status { get; set; }
    public bool IsBoardLead { get; set; }
    public bool IsGatewayMain { get; set; }
    public string? SessionKey { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}
