using System.Threading.Channels;

namespace MissionControl.Edge.Sse;

/// <summary>
/// One event as it goes out on the wire. ScopeId is the board (or, for group memory, the board group)
/// the event belongs to. Its data is serialized once, for every subscriber, and only when a
/// subscriber first needs it: most events are retained for resumes that never come.
/// </summary>
public sealed record SseEvent(Guid Id, Guid OrganizationId, Guid ScopeId, string Topic, string Name, Lazy<byte[]> Payload, bool IsChat = false)
{
    public SseEvent(Guid id, Guid organizationId, Guid scopeId, string topic, string name, byte[] data, bool isChat = false)
        : this(id, organizationId, scopeId, topic, name, new Lazy<byte[]>(data), isChat) { }

    public byte[] Data => Payload.Value;
}

/// <summary>
/// Fans integration events from the bus out to connected SSE clients, and keeps the most recent
/// ones so a reconnecting client can resume after its Last-Event-ID.
/// </summary>
public sealed class SseHub(int retained = 4096)
{
    private readonly Lock _gate = new();
    private readonly LinkedList<Subscription> _subscribers = new();
    private readonly SseEvent[] _recent = new SseEvent[retained];
    private long _count;

    public sealed class Subscription(SseHub hub, Func<SseEvent, bool> filter) : IDisposable
    {
        internal readonly Func<SseEvent, bool> Filter = filter;
        internal LinkedListNode<Subscription>? Node;
        // A client that stops reading loses its oldest events rather than growing memory without bound.
        public Channel<SseEvent> Events { get; } = Channel.CreateBounded<SseEvent>(
            new BoundedChannelOptions(1024) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });

        public void Dispose() => hub.Remove(this);
    }

    public void Publish(SseEvent evt)
    {
        lock (_gate)
        {
            _recent[_count++ % _recent.Length] = evt;
            for (var node = _subscribers.First; node is not null; node = node.Next)
                if (node.Value.Filter(evt)) node.Value.Events.Writer.TryWrite(evt);
        }
    }

    /// <summary>
    /// Subscribes; events after <paramref name="lastEventId"/> still retained are queued first (under
    /// the same lock as publishing, so nothing is missed or doubled between replay and live).
    /// </summary>
    public Subscription Subscribe(Func<SseEvent, bool> filter, Guid? lastEventId = null)
    {
        var subscription = new Subscription(this, filter);
        lock (_gate)
        {
            if (lastEventId is { } after)
            {
                var start = Math.Max(0, _count - _recent.Length);
                var found = false;
                for (var i = start; i < _count; i++)
                {
                    var evt = _recent[i % _recent.Length];
                    if (found && filter(evt)) subscription.Events.Writer.TryWrite(evt);
                    else if (evt.Id == after) found = true;
                }
            }
            subscription.Node = _subscribers.AddLast(subscription);
        }
        return subscription;
    }

    private void Remove(Subscription subscription)
    {
        lock (_gate)
        {
            if (subscription.Node?.List is not null) _subscribers.Remove(subscription.Node);
        }
        subscription.Events.Writer.TryComplete();
    }
}
