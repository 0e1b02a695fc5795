using MassTransit;
using MissionControl.Contracts;

namespace MissionControl.Metrics.EventLog;

/// <summary>
/// Every integration event, of every type, goes into the log. One consumer of the interface all
/// events implement: MassTransit binds its queue to the interface's exchange, which every event
/// type's exchange feeds, and builds its consume pipeline once. A consumer per event type (one
/// generic instantiation each) made the runtime load about 17,000 types, 400 per event type: about
/// a third of the service's type metadata and of its startup work (measured with type-load events).
/// The events no service consumes by type arrive several to a message instead (<see cref="EventBatch"/>).
/// </summary>
public sealed class EventLogConsumer(EventLogWriter writer, LogReceiptSender receipts, ILogger<EventLogConsumer> log)
    : IConsumer<IIntegrationEvent>, IConsumer<EventBatch>
{
    public Task Consume(ConsumeContext<IIntegrationEvent> context)
    {
        var message = EventTypes.Read(context.SerializerContext);
        // A type this build does not know (a newer publisher): nothing to project it into, but its
        // place in the delivery order is passed on, so the events after it are not held back.
        if (message is null)
            log.LogWarning("Skipped event {MessageId} of unknown type ({Types})", context.MessageId, string.Join(", ", context.SupportedMessageTypes));
        return writer.AppendAsync(context, [(context.MessageId ?? throw new InvalidOperationException("Message has no MessageId"), message)]);
    }

    /// <summary>
    /// The events only the log reads, several to a message (see <see cref="EventBatch"/>), logged in their order;
    /// a batch its publisher keeps until it is logged (sent transient) is reported back once committed.
    /// </summary>
    public async Task Consume(ConsumeContext<EventBatch> context)
    {
        var batch = context.Message.Events ?? [];
        var events = new List<(Guid, IIntegrationEvent?)>(batch.Count);
        foreach (var e in batch)
        {
            var message = EventRouting.Read(e);
            if (message is null) log.LogWarning("Skipped event {MessageId} of unknown type or shape ({Type})", e.MessageId, e.Type);
            events.Add((e.MessageId, message));
        }
        // An empty batch logs nothing but still passes its place, so the next delivery need not wait for it.
        if (events.Count == 0) events.Add((context.MessageId ?? Guid.NewGuid(), null));
        await writer.AppendAsync(context, events);
        if (context.Message.Source is { } source) receipts.Logged(source, context.Message.Through);
    }
}

/// <summary>The concrete event types of the contracts, by the message type names MassTransit puts on the wire.</summary>
public static class EventTypes
{
    private static readonly Dictionary<string, Type> ByUrn = EventRouting.EventTypes.Values.ToDictionary(t => MessageUrn.ForTypeString(t), t => t);

    /// <summary>The message as its own (most derived) type, or null when it is none of ours.</summary>
    public static IIntegrationEvent? Read(SerializerContext context)
    {
        foreach (var urn in context.SupportedMessageTypes)
        {
            if (ByUrn.TryGetValue(urn, out var type) && context.TryGetMessage(type, out var message)) return (IIntegrationEvent)message;
        }
        return null;
    }
}

public static class EventLogRegistration
{
    /// <summary>
    /// A single-active-consumer queue ("-ordered": a broker that still has the older plain queue
    /// would refuse to redeclare it with the new argument).
    /// </summary>
    public const string Queue = "metrics-event-log-ordered";

    /// <summary>
    /// One queue that receives every event type. Many messages are consumed at once so the writer can
    /// commit them together; it restores the broker's order before numbering them. With several
    /// metrics instances only one consumes at a time (RabbitMQ's single active consumer; the next takes
    /// over when it goes), so the log keeps each publisher's order whatever the instance count.
    /// </summary>
    public static void AddEventLogConsumers(this IBusRegistrationConfigurator bus)
    {
        bus.AddConfigureEndpointsCallback((_, name, endpoint) =>
        {
            if (name == Queue && endpoint is IRabbitMqReceiveEndpointConfigurator rabbit) rabbit.SingleActiveConsumer = true;
        });
        bus.AddConsumer<EventLogConsumer>().Endpoint(e =>
        {
            e.Name = Queue;
            // MassTransit makes this limit the RabbitMQ client's dispatch concurrency: that many loops wait on
            // one channel of deliveries, and each delivery wakes every idle loop. At 256, a lone event cost 255
            // wake-ups that found nothing (a fifth of metrics' allocations while events came one at a time).
            // 32 messages in consume at once still let a busy moment go into one commit.
            e.ConcurrentMessageLimit = 32;
            e.PrefetchCount = 512;
        });
    }
}
