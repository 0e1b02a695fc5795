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
    public const string Queue = "metrics-event-log";

    /// <summary>
    /// One queue bound to every event type in the contracts. Many messages are consumed at once so the
    /// writer can commit them together; it restores the broker's order before numbering them.
    /// </summary>
    public static void AddEventLogConsumers(this IBusRegistrationConfigurator bus)
    {
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
