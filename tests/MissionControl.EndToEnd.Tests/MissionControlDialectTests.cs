using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MissionControl.Contracts.Agents;

namespace MissionControl.EndToEnd.Tests;

/// <summary>
/// Seed 002's flow through the edge on the real broker, as a user with an API key: a task that requires
/// approval is created for a desktop, run, finished by its agent, reviewed and approved; the overview counts
/// follow and the activity stream (the edge's own) shows the task's, the approval's and the desktop's events.
/// The agents service is not running here: the desktop appears through its AgentCreated event and finishes
/// through the gateway path (its session's final reply, AgentMessageReceived), as the gateway-bridge reports it.
/// </summary>
[Collection(SystemCollection.Collection)]
public sealed class MissionControlDialectTests(BrokerFixture broker) : IAsyncLifetime
{
    private EdgeSystem _system = null!;

    public async Task InitializeAsync() => _system = await EdgeSystem.StartAsync(broker);

    public async Task DisposeAsync() => await _system.DisposeAsync();

    private static async Task<JsonElement> ReadAsync(HttpResponseMessage response, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static async Task<JsonElement> TaskAsync(HttpClient user, Guid id) =>
        (await ReadAsync(await user.GetAsync("/api/mission-control/tasks"))).EnumerateArray().Single(t => t.GetProperty("id").GetGuid() == id);

    private static async Task<JsonElement> CountsAsync(HttpClient user) =>
        (await ReadAsync(await user.GetAsync("/api/mission-control/overview"))).GetProperty("tasks");

    [Fact]
    public async Task The_seed_002_flow_create_run_finish_review_approve_with_the_overview_and_the_activity_stream()
    {
        var (_, key, _) = await _system.UserWithApiKeyAsync("Mia");
        using var user = _system.Client(key);
        var board = await EdgeSystem.BoardAsync(user);
        var org = (await user.GetFromJsonAsync<JsonElement>($"/api/v1/boards/{board}")).GetProperty("organization_id").GetGuid();
        await using var stream = await SseClient.OpenAsync(user, "/api/mission-control/activity/stream");
        Assert.Equal("connected", JsonDocument.Parse((await stream.NextAsync()).Data).RootElement.GetProperty("type").GetString());

        var desktop = Guid.NewGuid();
        await using var bus = await BusProbe.StartAsync(broker.ConnectionString);
        var now = DateTimeOffset.UtcNow;
        await bus.PublishAsync(new AgentCreated
        {
            OrganizationId = org, OccurredAt = now,
            Agent = new AgentState
            {
                Id = desktop, OrganizationId = org, BoardId = board, Name = "Desktop", Status = "online", SessionKey = $"agent:mc-{desktop}:main",
                CreatedAt = now, UpdatedAt = now,
            },
        });
        var before = await CountsAsync(user);
        JsonElement created = default;
        await EdgeSystem.EventuallyAsync(async () =>
        {
            var response = await user.PostAsJsonAsync("/api/mission-control/tasks",
                new { type = "prompt", content = "Install PostgreSQL and create a database", desktopId = desktop, requiresApproval = true });
            if (response.StatusCode == HttpStatusCode.NotFound) return false; // the tasks service does not know the desktop yet
            created = await ReadAsync(response, HttpStatusCode.Created);
            return true;
        }, TimeSpan.FromSeconds(20), "the tasks service knows the desktop");
        var taskId = created.GetProperty("id").GetGuid();
        Assert.Equal(("pending", true), (created.GetProperty("status").GetString(), created.GetProperty("requiresApproval").GetBoolean()));
        Assert.Equal(before.GetProperty("pending").GetInt32() + 1, (await CountsAsync(user)).GetProperty("pending").GetInt32());
        Assert.True((await ReadAsync(await user.GetAsync("/api/mission-control/overview"))).GetProperty("activeDesktops").GetInt32() >= 1);

        var running = await ReadAsync(await user.PostAsync($"/api/mission-control/tasks/{taskId}/run", null));
        Assert.Equal("running", running.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.Conflict, (await user.PostAsync($"/api/mission-control/tasks/{taskId}/run", null)).StatusCode);
        Assert.Equal(1, (await CountsAsync(user)).GetProperty("running").GetInt32());

        // The desktop's agent finishes: its session's final reply to the task.
        await bus.PublishAsync(new AgentMessageReceived
        {
            OrganizationId = org, GatewayId = Guid.NewGuid(), AgentId = desktop, BoardId = board, TaskId = taskId, SessionKey = $"agent:mc-{desktop}:main",
            RunId = Guid.NewGuid().ToString(), State = "final", Text = "PostgreSQL 16 installed; database app created.", OccurredAt = DateTimeOffset.UtcNow,
        });
        await EdgeSystem.EventuallyAsync(async () => (await TaskAsync(user, taskId)).GetProperty("status").GetString() == "review",
            TimeSpan.FromSeconds(20), "the finished task waits in review");
        var approval = Assert.Single((await ReadAsync(await user.GetAsync("/api/mission-control/approvals"))).EnumerateArray());
        Assert.Equal(taskId, approval.GetProperty("task").GetProperty("id").GetGuid());
        Assert.Equal(1, (await CountsAsync(user)).GetProperty("review").GetInt32());

        var done = await ReadAsync(await user.PostAsJsonAsync($"/api/mission-control/tasks/{taskId}/review", new { decision = "approve" }));
        Assert.Equal("done", done.GetProperty("status").GetString());
        Assert.Equal("PostgreSQL 16 installed; database app created.", done.GetProperty("result").GetString());
        var after = await CountsAsync(user);
        Assert.Equal((0, 0, 1), (after.GetProperty("review").GetInt32(), after.GetProperty("running").GetInt32(), after.GetProperty("done").GetInt32()));
        Assert.Empty((await ReadAsync(await user.GetAsync("/api/mission-control/approvals"))).EnumerateArray());

        // The stream: the desktop, then the task's life and its approval, in seed 001's frames; nothing of other topics.
        var seen = new List<string>();
        var wanted = new[] { "agent.created", "task.created", "task.dispatched", "approval.created", "approval.resolved" };
        while (!(wanted.All(seen.Contains) && seen.Count(t => t == "task.status_changed") >= 3))
        {
            var frame = JsonDocument.Parse((await stream.NextAsync(TimeSpan.FromSeconds(20))).Data).RootElement;
            var type = frame.GetProperty("type").GetString()!;
            Assert.True(type.StartsWith("task.") || type.StartsWith("approval.") || type.StartsWith("agent."), $"unexpected {type}");
            if (type == "agent.created" || frame.GetProperty("data").GetRawText().Contains(taskId.ToString())) seen.Add(type);
        }
    }
}
