namespace MissionControl.Contracts.Tasks;

/// <summary>The task as it was right after the change, so consumers (SSE, event log) need no call back.</summary>
public sealed record TaskSnapshot
{
    public required Guid Id { get; init; }
    public required Guid BoardId { get; init; }
    public required string Title { get; init; }
    public string? Description { get; init; }
    public required string Status { get; init; }
    public required string Priority { get; init; }
    public DateTimeOffset? DueAt { get; init; }
    public Guid? AssignedAgentId { get; init; }
    public Guid? CreatedByUserId { get; init; }
    public DateTimeOffset? InProgressAt { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
}

public sealed record TaskCreated : IIntegrationEvent
{
    public required Guid OrganizationId { get; init; }
    public required Guid BoardId { get; init; }
    public required TaskSnapshot Task { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
}
