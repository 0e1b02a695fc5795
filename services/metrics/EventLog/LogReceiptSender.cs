using System.Collections.Concurrent;
using MassTransit;
using MissionControl.Contracts;
using MissionControl.Messaging;

namespace MissionControl.Metrics.EventLog;

/// <summary>
/// Tells publishers which of their transient event batches are logged (<see cref="EventsLogged"/>), so their
/// outbox can let the rows go: at most a few reports a second per publisher, none while nothing is logged.
/// A report that is lost only makes the publisher send those batches again (the log skips ids it has).
/// </summary>
public sealed class LogReceiptSender(IBus bus, ILogger<LogReceiptSender> log) : BackgroundService
{
    /// <summary>How long logged batches gather before one report per publisher goes out.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Transient, and gone after the publisher's report timeout: every service's queue gets every report, and a
    /// service that is down would otherwise find a backlog of reports meant for others when it comes back.
    /// </summary>
    private static readonly IPipe<PublishContext> Transient = Pipe.Execute<PublishContext>(c =>
    {
        c.Durable = false;
        c.TimeToLive = TimeSpan.FromSeconds(30);
    });
    private readonly ConcurrentQueue<(string Source, long Through)> _logged = new();
    private readonly WakeSignal _signal = new();

    /// <summary>The batch <paramref name="through"/> of <paramref name="source"/> is committed to the log.</summary>
    public void Logged(string source, long through)
    {
        _logged.Enqueue((source, through));
        _signal.Notify();
    }

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        try
        {
            while (!ct.IsCancellationRequested)
            {
                await _signal.WaitAsync(ct);
                await Task.Delay(Interval, ct);
                var bySource = new Dictionary<string, List<long>>();
                while (_logged.TryDequeue(out var logged))
                {
                    if (!bySource.TryGetValue(logged.Source, out var batches)) bySource[logged.Source] = batches = [];
                    batches.Add(logged.Through);
                }
                foreach (var (source, batches) in bySource)
                {
                    try
                    {
                        await bus.Publish(new EventsLogged(source, batches), Transient, ct);
                    }
                    catch (Exception ex) when (!ct.IsCancellationRequested)
                    {
                        log.LogWarning(ex, "Could not report {Count} logged batch(es) to {Source}; it will publish them again", batches.Count, source);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
    }
}
