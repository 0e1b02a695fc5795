namespace MissionControl.Contracts.Gateways;

/// <summary>A gateway as the gateway-bridge holds it (never its token).</summary>
public sealed record GatewayState
{
    public required Guid Id { get; init; }
    public required Guid OrganizationId { get; init; }
    public required string Name { get; init; }
    public required string Url { get; init; }
    public required string WorkspaceRoot { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>A new gateway: agents creates and provisions its gateway-main agent.</summary>
public sealed record GatewayCreated : IIntegrationEvent
{
    public required Guid OrganizationId { get; init; }
    public required GatewayState Gateway { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
}

/// <summary>A changed gateway: agents re-provisions its gateway-main agent when ReprovisionMain.</summary>
public sealed record GatewayUpdated : IIntegrationEvent
{
    public required Guid OrganizationId { get; init; }
    public required GatewayState Gateway { get; init; }
    public IReadOnlyList<string> ChangedFields { get; init; } = [];
    public required DateTimeOffset OccurredAt { get; init; }
}

/// <summary>The gateway is gone: agents deletes its agents.</summary>
public sealed record GatewayDeleted : IIntegrationEvent
{
    public required Guid OrganizationId { get; init; }
    public required Guid GatewayId { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
}

/// <summary>The bridge's live connection to a gateway changed state.</summary>
public sealed record GatewayConnectionChanged : IIntegrationEvent
{
    public required Guid OrganizationId { get; init; }
    public required Guid GatewayId { get; init; }
    /// <summary>connecting | connected | disconnected | auth_failed | pairing_required | incompatible</summary>
    public required string State { get; init; }
    public string? ErrorCode { get; init; }
    public string? Error { get; init; }
    public string? ServerVersion { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
}
