using System.Collections.Concurrent;
using MassTransit;
using MissionControl.Contracts;

namespace MissionControl.Messaging;

/// <summary>
/// What the relay needs to send the event log's batches transient (<see cref="OutboxRelay{TContext}"/>): this
/// process's receipt name, the log's reports of batches logged (<see cref="EventsLogged"/>), and how often the
/// bus has lost its broker connection since the start (a broker that restarts loses transient messages).
/// </summary>
public sealed class EventLogReceipts(string serviceName)
{
    /// <summary>Unique to this process: a report for an earlier process of the same service is not taken as one for this one.</summary>
    public string Source { get; } = $"{serviceName}/{Guid.NewGuid():N}";

    private readonly ConcurrentQueue<long> _logged = new();
    private int _connectionLosses;

    /// <summary>The log has these batches (their <see cref="EventBatch.Through"/>).</summary>
    public void Logged(IEnumerable<long> batches)
    {
        foreach (var through in batches) _logged.Enqueue(through);
    }

    internal bool TryTakeLogged(out long through) => _logged.TryDequeue(out through);

    public void ConnectionLost() => Interlocked.Increment(ref _connectionLosses);

    internal int ConnectionLosses => Volatile.Read(ref _connectionLosses);
}

/// <summary>Takes the log's reports meant for this process; every service's queue sees every report.</summary>
public sealed class EventsLoggedConsumer(EventLogReceipts receipts) : IConsumer<EventsLogged>
{
    public Task Consume(ConsumeContext<EventsLogged> context)
    {
        if (context.Message.Source == receipts.Source) receipts.Logged(context.Message.Batches ?? []);
        return Task.CompletedTask;
    }
}

/// <summary>
/// Counts the bus's lost broker connections: a receive endpoint that faults, or becomes ready a second time,
/// was cut from the broker (MassTransit reconnects it), and the broker may have restarted without what it held in memory.
/// </summary>
internal sealed class BrokerConnectionWatch(EventLogReceipts receipts) : IReceiveEndpointObserver
{
    private readonly ConcurrentDictionary<Uri, bool> _ready = new();

    public Task Ready(ReceiveEndpointReady ready)
    {
        if (!_ready.TryAdd(ready.InputAddress, true)) receipts.ConnectionLost();
        return Task.CompletedTask;
    }

    public Task Faulted(ReceiveEndpointFaulted faulted)
    {
        receipts.ConnectionLost();
        return Task.CompletedTask;
    }

    public Task Stopping(ReceiveEndpointStopping stopping) => Task.CompletedTask;
    public Task Completed(ReceiveEndpointCompleted completed) => Task.CompletedTask;
}
