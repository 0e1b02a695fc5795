using MissionControl.EventLog;

namespace MissionControl.Metrics.EventLog;

/// <summary>
/// The events this instance logged most recently, so live feeds read them from memory instead of the
/// database, and a signal that wakes the feeds when one is added. Another instance's events are not
/// here; a feed notices the gap in seq and reads the database (told of them by <see cref="LoggedElsewhere"/>).
/// </summary>
public sealed class RecentEvents(int capacity = 8192)
{
    private readonly Lock _gate = new();
    private readonly LoggedEvent?[] _ring = new LoggedEvent?[capacity];
    private TaskCompletionSource _added = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _head;

    /// <summary>The highest position logged, here or by another instance as far as this one was told (0 before the first).</summary>
    public long Head
    {
        get { lock (_gate) return _head; }
    }

    public void Add(LoggedEvent e) => AddRange([e]);

    /// <summary>Adds a committed batch and wakes the feeds once.</summary>
    public void AddRange(IReadOnlyList<LoggedEvent> events)
    {
        if (events.Count == 0) return;
        TaskCompletionSource added;
        lock (_gate)
        {
            foreach (var e in events)
            {
                _ring[e.Seq % _ring.Length] = e;
                _head = Math.Max(_head, e.Seq);
            }
            added = NextSignal();
        }
        added.TrySetResult();
    }

    /// <summary>Another instance logged up to <paramref name="head"/>: wakes the feeds, which read those events from the database.</summary>
    public void LoggedElsewhere(long head)
    {
        TaskCompletionSource added;
        lock (_gate)
        {
            if (head <= _head) return;
            _head = head;
            added = NextSignal();
        }
        added.TrySetResult();
    }

    /// <summary>Under the lock: the signal to complete (after leaving it), replaced by a fresh one for the next wait.</summary>
    private TaskCompletionSource NextSignal()
    {
        var added = _added;
        _added = new(TaskCreationOptions.RunContinuationsAsynchronously);
        return added;
    }

    /// <summary>Completes when the next event is added (or logged elsewhere).</summary>
    public Task NextAddedAsync()
    {
        lock (_gate) return _added.Task;
    }

    /// <summary>The events right after <paramref name="after"/>, contiguous; empty when the next one is not held here.</summary>
    public List<LoggedEvent> ReadAfter(long after, int max)
    {
        var result = new List<LoggedEvent>();
        lock (_gate)
        {
            for (var seq = after + 1; result.Count < max; seq++)
            {
                var e = _ring[seq % _ring.Length];
                if (e is null || e.Seq != seq) break;
                result.Add(e);
            }
        }
        return result;
    }
}
