using StackExchange.Redis;

namespace MissionControl.Edge.Protection;

/// <summary>
/// Counters in Redis (ConnectionStrings:redis), so every edge instance spends one budget per client.
/// INCR and EXPIREAT run as one script: a counter never lives without its expiry. While Redis does not
/// answer, the counters of this process stand in (a warning is logged once per outage): a rate limit
/// must never be why a request fails.
/// </summary>
public sealed class RedisRateLimitStore : IRateLimitStore, IAsyncDisposable
{
    private const string IncrementScript = """
        local n = redis.call('INCR', KEYS[1])
        if n == 1 then redis.call('EXPIREAT', KEYS[1], ARGV[1]) end
        return n
        """;

    private readonly Task<ConnectionMultiplexer> _connection;
    private readonly MemoryRateLimitStore _fallback;
    private readonly ILogger _log;
    private int _degraded;

    public RedisRateLimitStore(string connectionString, MemoryRateLimitStore fallback, ILogger<RedisRateLimitStore> log)
    {
        _fallback = fallback;
        _log = log;
        var options = ConfigurationOptions.Parse(connectionString);
        // Keep retrying in the background instead of failing; a slow Redis must not hold requests long.
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = 2000;
        options.AsyncTimeout = 1000;
        options.SyncTimeout = 1000;
        _connection = ConnectionMultiplexer.ConnectAsync(options);
    }

    /// <summary>Whether counts go to Redis now (else to this process's counters).</summary>
    public bool IsConnected => _connection.IsCompletedSuccessfully && _connection.Result.IsConnected;

    public async ValueTask<long> IncrementAsync(string key, DateTimeOffset expiresAt)
    {
        if (Database() is { } db)
        {
            try
            {
                // One second of slack so a window's counter outlives the window on a clock a little behind.
                var result = await db.ScriptEvaluateAsync(IncrementScript, [key], [expiresAt.ToUnixTimeSeconds() + 1]);
                Recovered();
                return (long)result;
            }
            catch (Exception e)
            {
                Degraded(e.Message);
            }
        }
        return await _fallback.IncrementAsync(key, expiresAt);
    }

    public async ValueTask<long> GetAsync(string key)
    {
        if (Database() is { } db)
        {
            try
            {
                var value = await db.StringGetAsync(key);
                Recovered();
                return value.IsNull ? 0 : (long)value;
            }
            catch (Exception e)
            {
                Degraded(e.Message);
            }
        }
        return await _fallback.GetAsync(key);
    }

    /// <summary>The database while connected, else null (still connecting, or down).</summary>
    private IDatabase? Database()
    {
        if (!_connection.IsCompletedSuccessfully)
        {
            if (_connection.IsCompleted) Degraded(_connection.Exception?.GetBaseException().Message ?? "could not connect");
            return null;
        }
        var connection = _connection.Result;
        if (connection.IsConnected) return connection.GetDatabase();
        Degraded("not connected");
        return null;
    }

    private void Degraded(string reason)
    {
        if (Interlocked.Exchange(ref _degraded, 1) == 0)
            _log.LogWarning("Redis is not answering ({Reason}): rate limits are counted by this edge instance alone until it does", reason);
    }

    private void Recovered()
    {
        if (Interlocked.Exchange(ref _degraded, 0) == 1)
            _log.LogInformation("Redis answers again: rate limits are shared by every edge instance");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await (await _connection).DisposeAsync();
        }
        catch (RedisException)
        {
        }
    }
}
