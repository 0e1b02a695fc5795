using System.Collections.Frozen;
using System.Text.Json;

namespace MissionControl.Contracts;

/// <summary>
/// Consecutive events of one publisher that no service consumes by type (only the event log reads
/// them), sent as one bus message. Most events are of that kind (every task, comment and memory
/// change), and one message per event cost more than the events themselves: a publish with its
/// confirm, the broker's routing and a delivery with its ack each. Not an <see cref="IIntegrationEvent"/>:
/// it has an exchange of its own, so its events reach the log once.
/// </summary>
public sealed record EventBatch(IReadOnlyList<BatchedEvent> Events)
{
    /// <summary>
    /// Set when the publisher sent the batch without the broker's persistence and keeps its events until
    /// the log reports them logged (<see cref="EventsLogged"/>): the publishing process's receipt name.
    /// </summary>
    public string? Source { get; init; }

    /// <summary>With <see cref="Source"/>: the publisher's number for the batch (its last outbox row).</summary>
    public long Through { get; init; }
}

/// <summary>
/// The event log's report to a publisher (<see cref="Source"/>): these batches of its are logged, so it may
/// forget their events. Sent a few times a second, for batches that named a source.
/// </summary>
public sealed record EventsLogged(string Source, IReadOnlyList<long> Batches);

/// <summary>One event of a batch: its id, its type's full name and its JSON (<see cref="EventRouting.Json"/>).</summary>
public sealed record BatchedEvent(Guid MessageId, string Type, JsonElement Payload);

/// <summary>Which events go out one message each (a service consumes them by type) and which in batches.</summary>
public static class EventRouting
{
    /// <summary>
    /// Every event type some service or the edge consumes by type. A type missing here would never
    /// reach its consumer: a service that registers a consumer of any other event type refuses to start.
    /// </summary>
    public static readonly FrozenSet<Type> ConsumedByType = new[]
    {
        typeof(Orgs.OrganizationCreated), typeof(Orgs.OrganizationDeleted), typeof(Orgs.MemberChanged), typeof(Orgs.CredentialRevoked),
        typeof(Orgs.BoardCreated), typeof(Orgs.BoardUpdated), typeof(Orgs.BoardDeleted),
        typeof(Orgs.BoardGroupChanged), typeof(Orgs.BoardGroupDeleted),
        typeof(Orgs.TagChanged), typeof(Orgs.TagDeleted),
        typeof(Orgs.CustomFieldDefinitionChanged), typeof(Orgs.CustomFieldDefinitionDeleted),
        typeof(Agents.AgentCreated), typeof(Agents.AgentUpdated), typeof(Agents.AgentDeleted),
        typeof(Agents.AgentProvisioningRequested), typeof(Agents.AgentDeprovisionRequested),
        typeof(Agents.AgentProvisioned), typeof(Agents.AgentProvisioningFailed),
        typeof(Agents.AgentMessageReceived),
        typeof(Tasks.AgentNotificationRequested), typeof(Tasks.OnboardingMessageRequested), typeof(Tasks.TaskDispatched),
        typeof(Gateways.GatewayCreated), typeof(Gateways.GatewayUpdated), typeof(Gateways.GatewayDeleted),
        typeof(Tasks.TaskTagsChanged),
    }.ToFrozenSet();

    /// <summary>The JSON of event payloads in batches (and in the outbox rows they are made from).</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The concrete event types, by full name.</summary>
    public static readonly FrozenDictionary<string, Type> EventTypes = typeof(IIntegrationEvent).Assembly.GetTypes()
        .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IIntegrationEvent).IsAssignableFrom(t))
        .ToFrozenDictionary(t => t.FullName!);

    /// <summary>True for an event type only the event log reads: it travels in an <see cref="EventBatch"/>.</summary>
    public static bool IsLogOnly(Type type) => typeof(IIntegrationEvent).IsAssignableFrom(type) && !ConsumedByType.Contains(type);

    /// <summary>A batched event as its own type; null when its type is unknown here (a newer publisher) or its JSON does not fit it.</summary>
    public static IIntegrationEvent? Read(BatchedEvent e)
    {
        if (!EventTypes.TryGetValue(e.Type, out var type)) return null;
        try { return (IIntegrationEvent?)e.Payload.Deserialize(type, Json); }
        catch (JsonException) { return null; }
    }
}
