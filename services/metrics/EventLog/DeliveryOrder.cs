using MissionControl.Contracts;

namespace MissionControl.Metrics.EventLog;

/// <summary>
/// An event waiting to be logged: from the bus with its consumer and delivery tag (and its place among
/// the events of its message, <see cref="Part"/>), otherwise Consumer null.
/// </summary>
public sealed record Delivery(IIntegrationEvent? Message, Guid Id, string? Consumer, ulong Tag, DateTime Arrived)
{
    public int Part { get; init; }

    public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>
/// Puts deliveries that arrive on many consumer calls at once back into the broker's order (the delivery
/// tag). A delivery whose predecessor has not arrived waits for it up to the gap wait; only the writer's
/// thread uses it.
/// <para>
/// RabbitMQ numbers the deliveries of each channel from 1, and the log's consumer has a channel of its
/// own, so a new consumer (the channel was reopened) starts at tag 1. Taking its lowest tag seen so far
/// as its first instead would log tag 2 before tag 1 whenever 2's consumer call ran first.
/// </para>
/// </summary>
public sealed class DeliveryOrder(TimeSpan gapWait, int maxBatch)
{
    private readonly List<Delivery> _waiting = [];
    private string? _consumer;
    private ulong _lastTag;

    public int Count => _waiting.Count;

    public void Add(Delivery delivery) => _waiting.Add(delivery);

    /// <summary>The events of one message, in their order.</summary>
    public void Add(IEnumerable<Delivery> parts) => _waiting.AddRange(parts);

    /// <summary>Removes and returns everything still waiting (when the writer stops).</summary>
    public List<Delivery> Drain()
    {
        var all = _waiting.ToList();
        _waiting.Clear();
        return all;
    }

    /// <summary>The next deliveries to write, in order: everything not from the bus, then the current consumer's in tag order up to the first gap.</summary>
    public List<Delivery> TakeReady(DateTime now)
    {
        var batch = _waiting.Where(p => p.Consumer is null).Take(maxBatch).ToList();

        var tagged = _waiting.Where(p => p.Consumer is not null).ToList();
        if (tagged.Count > 0 && tagged.All(p => p.Consumer != _consumer))
        {
            _consumer = tagged.OrderBy(p => p.Arrived).First().Consumer;
            _lastTag = 0;
        }
        var next = _lastTag;
        foreach (var p in tagged.Where(p => p.Consumer == _consumer).OrderBy(p => p.Tag).ThenBy(p => p.Part))
        {
            if (batch.Count >= maxBatch) break;
            // In order, a retry of one already passed, or a gap that waited long enough.
            if (p.Tag <= next + 1 || now - p.Arrived >= gapWait)
            {
                batch.Add(p);
                next = Math.Max(next, p.Tag);
            }
            else break;
        }
        foreach (var p in batch) _waiting.Remove(p);
        return batch;
    }

    /// <summary>
    /// Records a batch's outcome, in the batch's order. The position stops before the first delivery that
    /// failed (before its whole message, whose earlier events may have been written), so its retry (same
    /// tag) is put back in order with the others instead of taken as it comes.
    /// </summary>
    public void Passed(IReadOnlyList<(Delivery Delivery, bool Written)> outcome)
    {
        foreach (var (p, written) in outcome)
        {
            if (p.Consumer is null || p.Consumer != _consumer) continue;
            if (!written)
            {
                _lastTag = Math.Min(_lastTag, p.Tag == 0 ? 0 : p.Tag - 1);
                return;
            }
            _lastTag = Math.Max(_lastTag, p.Tag);
        }
    }
}
