namespace MissionControl.Contracts.Webhooks;

/// <summary>
/// An outbound webhook gave up on an event after its whole retry schedule: its circuit opened (the
/// subscription is disabled with disabled_reason circuit_open) and the event is held until an admin
/// enables it again.
/// </summary>
public sealed record WebhookDeliveryFailed : IIntegrationEvent
{
    public required Guid OrganizationId { get; init; }
    public required Guid WebhookId { get; init; }
    public required string Url { get; init; }
    public required Guid DeliveryId { get; init; }
    /// <summary>The logged event's id and type, and its position in the event log.</summary>
    public required Guid EventId { get; init; }
    public required string EventType { get; init; }
    public long? Seq { get; init; }
    public required int Attempts { get; init; }
    public int? LastStatusCode { get; init; }
    public string? LastError { get; init; }
    public required int ConsecutiveFailures { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
}
