using System.Collections.Concurrent;

namespace MissionControl.Edge.Protection;

/// <summary>Counters of fixed windows, keyed by bucket, client and window: a key is never reset, only expired.</summary>
public interface IRateLimitStore
{
    /// <summary>Adds one to the counter and returns its new value; the counter may go at <paramref name="expiresAt"/>.</summary>
    ValueTask<long> IncrementAsync(string key, DateTimeOffset expiresAt);

    /// <summary>The counter's value (0 when there is none).</summary>
    ValueTask<long> GetAsync(string key);
}

/// <summary>One answer of the limiter: what the X-RateLimit-* headers say.</summary>
public readonly record struct RateLimitDecision(bool Allowed, int Limit, long Remaining, DateTimeOffset Reset)
{
    public long ResetUnixSeconds => Reset.ToUnixTimeSeconds();

    /// <summary>Whole seconds until the window ends, at least 1.</summary>
    public int RetryAfterSeconds(DateTimeOffset now) => Math.Max(1, (int)Math.Ceiling((Reset - now).TotalSeconds));
}

/// <summary>
/// Fixed one-minute windows per client (seed 001: "100 requests per minute per IP"). A fixed window may let
/// through up to twice the limit across a window's edge; simple, one counter per client, and shareable
/// through Redis with one atomic command.
/// </summary>
public sealed class RateLimiter(IRateLimitStore store, TimeProvider time)
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    public TimeProvider Time => time;

    /// <summary>Counts one request of <paramref name="client"/> in <paramref name="bucket"/>.</summary>
    public async ValueTask<RateLimitDecision> HitAsync(string bucket, string client, int limit)
    {
        var (key, reset) = KeyOf(bucket, client);
        var count = await store.IncrementAsync(key, reset);
        return new RateLimitDecision(count <= limit, limit, Math.Max(0, limit - count), reset);
    }

    /// <summary>Where <paramref name="client"/> stands in <paramref name="bucket"/> without counting anything.</summary>
    public async ValueTask<RateLimitDecision> PeekAsync(string bucket, string client, int limit)
    {
        var (key, reset) = KeyOf(bucket, client);
        var count = await store.GetAsync(key);
        return new RateLimitDecision(count < limit, limit, Math.Max(0, limit - count), reset);
    }

    private (string Key, DateTimeOffset Reset) KeyOf(string bucket, string client)
    {
        var window = time.GetUtcNow().ToUnixTimeSeconds() / (long)Window.TotalSeconds;
        var reset = DateTimeOffset.FromUnixTimeSeconds((window + 1) * (long)Window.TotalSeconds);
        return ($"mc:rl:{bucket}:{client}:{window}", reset);
    }
}

/// <summary>
/// Counters in this process. Expired windows are swept every few seconds, so the map holds at most the
/// clients of the current and the previous minute.
/// </summary>
public sealed class MemoryRateLimitStore(TimeProvider time) : IRateLimitStore
{
    private static readonly TimeSpan SweepEvery = TimeSpan.FromSeconds(10);
    private readonly ConcurrentDictionary<string, Counter> _counters = new();
    private readonly Lock _sweep = new();
    private DateTimeOffset _nextSweep = DateTimeOffset.MinValue;

    private sealed class Counter(DateTimeOffset expiresAt)
    {
        public long Value;
        public DateTimeOffset ExpiresAt { get; } = expiresAt;
    }

    public int Count => _counters.Count;

    public ValueTask<long> IncrementAsync(string key, DateTimeOffset expiresAt)
    {
        SweepIfDue();
        var counter = _counters.GetOrAdd(key, static (_, e) => new Counter(e), expiresAt);
        return ValueTask.FromResult(Interlocked.Increment(ref counter.Value));
    }

    public ValueTask<long> GetAsync(string key) =>
        ValueTask.FromResult(_counters.TryGetValue(key, out var counter) ? Interlocked.Read(ref counter.Value) : 0);

    private void SweepIfDue()
    {
        var now = time.GetUtcNow();
        if (now < _nextSweep || !_sweep.TryEnter()) return;
        try
        {
            _nextSweep = now + SweepEvery;
            foreach (var (key, counter) in _counters)
                if (counter.ExpiresAt <= now) _counters.TryRemove(key, out _);
        }
        finally
        {
            _sweep.Exit();
        }
    }
}
