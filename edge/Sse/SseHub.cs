using System.Text;
using System.Threading.Channels;
using MissionControl.EventLog;

namespace MissionControl.Edge.Sse;

/// <summary>One logged event on its way to SSE clients; its data is encoded once, when first needed.</summary>
public sealed class SseEvent(LoggedEvent e)
{
    private byte[]? _data;

    public LoggedEvent Event { get; } = e;
    public long Seq => Event.Seq;
    public byte[] Data => _data ??= Encoding.UTF8.GetBytes(Event.Data.GetRawText());
}

/// <summary>
/// Fans the event log's live feed out to connected SSE clients, and keeps the most recent events so a
/// reconnecting client resumes from memory; older positions are read back from the log (metrics).
/// The feed is contiguous in seq, so what the hub holds is a contiguous run ending at <see cref="Head"/>.
/// </summary>
public sealed class SseHub(int retained = 4096, int perClientBuffer = 512)
{
    private readonly Lock _gate = new();
    private readonly LinkedList<Subscription> _subscribers = new();
    private readonly SseEvent?[] _ring = new SseEvent?[retained];
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _head = -1;
    private long _heldFrom = long.MaxValue;

    public sealed class Subscription : IDisposable
    {
        private readonly SseHub _hub;
        internal readonly Func<SseEvent, bool> Filter;
        internal LinkedListNode<Subscription>? Node;

        internal Subscription(SseHub hub, Func<SseEvent, bool> filter, long joinedAt)
        {
            _hub = hub;
            Filter = filter;
            JoinedAt = joinedAt;
            Events = Channel.CreateBounded<SseEvent>(new BoundedChannelOptions(hub._perClientBuffer) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        }

        /// <summary>The hub's head when the client joined: what came after arrives live on <see cref="Events"/>.</summary>
        public long JoinedAt { get; }
        public Channel<SseEvent> Events { get; }
        /// <summary>The client fell a whole buffer behind: it is cut off (and resumes from the log when it reconnects).</summary>
        public bool Overflowed { get; internal set; }

        public void Dispose() => _hub.Remove(this);
    }

    private readonly int _perClientBuffer = perClientBuffer;

    public long Head { get { lock (_gate) return _head; } }

    public bool IsStarted => _started.Task.IsCompleted;

    public Task WaitStartedAsync(CancellationToken ct) => _started.Task.WaitAsync(ct);

    /// <summary>The feed is connected and positioned after <paramref name="head"/>.</summary>
    public void Start(long head)
    {
        lock (_gate)
        {
            if (_head < 0) _head = head;
        }
        _started.TrySetResult();
    }

    public void Publish(SseEvent evt)
    {
        lock (_gate)
        {
            if (evt.Seq <= _head) return; // already had it (a feed reconnect overlaps)
            // A gap (the log lost rows, or the feed restarted further on) breaks the held run.
            if (evt.Seq != _head + 1 || _heldFrom == long.MaxValue) _heldFrom = evt.Seq;
            _ring[evt.Seq % _ring.Length] = evt;
            _head = evt.Seq;
            _heldFrom = Math.Max(_heldFrom, _head - _ring.Length + 1);
            for (var node = _subscribers.First; node is not null;)
            {
                var next = node.Next;
                var sub = node.Value;
                if (sub.Filter(evt) && !sub.Events.Writer.TryWrite(evt))
                {
                    sub.Overflowed = true;
                    sub.Events.Writer.TryComplete();
                    _subscribers.Remove(node);
                }
                node = next;
            }
        }
    }

    public Subscription Subscribe(Func<SseEvent, bool> filter)
    {
        lock (_gate)
        {
            var subscription = new Subscription(this, filter, _head);
            subscription.Node = _subscribers.AddLast(subscription);
            return subscription;
        }
    }

    /// <summary>
    /// Held events after <paramref name="after"/> up to <paramref name="upTo"/> (at most <paramref name="max"/> examined)
    /// that pass the filter, and the last position examined; null when the hub no longer holds after+1.
    /// </summary>
    public (List<SseEvent> Events, long Through)? ReadHeld(long after, long upTo, Func<SseEvent, bool> filter, int max = 1024)
    {
        lock (_gate)
        {
            if (after + 1 < _heldFrom && after < _head) return null;
            var result = new List<SseEvent>();
            var through = after;
            for (var seq = after + 1; seq <= Math.Min(upTo, _head) && seq <= after + max; seq++)
            {
                var evt = _ring[seq % _ring.Length]!;
                if (filter(evt)) result.Add(evt);
                through = seq;
            }
            return (result, through);
        }
    }

    public int SubscriberCount { get { lock (_gate) return _subscribers.Count; } }

    private void Remove(Subscription subscription)
    {
        lock (_gate)
        {
            if (subscription.Node?.List is not null) _subscribers.Remove(subscription.Node);
        }
        subscription.Events.Writer.TryComplete();
    }
}
