namespace MissionControl.Tasks.Data;

public sealed class Approval
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public Guid BoardId { get; set; }
    /// <summary>The primary (first) linked task.</summary>
    public Guid? TaskId { get; set; }
    public Guid? AgentId { get; set; }
    public required string ActionType { get; set; }
    /// <summary>JSON text.</summary>
    public string? Payload { get; set; }
    public double Confidence { get; set; }
    /// <summary>JSON object text {name: int}.</summary>
    public string? RubricScores { get; set; }
    public required string Status { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? ResolvedAt { get; set; }
}

public sealed class ApprovalTaskLink
{
    public Guid ApprovalId { get; set; }
    public Guid TaskId { get; set; }
    public DateTime CreatedAt { get; set; }
}

/// <summary>Board memory (board chat when tagged "chat") or, with BoardGroupId, board-group memory.</summary>
public abstract class MemoryEntry
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public required string Content { get; set; }
    /// <summary>JSON array text.</summary>
    public required string Tags { get; set; }
    public bool IsChat { get; set; }
    public string? Source { get; set; }
    public Guid? AgentId { get; set; }
    public Guid? UserId { get; set; }
    public DateTime CreatedAt { get; set; }
}

public sealed class BoardMemory : MemoryEntry
{
    public Guid BoardId { get; set; }
}

public sealed class BoardGroupMemory : MemoryEntry
{
    public Guid BoardGroupId { get; set; }
}

public sealed class OnboardingSession
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public Guid BoardId { get; set; }
    /// <summary>The gateway-main session the onboarding chat runs in.</summary>
    public required string SessionKey { get; set; }
    /// <summary>active | completed | confirmed</summary>
    public required string Status { get; set; }
    /// <summary>JSON array of {role, content, timestamp}.</summary>
    public required string Messages { get; set; }
    /// <summary>JSON object text.</summary>
    public string? DraftGoal { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

public sealed class BoardWebhook
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public Guid BoardId { get; set; }
    public Guid? AgentId { get; set; }
    public required string Description { get; set; }
    public bool Enabled { get; set; } = true;
    /// <summary>The HMAC secret, encrypted with ASP.NET Core Data Protection; never returned.</summary>
    public string? ProtectedSecret { get; set; }
    public string? SignatureHeader { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

public sealed class BoardWebhookPayload
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public Guid BoardId { get; set; }
    public Guid WebhookId { get; set; }
    /// <summary>JSON text (a JSON value, or a JSON string holding a non-JSON body).</summary>
    public required string Payload { get; set; }
    /// <summary>JSON object text of the kept headers.</summary>
    public string? Headers { get; set; }
    public string? SourceIp { get; set; }
    public string? ContentType { get; set; }
    public DateTime ReceivedAt { get; set; }
}
