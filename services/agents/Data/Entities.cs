namespace MissionControl.Agents.Data;

/// <summary>
/// An agent on an OpenClaw gateway (a board worker, a board lead, or a gateway's main agent with no board),
/// or a custom agent: a board agent with no gateway, run by its owner, that pulls or is called back.
/// </summary>
public sealed class Agent
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    /// <summary>Null for a gateway-main agent.</summary>
    public Guid? BoardId { get; set; }
    public Guid? GatewayId { get; set; }
    public required string Name { get; set; }
    /// <summary>The lifecycle as stored (provisioning, updating, provision_failed, ready, or what the agent's heartbeat reported); read through AgentStatus.</summary>
    public required string Status { get; set; }
    /// <summary>JSON text, or null (defaults apply).</summary>
    public string? HeartbeatConfig { get; set; }
    /// <summary>JSON object text ({str: str}), or null.</summary>
    public string? IdentityProfile { get; set; }
    public string? IdentityTemplate { get; set; }
    public string? SoulTemplate { get; set; }
    public bool IsBoardLead { get; set; }
    public bool IsGatewayMain { get; set; }
    public string? GatewayAgentId { get; set; }
    public string? SessionKey { get; set; }
    public string? WorkspacePath { get; set; }
    /// <summary>SHA-256 of the agent's token as the gateway-bridge reported it; never the token.</summary>
    public string? TokenHash { get; set; }
    public DateTime? LastSeenAt { get; set; }

    /// <summary>Runs outside Mission Control (no gateway, never provisioned): its token was minted by agents at creation.</summary>
    public bool IsCustom { get; set; }
    /// <summary>JSON array of strings (builderz's capabilities), or null.</summary>
    public string? Capabilities { get; set; }
    /// <summary>builderz's free-text role (e.g. "reviewer").</summary>
    public string? Role { get; set; }
    /// <summary>A custom agent's endpoint for pushed tasks (TaskDispatched), checked by the address guard.</summary>
    public string? CallbackUrl { get; set; }
    /// <summary>The key of the callbacks' signature, encrypted with Data Protection (shown once, at creation).</summary>
    public string? CallbackSecret { get; set; }

    /// <summary>The run in progress (or the last one): every request carries a new generation; answers for older ones are ignored.</summary>
    public long ProvisionGeneration { get; set; }
    /// <summary>provision | update</summary>
    public string? ProvisionAction { get; set; }
    /// <summary>Whether the current run mints a new token (repeated by a retry).</summary>
    public bool ProvisionIssueToken { get; set; }
    /// <summary>Whether the current run wakes the agent once its files are written (repeated by a retry).</summary>
    public bool ProvisionWake { get; set; }
    /// <summary>Requests sent for the current run so far.</summary>
    public int ProvisionAttempts { get; set; }
    /// <summary>When the current request stops waiting for the bridge's answer.</summary>
    public DateTime? ProvisionDeadlineAt { get; set; }
    /// <summary>When a retry of the current run is due (after a retryable failure or a missed deadline).</summary>
    public DateTime? ProvisionRetryAt { get; set; }
    public string? LastProvisionError { get; set; }

    /// <summary>The computed status the last AgentCreated/AgentUpdated carried (the sweeper announces online → offline).</summary>
    public string? PublishedStatus { get; set; }
    /// <summary>last_seen_at plus the agent's offline tolerance: from then on it reads offline (indexed for the sweeper).</summary>
    public DateTime? PresenceExpiresAt { get; set; }

    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

/// <summary>A board owned by orgs, fed by its events: which gateway its agents live on, and what their templates say about it.</summary>
public sealed class BoardCopy
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public required string Name { get; set; }
    public string Description { get; set; } = "";
    public Guid? GatewayId { get; set; }
    public string BoardType { get; set; } = "goal";
    public string? Objective { get; set; }
    /// <summary>JSON text, or null.</summary>
    public string? SuccessMetrics { get; set; }
    public DateTime? TargetDate { get; set; }
    public bool GoalConfirmed { get; set; }
    public bool RequireApprovalForDone { get; set; } = true;
    public bool RequireReviewBeforeDone { get; set; }
    public bool CommentRequiredForReview { get; set; }
    public bool BlockStatusChangesWithPendingApproval { get; set; }
    public bool OnlyLeadCanChangeStatus { get; set; }
    public int MaxAgents { get; set; } = 1;
    public DateTime UpdatedAt { get; set; }
}

/// <summary>A gateway owned by the gateway-bridge, fed by its events (never its token).</summary>
public sealed class GatewayCopy
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public required string Name { get; set; }
    public required string Url { get; set; }
    public required string WorkspaceRoot { get; set; }
    public DateTime UpdatedAt { get; set; }
}

/// <summary>
/// One task pushed to a custom agent's callbackUrl: the signed body as first built, and the attempts so far.
/// Delivered in order per agent by the CallbackSender; the head waits for its retries.
/// </summary>
public sealed class CallbackDelivery
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public Guid AgentId { get; set; }
    public required string Event { get; set; }
    /// <summary>The JSON body, exactly as signed and sent.</summary>
    public required string Body { get; set; }
    /// <summary>pending | delivered | failed | cancelled</summary>
    public required string Status { get; set; }
    public int Attempts { get; set; }
    public int? LastStatusCode { get; set; }
    public string? LastError { get; set; }
    /// <summary>When the next attempt is due; while an attempt runs, the end of its claim.</summary>
    public DateTime? NextAttemptAt { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? DeliveredAt { get; set; }
}
