namespace MissionControl.Contracts;

/// <summary>Every integration event belongs to one tenant and says when it happened.</summary>
public interface IIntegrationEvent
{
    Guid OrganizationId { get; }
    DateTimeOffset OccurredAt { get; }
}
