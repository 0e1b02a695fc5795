using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace MissionControl.EndToEnd.Tests;

/// <summary>
/// Seed 000's custom agent through the edge, with orgs, tasks, agents and metrics as processes: created
/// with an API key and only a name and capabilities, it authenticates with its token, pulls its task and
/// reports it; another, with a callbackUrl, gets its dispatched task as a signed POST and reports it too; both
/// completions reach the seed-001 event stream, GET /api/events.
/// </summary>
[Collection(SystemCollection.Collection)]
public sealed class CustomAgentsThroughEdgeTests(BrokerFixture broker) : IAsyncLifetime
{
    private EdgeSystem _system = null!;

    public async Task InitializeAsync() =>
        _system = await EdgeSystem.StartAsync(broker, agents: new Dictionary<string, string?> { ["Agents__CallbackAllowedHosts"] = "127.0.0.1" });

    public async Task DisposeAsync() => await _system.DisposeAsync();

    [Fact]
    public async Task A_custom_agent_pulls_and_reports_its_task_and_one_with_a_callback_gets_its_dispatch_signed()
    {
        var (_, key, _) = await _system.UserWithApiKeyAsync("Cleo");
        using var user = _system.Client(key);
        await EdgeSystem.CreateAsync(user, "/api/v1/organizations", new { name = $"Acme {Guid.NewGuid():N}" });
        await using var events = await SseClient.OpenAsync(user, "/api/events");
        Assert.Equal("connected", JsonDocument.Parse((await events.NextAsync()).Data).RootElement.GetProperty("type").GetString());

        var puller = await CreateAgentAsync(user, new { name = "Puller", capabilities = new[] { "review" } });
        var pullerId = puller.GetProperty("id").GetGuid();
        Assert.Equal("custom", puller.GetProperty("runtimeType").GetString());

        // tasks knows the agent once its AgentCreated arrived; both are on the organization's default board.
        var task = Guid.Empty;
        await EdgeSystem.EventuallyAsync(async () =>
        {
            var created = await user.PostAsJsonAsync("/api/tasks", new { title = "Review PR #42", agentId = pullerId });
            if (created.StatusCode != HttpStatusCode.Created) return false;
            task = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
            return true;
        }, TimeSpan.FromSeconds(20), "a task assigned to the new agent");

        using var agent = _system.Client(puller.GetProperty("token").GetString());
        var queued = await agent.GetFromJsonAsync<JsonElement>("/api/tasks/queue");
        Assert.Equal("assigned", queued.GetProperty("reason").GetString());
        Assert.Equal(task, queued.GetProperty("task").GetProperty("id").GetGuid());
        var report = await agent.PatchAsJsonAsync($"/api/tasks/{task}", new { status = "done", result = "LGTM" });
        Assert.True(report.StatusCode == HttpStatusCode.OK, await report.Content.ReadAsStringAsync());
        var read = await user.GetStringAsync($"/api/agents/{pullerId}");
        Assert.DoesNotContain(puller.GetProperty("token").GetString()!, read);

        // Pushed: the dispatch reaches the callback signed with the secret shown at creation.
        var received = new ConcurrentQueue<(string Body, string Timestamp, string Signature)>();
        await using var receiver = await LoopbackReceiver.StartAsync((request, body) =>
            received.Enqueue((body, request.Headers["X-MC-Timestamp"].ToString(), request.Headers["X-MC-Signature"].ToString())));
        var hooked = await CreateAgentAsync(user, new { name = "Hooked", callbackUrl = receiver.Urls.Single().TrimEnd('/') + "/hook" });
        var hookedId = hooked.GetProperty("id").GetGuid();
        var second = await EdgeSystem.CreateAsync(user, "/api/tasks", new { title = "Run the linters", description = "All of them." });
        await EdgeSystem.EventuallyAsync(async () =>
            (await user.PostAsJsonAsync($"/api/tasks/{second}/dispatch", new { agentId = hookedId })).StatusCode == HttpStatusCode.OK,
            TimeSpan.FromSeconds(20), "the dispatch to the hooked agent");
        await EdgeSystem.EventuallyAsync(() => Task.FromResult(!received.IsEmpty), TimeSpan.FromSeconds(20), "the callback");
        var (body, timestamp, signature) = received.First();
        var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(
            Encoding.UTF8.GetBytes(hooked.GetProperty("callbackSecret").GetString()!), Encoding.UTF8.GetBytes($"{timestamp}.{body}")));
        Assert.Equal(expected, signature);
        using var payload = JsonDocument.Parse(body);
        Assert.Equal("task.dispatched", payload.RootElement.GetProperty("event").GetString());
        Assert.Equal(second, payload.RootElement.GetProperty("data").GetProperty("task").GetProperty("id").GetGuid());

        // The hooked agent reports with its token, as the puller did.
        using var hookedAgent = _system.Client(hooked.GetProperty("token").GetString());
        foreach (var status in new[] { "in_progress", "done" })
        {
            var step = await hookedAgent.PatchAsJsonAsync($"/api/tasks/{second}", new { status, result = status == "done" ? "All clean." : null });
            Assert.True(step.StatusCode == HttpStatusCode.OK, $"{status}: {await step.Content.ReadAsStringAsync()}");
        }

        // Both completions reach the caller's event stream.
        var done = new HashSet<Guid>();
        while (done.Count < 2)
        {
            var evt = JsonDocument.Parse((await events.NextAsync(TimeSpan.FromSeconds(30))).Data).RootElement;
            if (evt.GetProperty("type").GetString() == "task.status_changed"
                && evt.GetProperty("data").GetProperty("task") is var changed && changed.GetProperty("status").GetString() == "done")
                done.Add(changed.GetProperty("id").GetGuid());
        }
        Assert.Equal(new[] { task, second }.Order(), done.Order());
    }

    private static async Task<JsonElement> CreateAgentAsync(HttpClient user, object body)
    {
        var response = await user.PostAsJsonAsync("/api/agents", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}
