namespace MissionControl.GatewayBridge.Data;

/// <summary>An OpenClaw gateway of an organization. The token is kept encrypted (Data Protection), never in clear.</summary>
public sealed class Gateway
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public string Name { get; set; } = "";
    /// <summary>ws:// or wss://</summary>
    public string Url { get; set; } = "";
    public string? TokenProtected { get; set; }
    public string WorkspaceRoot { get; set; } = "";
    public bool AllowInsecureTls { get; set; }
    public bool DisableDevicePairing { get; set; }
    /// <summary>The device token the gateway issued to our device identity (encrypted).</summary>
    public string? DeviceTokenProtected { get; set; }
    /// <summary>The live connection as last seen by the instance that owns it (see GatewaySessionState).</summary>
    public string ConnectionState { get; set; } = "disconnected";
    public string? LastErrorCode { get; set; }
    public string? LastError { get; set; }
    public string? ServerVersion { get; set; }
    public DateTime? ConnectionChangedAt { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

/// <summary>Which bridge instance holds the live connection to a gateway (one at a time; renewed, expires).</summary>
public sealed class GatewayLease
{
    public Guid GatewayId { get; set; }
    public string Owner { get; set; } = "";
    public DateTime ExpiresAt { get; set; }
}

/// <summary>What the bridge needs to know of an agent (from the agents service's events).</summary>
public sealed class AgentCopy
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public Guid? GatewayId { get; set; }
    public Guid? BoardId { get; set; }
    public string Name { get; set; } = "";
    public string? SessionKey { get; set; }
    public bool IsGatewayMain { get; set; }
    /// <summary>The newest provisioning generation seen: an older request is stale.</summary>
    public long ProvisionGeneration { get; set; }
}

/// <summary>Board → gateway, for the board-scoped gateway routes.</summary>
public sealed class BoardCopy
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public Guid? GatewayId { get; set; }
}

/// <summary>
/// A message sent into an agent's session. Its id is the chat.send idempotency key (the triggering
/// event's id), so a redelivered event never sends twice; the gateway's run id equals it, which is how a
/// reply finds its task.
/// </summary>
public sealed class Dispatch
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public Guid GatewayId { get; set; }
    public Guid? AgentId { get; set; }
    public Guid? BoardId { get; set; }
    public Guid? TaskId { get; set; }
    public string SessionKey { get; set; } = "";
    public string Kind { get; set; } = "";
    public string Message { get; set; } = "";
    public bool Deliver { get; set; }
    /// <summary>
    /// awaiting_agent (the agent is not on its gateway yet) | pending (not yet accepted by the gateway: sent
    /// when it is back) | sent | replied | failed
    /// </summary>
    public string State { get; set; } = "pending";
    public string? Error { get; set; }
    public DateTime SentAt { get; set; }
    public DateTime? RepliedAt { get; set; }
}
