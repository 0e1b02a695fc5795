using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using MissionControl.Edge.Protection;
using MissionControl.LocalServers;

namespace MissionControl.UnitTests;

/// <summary>The edge protections' rules: host patterns, the client address behind proxies, the fixed-window counters.</summary>
public sealed class EdgeProtectionTests
{
    [Theory]
    [InlineData("mission-control.example.com", true)]
    [InlineData("MISSION-control.Example.com", true)]
    [InlineData("a.example.com", true)]
    [InlineData("deep.a.example.com", true)]
    [InlineData("example.com", false)]
    [InlineData("badexample.com", false)]
    [InlineData("192.168.1.20", true)]
    [InlineData("192.169.1.20", false)]
    [InlineData("localhost", false)]
    [InlineData("127.0.0.1", false)]
    [InlineData("", false)]
    public void Host_patterns_match_exactly_by_subdomain_or_by_prefix(string host, bool allowed)
    {
        var allowlist = new HostAllowlist(["mission-control.example.com", "*.example.com", "192.168.*"]);
        Assert.Equal(allowed, allowlist.IsAllowed(host));
    }

    [Fact]
    public void An_empty_allowlist_allows_every_host_and_a_listed_localhost_is_allowed()
    {
        Assert.True(new HostAllowlist([]).IsAllowed("anything.test"));
        Assert.True(new HostAllowlist(["localhost", "127.0.0.1"]).IsAllowed("LOCALHOST"));
        Assert.True(new HostAllowlist(["::1"]).IsAllowed("[::1]"));
        Assert.True(new HostAllowlist(["mission-control.example.com"]).IsAllowed("mission-control.example.com."));
    }

    [Fact]
    public void A_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored()
    {
        var none = new ClientAddress([]);
        Assert.Equal(IPAddress.Parse("198.51.100.9"), none.Resolve(IPAddress.Parse("198.51.100.9"), ["203.0.113.1"]));
        // A trusted proxy list that does not include the peer changes nothing either.
        var some = new ClientAddress(["10.0.0.0/8"]);
        Assert.Equal(IPAddress.Parse("198.51.100.9"), some.Resolve(IPAddress.Parse("198.51.100.9"), ["203.0.113.1, 10.0.0.5"]));
    }

    [Fact]
    public void Forwarded_for_from_a_trusted_proxy_gives_the_right_most_untrusted_address()
    {
        var clients = new ClientAddress(["10.0.0.0/8", "192.0.2.7"]);
        // The client said it was 1.1.1.1; the first proxy appended the real client, 203.0.113.5, and the next one its own peer.
        Assert.Equal(IPAddress.Parse("203.0.113.5"), clients.Resolve(IPAddress.Parse("10.1.2.3"), ["1.1.1.1, 203.0.113.5, 192.0.2.7"]));
        Assert.Equal(IPAddress.Parse("203.0.113.5"), clients.Resolve(IPAddress.Parse("::ffff:10.1.2.3"), ["1.1.1.1", "203.0.113.5:51234"]));
        // Without the header, or with junk in it, the address is the last proxy we trust.
        Assert.Equal(IPAddress.Parse("10.1.2.3"), clients.Resolve(IPAddress.Parse("10.1.2.3"), []));
        Assert.Equal(IPAddress.Parse("192.0.2.7"), clients.Resolve(IPAddress.Parse("10.1.2.3"), ["not-an-ip, 192.0.2.7"]));
    }

    [Fact]
    public void The_client_address_of_a_request_uses_its_socket_peer()
    {
        var http = new DefaultHttpContext();
        http.Connection.RemoteIpAddress = IPAddress.Parse("127.0.0.1");
        http.Request.Headers["X-Forwarded-For"] = "203.0.113.1";
        Assert.Equal("127.0.0.1", new ClientAddress([]).Of(http));
        var trusting = new DefaultHttpContext();
        trusting.Connection.RemoteIpAddress = IPAddress.Parse("127.0.0.1");
        trusting.Request.Headers["X-Forwarded-For"] = "203.0.113.1";
        Assert.Equal("203.0.113.1", new ClientAddress(["127.0.0.1"]).Of(trusting));
    }

    [Fact]
    public void Trusted_proxies_must_be_addresses_or_ranges()
    {
        Assert.Throws<InvalidOperationException>(() => new ClientAddress(["proxy.internal"]));
    }

    [Fact]
    public async Task A_fixed_window_allows_the_limit_then_refuses_until_the_next_minute()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 3, 10, 0, 15, TimeSpan.Zero));
        var limiter = new RateLimiter(new MemoryRateLimitStore(time), time);
        var reset = new DateTimeOffset(2026, 12, 3, 10, 1, 0, TimeSpan.Zero);

        for (var i = 1; i <= 3; i++)
        {
            var allowed = await limiter.HitAsync("req", "203.0.113.1", 3);
            Assert.True(allowed.Allowed);
            Assert.Equal(3 - i, allowed.Remaining);
            Assert.Equal(reset, allowed.Reset);
        }
        var refused = await limiter.HitAsync("req", "203.0.113.1", 3);
        Assert.False(refused.Allowed);
        Assert.Equal(0, refused.Remaining);
        Assert.Equal(45, refused.RetryAfterSeconds(time.GetUtcNow()));
        Assert.Equal(reset.ToUnixTimeSeconds(), refused.ResetUnixSeconds);
        // Another client and another bucket have their own budgets.
        Assert.True((await limiter.HitAsync("req", "203.0.113.2", 3)).Allowed);
        Assert.True((await limiter.HitAsync("auth", "203.0.113.1", 3)).Allowed);

        time.Advance(TimeSpan.FromSeconds(45));
        var next = await limiter.HitAsync("req", "203.0.113.1", 3);
        Assert.True(next.Allowed);
        Assert.Equal(2, next.Remaining);
    }

    [Fact]
    public async Task Peeking_counts_nothing()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 3, 10, 0, 15, TimeSpan.Zero));
        var limiter = new RateLimiter(new MemoryRateLimitStore(time), time);
        Assert.True((await limiter.PeekAsync("auth", "a", 2)).Allowed);
        await limiter.HitAsync("auth", "a", 2);
        Assert.True((await limiter.PeekAsync("auth", "a", 2)).Allowed);
        await limiter.HitAsync("auth", "a", 2);
        Assert.False((await limiter.PeekAsync("auth", "a", 2)).Allowed);
        Assert.False((await limiter.PeekAsync("auth", "a", 2)).Allowed);
    }

    [Fact]
    public async Task Expired_windows_are_evicted_from_memory()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 3, 10, 0, 0, TimeSpan.Zero));
        var store = new MemoryRateLimitStore(time);
        var limiter = new RateLimiter(store, time);
        for (var i = 0; i < 1000; i++) await limiter.HitAsync("req", $"client-{i}", 100);
        Assert.Equal(1000, store.Count);

        time.Advance(TimeSpan.FromMinutes(2));
        await limiter.HitAsync("req", "client-0", 100);
        Assert.Equal(1, store.Count);
    }

    [Fact]
    public void Options_come_from_configuration_with_seed_001_defaults()
    {
        var defaults = EdgeProtectionOptions.FromConfiguration(new ConfigurationBuilder().Build());
        Assert.Equal(100, defaults.PerMinute);
        Assert.Equal(10, defaults.AuthFailuresPerMinute);
        Assert.Equal(2 * 1024 * 1024, defaults.MaxRequestBodyBytes);
        Assert.Empty(defaults.AllowedHosts);
        Assert.Contains("/api/docs", defaults.CspExemptPaths);

        var set = EdgeProtectionOptions.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["RateLimiting:PerMinute"] = "0",
            ["MC_ALLOWED_HOSTS"] = "a.example.com, *.b.example.com",
            ["MC_TRUSTED_PROXIES"] = "10.0.0.0/8,127.0.0.1",
        }).Build());
        Assert.Equal(0, set.PerMinute);
        Assert.Equal(["a.example.com", "*.b.example.com"], set.AllowedHosts);
        Assert.Equal(["10.0.0.0/8", "127.0.0.1"], set.TrustedProxies);
        Assert.Throws<InvalidOperationException>(() => EdgeProtectionOptions.FromConfiguration(
            new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["RateLimiting:PerMinute"] = "-1" }).Build()));
    }

    [Fact]
    public async Task Two_limiters_on_one_redis_share_one_budget()
    {
        var workDir = Path.Combine(Path.GetTempPath(), "mc-edge-redis-" + Guid.NewGuid().ToString("N"));
        await using var redis = await RedisServer.StartAsync(workDir);
        // Redis expires keys by its own clock: a window just ahead of the real time, so none expires during the test.
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds((DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 60 + 1) * 60 + 1));
        await using var first = new RedisRateLimitStore(redis.ConnectionString, new MemoryRateLimitStore(time), NullLogger<RedisRateLimitStore>.Instance);
        await using var second = new RedisRateLimitStore(redis.ConnectionString, new MemoryRateLimitStore(time), NullLogger<RedisRateLimitStore>.Instance);
        await WaitConnectedAsync(first);
        await WaitConnectedAsync(second);
        var a = new RateLimiter(first, time);
        var b = new RateLimiter(second, time);
        var client = "203.0.113." + Random.Shared.Next(1, 250);

        Assert.Equal(4, (await a.HitAsync("req", client, 5)).Remaining);
        Assert.Equal(3, (await b.HitAsync("req", client, 5)).Remaining);
        Assert.Equal(2, (await a.HitAsync("req", client, 5)).Remaining);
        Assert.Equal(1, (await b.HitAsync("req", client, 5)).Remaining);
        Assert.True((await a.HitAsync("req", client, 5)).Allowed);
        Assert.False((await b.HitAsync("req", client, 5)).Allowed);
        Assert.False((await b.PeekAsync("req", client, 5)).Allowed);

        // The counter expires with its window (EXPIREAT the window's end, plus a second).
        var ttl = await RedisCommandAsync(redis.Port, $"TTL mc:rl:req:{client}:{time.GetUtcNow().ToUnixTimeSeconds() / 60}");
        Assert.Matches(@"^:\d+", ttl);
        Directory.Delete(workDir, recursive: true);
    }

    [Fact]
    public async Task An_unreachable_redis_falls_back_to_memory_without_failing()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 3, 10, 0, 15, TimeSpan.Zero));
        await using var store = new RedisRateLimitStore($"127.0.0.1:{FreePort.Next()}", new MemoryRateLimitStore(time), NullLogger<RedisRateLimitStore>.Instance);
        var limiter = new RateLimiter(store, time);
        Assert.Equal(1, (await limiter.HitAsync("req", "a", 2)).Remaining);
        await Task.Delay(200); // whether the first connect has failed by now or not, counting goes on
        Assert.Equal(0, (await limiter.HitAsync("req", "a", 2)).Remaining);
        Assert.False((await limiter.HitAsync("req", "a", 2)).Allowed);
        Assert.False(store.IsConnected);
    }

    private static async Task WaitConnectedAsync(RedisRateLimitStore store)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!store.IsConnected)
        {
            Assert.True(DateTime.UtcNow < deadline, "the Redis store did not connect within 10 s");
            await Task.Delay(20);
        }
    }

    private static async Task<string> RedisCommandAsync(int port, string command)
    {
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync("127.0.0.1", port);
        var stream = client.GetStream();
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(command + "\r\n"));
        var buffer = new byte[256];
        var read = await stream.ReadAsync(buffer);
        return System.Text.Encoding.ASCII.GetString(buffer, 0, read);
    }
}
