namespace MissionControl.Contracts.Agents;

/// <summary>An agent as the agents service holds it (other services keep copies: tasks checks assignees).</summary>
public sealed record AgentState
{
    public required Guid Id { get; init; }
    public required Guid OrganizationId { get; init; }
    /// <summary>Null for a gateway-main agent.</summary>
    public Guid? BoardId { get; init; }
    public Guid? GatewayId { get; init; }
    public required string Name { get; init; }
    public required string Status { get; init; }
    public bool IsBoardLead { get; init; }
    public bool IsGatewayMain { get; init; }
    /// <summary>agent:mc-&lt;uuid&gt;:main, once provisioned.</summary>
    public string? SessionKey { get; init; }
    /// <summary>A custom agent (no gateway): it pulls its tasks (GET /api/tasks/queue) or gets them at its callbackUrl.</summary>
    public bool IsCustom { get; init; }
    /// <summary>What the agent says it can do (POST /api/agents capabilities[]), for routing.</summary>
    public IReadOnlyList<string> Capabilities { get; init; } = [];
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
}

public sealed record AgentCreated : IIntegrationEvent
{
    public required Guid OrganizationId { get; init; }
    public required AgentState Agent { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
}

public sealed record AgentUpdated : IIntegrationEvent
{
    public required Guid OrganizationId { get; init; }
    public required AgentState Agent { get; init; }
    public IReadOnlyList<string> ChangedFields { get; init; } = [];
    public required DateTimeOffset OccurredAt { get; init; }
}

/// <summary>The agent is gone: tasks unassigns it (in-progress tasks go back to the inbox).</summary>
public sealed record AgentDeleted : IIntegrationEvent
{
    public required Guid OrganizationId { get; init; }
    public required Guid AgentId { get; init; }
    public Guid? BoardId { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
}

// Provisioning runs as a conversation between agents (which owns the agent and its templates) and
// the gateway-bridge (which owns the gateway and does the RPC). No secret travels on the bus: the
// bridge mints the agent token when it writes the workspace files and reports only its hash.

/// <summary>
/// Put the agent onto its gateway (or bring its files up to date). Files hold the rendered workspace
/// files; the bridge replaces <see cref="ProvisioningMarkers"/> in them before writing.
/// A run with a lower generation than the last one seen for the agent is stale and ignored.
/// </summary>
public sealed record AgentProvisioningRequested : IIntegrationEvent
{
    public required Guid OrganizationId { get; init; }
    public required Guid AgentId { get; init; }
    public required Guid GatewayId { get; init; }
    public Guid? BoardId { get; init; }
    /// <summary>provision | update</summary>
    public required string Action { get; init; }
    public required long Generation { get; init; }
    /// <summary>The id on the gateway: mc-&lt;uuid&gt;, lead-&lt;board&gt; or mc-gateway-&lt;gateway&gt;.</summary>
    public required string GatewayAgentId { get; init; }
    public required string SessionKey { get; init; }
    /// <summary>File name → content (AGENTS.md, SOUL.md, IDENTITY.md, USER.md, MEMORY.md, and TOOLS.md where accepted).</summary>
    public required IReadOnlyDictionary<string, string> Files { get; init; }
    /// <summary>Files kept as they are on the gateway when they already exist (an update keeps USER.md and MEMORY.md).</summary>
    public IReadOnlyList<string> PreserveIfPresent { get; init; } = [];
    /// <summary>Mint a new agent token and write it (true on provision and on rotate_tokens).</summary>
    public bool IssueToken { get; init; } = true;
    /// <summary>Sent into the agent's main session once the files are written (null: no wake).</summary>
    public string? WakeMessage { get; init; }
    /// <summary>After this the agents service stops waiting and marks the run failed.</summary>
    public required DateTimeOffset Deadline { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
}

/// <summary>Placeholders in provisioning files that only the bridge can fill.</summary>
public static class ProvisioningMarkers
{
    public const string AgentToken = "{{MC_AGENT_TOKEN}}";
    public const string WorkspacePath = "{{MC_WORKSPACE_PATH}}";
}

public sealed record AgentProvisioned : IIntegrationEvent
{
    public required Guid OrganizationId { get; init; }
    public required Guid AgentId { get; init; }
    public required Guid GatewayId { get; init; }
    public required long Generation { get; init; }
    public required string GatewayAgentId { get; init; }
    public required string SessionKey { get; init; }
    public required string WorkspacePath { get; init; }
    /// <summary>SHA-256 (lowercase hex) of the token written into the workspace; null when no token was issued.</summary>
    public string? TokenHash { get; init; }
    public IReadOnlyList<string> FilesWritten { get; init; } = [];
    public double ElapsedMs { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
}

public sealed record AgentProvisioningFailed : IIntegrationEvent
{
    public required Guid OrganizationId { get; init; }
    public required Guid AgentId { get; init; }
    public required Guid GatewayId { get; init; }
    public required long Generation { get; init; }
    /// <summary>The gateway's error code (e.g. INVALID_REQUEST, UNAVAILABLE) or a bridge code (gateway_unreachable, gateway_unknown).</summary>
    public required string ErrorCode { get; init; }
    public required string Error { get; init; }
    /// <summary>True when trying again later may succeed (network, gateway starting).</summary>
    public bool Retryable { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
}

/// <summary>Remove the agent from its gateway (agents.delete with its files, and its main session).</summary>
public sealed record AgentDeprovisionRequested : IIntegrationEvent
{
    public required Guid OrganizationId { get; init; }
    public required Guid AgentId { get; init; }
    public required Guid GatewayId { get; init; }
    public required string GatewayAgentId { get; init; }
    public required string SessionKey { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
}

/// <summary>An agent checked in (heartbeat) or was seen; drives online/offline in copies.</summary>
public sealed record AgentHeartbeat : IIntegrationEvent
{
    public required Guid OrganizationId { get; init; }
    public required Guid AgentId { get; init; }
    public Guid? BoardId { get; init; }
    public required string Status { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
}

/// <summary>
/// What an agent said in its gateway session: a finished reply (final), a failure (error) or an abort.
/// TaskId is set when the run answered a message about a task; tasks then records the reply as the
/// agent's comment on it.
/// </summary>
public sealed record AgentMessageReceived : IIntegrationEvent
{
    public required Guid OrganizationId { get; init; }
    public required Guid GatewayId { get; init; }
    public Guid? AgentId { get; init; }
    public Guid? BoardId { get; init; }
    public Guid? TaskId { get; init; }
    public required string SessionKey { get; init; }
    public required string RunId { get; init; }
    /// <summary>final | error | aborted</summary>
    public required string State { get; init; }
    public string? Text { get; init; }
    public string? ErrorMessage { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
}

/// <summary>Tokens an agent's model used (from the gateway's chat events, or reported by the agent).</summary>
public sealed record TokenUsageReported : IIntegrationEvent
{
    public required Guid OrganizationId { get; init; }
    public Guid? AgentId { get; init; }
    public Guid? BoardId { get; init; }
    public Guid? TaskId { get; init; }
    public Guid? GatewayId { get; init; }
    public required string Model { get; init; }
    public required long InputTokens { get; init; }
    public required long OutputTokens { get; init; }
    /// <summary>gateway | api</summary>
    public required string Source { get; init; }
    public string? RunId { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
}
