using System.Net;
using System.Net.Http.Json;

namespace MissionControl.EndToEnd.Tests;

/// <summary>
/// The edge process reads its protections from its environment (as the AppHost and Kubernetes hand
/// them over), and its body limit sits above tasks' own, so tasks still answers an oversize inbound
/// webhook itself. The rules themselves are tested in-process (UnitTests/EdgeProtectionPipelineTests).
/// Windows follow the real clock: each check tolerates one window ending mid-test.
/// </summary>
[Collection(SystemCollection.Collection)]
public sealed class EdgeProtectionTests(BrokerFixture broker) : IAsyncLifetime
{
    private EdgeSystem _system = null!;

    public async Task InitializeAsync() => _system = await EdgeSystem.StartAsync(broker, new Dictionary<string, string?>
    {
        ["RateLimiting__PerMinute"] = "12",
        ["RateLimiting__AuthFailuresPerMinute"] = "2",
        ["MC_TRUSTED_PROXIES"] = "",
    });

    public async Task DisposeAsync() => await _system.DisposeAsync();

    [Fact]
    public async Task Limits_from_the_environment_apply_and_tasks_answers_its_own_413_below_the_edge_limit()
    {
        var board = await EdgeSystem.BoardAsync(_system.Admin);
        var hook = await EdgeSystem.CreateAsync(_system.Admin, $"/api/v1/boards/{board}/webhooks", new { description = "CI" });
        using var anonymous = _system.Client();

        // 1.5 MiB: past tasks' 1 MiB payload limit, within the edge's 2 MiB. 3 MiB: the edge's own refusal.
        using var overTasks = await anonymous.PostAsync($"/api/v1/boards/{board}/webhooks/{hook}", new ByteArrayContent(new byte[1536 * 1024]));
        var fromTasks = await overTasks.ProblemAsync(HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal("payload_too_large", fromTasks.GetProperty("code").GetString());
        Assert.Contains("1048576", fromTasks.GetProperty("detail").GetString());
        using var overEdge = await anonymous.PostAsync($"/api/v1/boards/{board}/webhooks/{hook}", new ByteArrayContent(new byte[3 * 1024 * 1024]));
        var fromEdge = await overEdge.ProblemAsync(HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal("payload_too_large", fromEdge.GetProperty("code").GetString());
        Assert.Contains("2097152", fromEdge.GetProperty("detail").GetString());
        Assert.Equal("nosniff", overEdge.Headers.GetValues("X-Content-Type-Options").Single());

        // Spoofed X-Forwarded-For from 127.0.0.1 (no trusted proxy) shares one budget: 12 a minute.
        HttpResponseMessage? refused = null;
        for (var i = 0; i < 30 && refused is null; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/boards/{board}");
            request.Headers.TryAddWithoutValidation("X-Forwarded-For", $"203.0.113.{i + 1}");
            var response = await _system.Admin.SendAsync(request);
            Assert.Equal("12", response.Headers.GetValues("X-RateLimit-Limit").Single());
            if (response.StatusCode == HttpStatusCode.TooManyRequests) refused = response;
            else Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        Assert.NotNull(refused);
        var problem = await refused.ProblemAsync(HttpStatusCode.TooManyRequests);
        Assert.Equal("rate_limited", problem.GetProperty("code").GetString());
        Assert.InRange(int.Parse(refused.Headers.GetValues("Retry-After").Single()), 1, 60);
        Assert.Equal("0", refused.Headers.GetValues("X-RateLimit-Remaining").Single());
    }

    [Fact]
    public async Task Repeated_bad_credentials_from_one_address_get_429()
    {
        using var guesser = _system.Client("mc_not_a_real_key");
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 6 && !statuses.Contains(HttpStatusCode.TooManyRequests); i++)
            statuses.Add((await guesser.GetAsync("/api/v1/boards")).StatusCode);
        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized], statuses.Take(2));
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[^1]);
        // The admin token is known without a lookup and still works from the same address.
        Assert.Equal(HttpStatusCode.OK, (await _system.Admin.GetAsync("/api/v1/users/me/api-keys")).StatusCode);
    }
}
