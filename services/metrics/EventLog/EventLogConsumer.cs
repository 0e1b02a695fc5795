using MassTransit;
using MissionControl.Contracts;

namespace MissionControl.Metrics.EventLog;

/// <summary>Every integration event, of every type, goes into the log.</summary>
public sealed class EventLogConsumer<T>(EventLogWriter writer) : IConsumer<T> where T : class, IIntegrationEvent
{
    public Task Consume(ConsumeContext<T> context) =>
        writer.AppendAsync(context.Message, context.MessageId ?? throw new InvalidOperationException("Message has no MessageId"), context.CancellationToken);
}

public static class EventLogRegistration
{
    public const string Queue = "metrics-event-log";

    /// <summary>
    /// One queue bound to every event type in the contracts. One message at a time, so the log keeps
    /// the order in which each service published (a task's created before its updates).
    /// </summary>
    public static void AddEventLogConsumers(this IBusRegistrationConfigurator bus)
    {
        var eventTypes = typeof(IIntegrationEvent).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IIntegrationEvent).IsAssignableFrom(t));
        foreach (var type in eventTypes)
            bus.AddConsumer(typeof(EventLogConsumer<>).MakeGenericType(type)).Endpoint(e =>
            {
                e.Name = Queue;
                e.ConcurrentMessageLimit = 1;
                e.PrefetchCount = 512;
            });
    }
}
