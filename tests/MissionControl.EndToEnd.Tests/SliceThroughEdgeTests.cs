using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MissionControl.Contracts.Tasks;

namespace MissionControl.EndToEnd.Tests;

[CollectionDefinition(Collection)]
public sealed class SystemCollection : ICollectionFixture<BrokerFixture>
{
    public const string Collection = "system";
}

/// <summary>orgs, tasks and the edge as processes on the real broker; tests talk only to the edge.</summary>
[Collection(SystemCollection.Collection)]
public sealed class SliceThroughEdgeTests(BrokerFixture broker) : IAsyncLifetime
{
    private EdgeSystem _system = null!;
    private HttpClient _admin = null!;
    private string _edge = "", _orgs = "", _tasks = "", _adminToken = "";

    public async Task InitializeAsync()
    {
        _system = await EdgeSystem.StartAsync(broker);
        (_admin, _edge, _orgs, _tasks, _adminToken) = (_system.Admin, _system.Edge, _system.Orgs, _system.Tasks, _system.AdminToken);
    }

    public async Task DisposeAsync() => await _system.DisposeAsync();

    private Task<Guid> CreateAsync(string path, object body) => EdgeSystem.CreateAsync(_admin, path, body);

    private Task<Guid> BoardAsync() => EdgeSystem.BoardAsync(_admin);

    [Fact]
    public void Every_service_on_SQLite_runs_it_multi_threaded_without_memory_statistics()
    {
        // Only possible before SQLite's first connection in the process (SqliteProcessSettings).
        foreach (var service in new[] { "orgs", "tasks", "metrics" })
        {
            var log = _system.Log(service);
            Assert.Contains("SQLite: multi-thread mode, memory statistics off", log);
            Assert.DoesNotContain("stays serialized", log);
        }
    }

    [Fact]
    public async Task A_task_created_through_the_edge_reaches_an_SSE_client_as_a_named_event_with_an_id()
    {
        var board = await BoardAsync();
        await using var stream = await SseClient.OpenAsync(_admin, $"/api/v1/boards/{board}/tasks/stream");

        var task = await CreateAsync($"/api/v1/boards/{board}/tasks", new { title = "First task", description = "through every layer" });

        var frame = await stream.NextAsync();
        Assert.Equal("task", frame.Event);
        Assert.True(long.TryParse(frame.Id, out _), "ids are event log positions");
        var data = JsonDocument.Parse(frame.Data).RootElement;
        Assert.Equal("task.created", data.GetProperty("type").GetString());
        Assert.Equal(task, data.GetProperty("task").GetProperty("id").GetGuid());
        Assert.Equal("First task", data.GetProperty("task").GetProperty("title").GetString());
        var list = await _admin.GetFromJsonAsync<JsonElement>($"/api/v1/boards/{board}/tasks");
        Assert.Equal(task, list.GetProperty("items")[0].GetProperty("id").GetGuid());
    }

    [Fact]
    public async Task A_reconnecting_client_resumes_after_its_Last_Event_ID()
    {
        var board = await BoardAsync();
        string firstId;
        await using (var stream = await SseClient.OpenAsync(_admin, $"/api/v1/boards/{board}/tasks/stream"))
        {
            await CreateAsync($"/api/v1/boards/{board}/tasks", new { title = "seen" });
            firstId = (await stream.NextAsync()).Id!;
        }
        var missed = await CreateAsync($"/api/v1/boards/{board}/tasks", new { title = "missed while away" });
        await Task.Delay(300); // let the event reach the edge while no client is connected

        await using var resumed = await SseClient.OpenAsync(_admin, $"/api/v1/boards/{board}/tasks/stream", lastEventId: firstId);

        var frame = await resumed.NextAsync();
        Assert.Equal(missed, JsonDocument.Parse(frame.Data).RootElement.GetProperty("task").GetProperty("id").GetGuid());
    }

    [Fact]
    public async Task A_client_that_missed_100_task_changes_gets_exactly_those_100_in_order_on_reconnect()
    {
        var board = await BoardAsync();
        var tasks = new List<Guid>();
        string lastSeen;
        await using (var stream = await SseClient.OpenAsync(_admin, $"/api/v1/boards/{board}/tasks/stream"))
        {
            for (var i = 0; i < 4; i++) tasks.Add(await CreateAsync($"/api/v1/boards/{board}/tasks", new { title = $"task {i}" }));
            for (var i = 0; i < 3; i++) await stream.NextAsync();
            lastSeen = (await stream.NextAsync()).Id!;
        }

        // A second client stays connected throughout: once it has all 100, the edge has them too.
        await using var witness = await SseClient.OpenAsync(_admin, $"/api/v1/boards/{board}/tasks/stream", lastEventId: lastSeen);
        var expected = new List<(string Type, Guid Task)>();
        for (var i = 0; i < 100; i++)
        {
            // Each group of four: a new task, then one existing task started, sent back, renamed.
            var task = tasks[i / 4 % tasks.Count];
            switch (i % 4)
            {
                case 0:
                    expected.Add(("task.created", await CreateAsync($"/api/v1/boards/{board}/tasks", new { title = $"change {i}" })));
                    break;
                case 1:
                    await PatchAsync(board, task, new { status = "in_progress" });
                    expected.Add(("task.status_changed", task));
                    break;
                case 2:
                    await PatchAsync(board, task, new { status = "inbox" });
                    expected.Add(("task.status_changed", task));
                    break;
                default:
                    await PatchAsync(board, task, new { title = $"renamed {i}", priority = "high" });
                    expected.Add(("task.updated", task));
                    break;
            }
        }
        var witnessed = new List<string>();
        for (var i = 0; i < 100; i++) witnessed.Add((await witness.NextAsync()).Id!);

        await using var resumed = await SseClient.OpenAsync(_admin, $"/api/v1/boards/{board}/tasks/stream", lastEventId: lastSeen);
        var received = new List<(string Id, string Type, Guid Task)>();
        for (var i = 0; i < 100; i++)
        {
            var frame = await resumed.NextAsync();
            var data = JsonDocument.Parse(frame.Data).RootElement;
            received.Add((frame.Id!, data.GetProperty("type").GetString()!, data.GetProperty("task").GetProperty("id").GetGuid()));
        }

        Assert.Equal(expected, received.Select(r => (r.Type, r.Task)));
        Assert.Equal(witnessed, received.Select(r => r.Id));
        Assert.True(await resumed.IsQuietAsync(TimeSpan.FromMilliseconds(500)), "nothing is repeated after the missed events");
    }

    private async Task PatchAsync(Guid board, Guid task, object body)
    {
        var response = await _admin.PatchAsJsonAsync($"/api/v1/boards/{board}/tasks/{task}", body);
        Assert.True(response.IsSuccessStatusCode, $"PATCH {task}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    [Fact]
    public async Task Comments_approvals_and_memory_reach_their_streams_as_named_events()
    {
        var group = await CreateAsync("/api/v1/board-groups", new { name = $"Group {Guid.NewGuid():N}" });
        var board = await CreateAsync("/api/v1/boards", new { name = "Grouped", description = "in a group", board_group_id = group });
        await using var tasks = await SseClient.OpenAsync(_admin, $"/api/v1/boards/{board}/tasks/stream");
        var task = await CreateAsync($"/api/v1/boards/{board}/tasks", new { title = "Needs a decision" });
        Assert.Equal("task.created", JsonDocument.Parse((await tasks.NextAsync()).Data).RootElement.GetProperty("type").GetString());
        await using var approvals = await SseClient.OpenAsync(_admin, $"/api/v1/boards/{board}/approvals/stream");
        await using var chat = await SseClient.OpenAsync(_admin, $"/api/v1/boards/{board}/memory/stream?is_chat=true");
        await using var groupMemory = await SseClient.OpenAsync(_admin, $"/api/v1/board-groups/{group}/memory/stream");
        await using var boardsGroupMemory = await SseClient.OpenAsync(_admin, $"/api/v1/boards/{board}/group-memory/stream");

        var comment = await CreateAsync($"/api/v1/boards/{board}/tasks/{task}/comments", new { message = "Looks good to me" });
        var approval = await CreateAsync($"/api/v1/boards/{board}/approvals",
            new { action_type = "deploy", task_ids = new[] { task }, confidence = 85, payload = new { reason = "tests pass" } });
        await CreateAsync($"/api/v1/boards/{board}/memory", new { content = "a durable note", tags = new[] { "note" } });
        var chatMessage = await CreateAsync($"/api/v1/boards/{board}/memory", new { content = "hello team", tags = new[] { "chat" } });
        var groupNote = await CreateAsync($"/api/v1/board-groups/{group}/memory", new { content = "for every board", tags = new[] { "chat" } });

        var commentFrame = await tasks.NextAsync();
        Assert.Equal("task", commentFrame.Event);
        var commentData = JsonDocument.Parse(commentFrame.Data).RootElement;
        Assert.Equal("task.comment", commentData.GetProperty("type").GetString());
        Assert.Equal(comment, commentData.GetProperty("comment").GetProperty("id").GetGuid());
        Assert.Equal("Looks good to me", commentData.GetProperty("comment").GetProperty("message").GetString());
        Assert.Equal(JsonValueKind.String, commentData.GetProperty("comment").GetProperty("user_id").ValueKind);

        var approvalFrame = await approvals.NextAsync();
        Assert.Equal("approval", approvalFrame.Event);
        var approvalData = JsonDocument.Parse(approvalFrame.Data).RootElement;
        Assert.Equal(approval, approvalData.GetProperty("approval").GetProperty("id").GetGuid());
        Assert.Equal(1, approvalData.GetProperty("pending_approvals_count").GetInt32());

        var chatFrame = await chat.NextAsync();
        Assert.Equal("memory", chatFrame.Event);
        Assert.Equal(chatMessage, JsonDocument.Parse(chatFrame.Data).RootElement.GetProperty("memory").GetProperty("id").GetGuid());
        Assert.True(await chat.IsQuietAsync(TimeSpan.FromMilliseconds(300)), "the note is not chat");

        foreach (var stream in new[] { groupMemory, boardsGroupMemory })
        {
            var frame = await stream.NextAsync();
            Assert.Equal("memory", frame.Event);
            Assert.Equal(groupNote, JsonDocument.Parse(frame.Data).RootElement.GetProperty("memory").GetProperty("id").GetGuid());
        }
    }

    [Fact]
    public async Task Streams_of_boards_the_caller_cannot_see_are_refused()
    {
        var response = await _admin.GetAsync($"/api/v1/boards/{Guid.NewGuid()}/tasks/stream");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Only_the_edge_token_opens_a_service_and_only_a_credential_opens_the_edge()
    {
        var board = await BoardAsync();
        using var direct = new HttpClient();
        direct.DefaultRequestHeaders.Authorization = new("Bearer", _adminToken);

        Assert.Equal(HttpStatusCode.Unauthorized, (await direct.GetAsync($"{_tasks}/api/v1/boards/{board}/tasks")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await direct.GetAsync($"{_orgs}/api/v1/boards")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await new HttpClient().GetAsync($"{_edge}/api/v1/boards")).StatusCode);
        using var wrong = new HttpClient();
        wrong.DefaultRequestHeaders.Authorization = new("Bearer", "mc_admin_wrong");
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync($"{_edge}/api/v1/boards/{board}/tasks")).StatusCode);
        // Internal endpoints are not reachable through the edge at all.
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.PostAsJsonAsync("/internal/v1/principals/resolve", new { external_id = "x" })).StatusCode);
    }

    [Fact]
    public async Task Bad_json_through_the_edge_is_a_400_problem_carrying_the_callers_request_id()
    {
        var board = await BoardAsync();
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/boards/{board}/tasks")
        {
            Content = new StringContent("{\"title\": ", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Request-Id", "ci-run-42");

        var response = await _admin.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("ci-run-42", Assert.Single(response.Headers.GetValues("X-Request-Id")));
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("ci-run-42", problem.GetProperty("request_id").GetString());
        Assert.Contains("JSON", problem.GetProperty("detail").GetString());
    }
}
