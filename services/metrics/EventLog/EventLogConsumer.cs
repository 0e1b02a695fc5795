using MassTransit;
using MissionControl.Contracts;

namespace MissionControl.Metrics.EventLog;

/// <summary>Every integration event, of every type, goes into the log.</summary>
public sealed class EventLogConsumer<T>(EventLogWriter writer) : IConsumer<T> where T : class, IIntegrationEvent
{
    public Task Consume(ConsumeContext<T> context) => writer.AppendAsync(context);
}

public static class EventLogRegistration
{
    /// <summary>
    /// A single-active-consumer queue ("-ordered": a broker that still has the older plain queue
    /// would refuse to redeclare it with the new argument).
    /// </summary>
    public const string Queue = "metrics-event-log-ordered";

    /// <summary>
    /// One queue bound to every event type in the contracts. Many messages are consumed at once so the
    /// writer can commit them together; it restores the broker's order before numbering them. With
    /// several metrics instances only one consumes at a time (RabbitMQ's single active consumer; the
    /// next takes over when it goes), so the log keeps each publisher's order whatever the instance count.
    /// </summary>
    public static void AddEventLogConsumers(this IBusRegistrationConfigurator bus)
    {
        bus.AddConfigureEndpointsCallback((_, name, endpoint) =>
        {
            if (name == Queue && endpoint is IRabbitMqReceiveEndpointConfigurator rabbit) rabbit.SingleActiveConsumer = true;
        });
        var eventTypes = typeof(IIntegrationEvent).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IIntegrationEvent).IsAssignableFrom(t));
        foreach (var type in eventTypes)
            bus.AddConsumer(typeof(EventLogConsumer<>).MakeGenericType(type)).Endpoint(e =>
            {
                e.Name = Queue;
                e.ConcurrentMessageLimit = 256;
                e.PrefetchCount = 512;
            });
    }
}
