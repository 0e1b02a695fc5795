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
