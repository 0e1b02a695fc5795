using System.Net.Http.Json;
using System.Text.Json;

namespace MissionControl.EndToEnd.Tests;

/// <summary>
/// SSE on top of the event log, through the edge with the real broker: two edge instances, a client
/// moving between them, an edge restart, the seed-001 /api/events stream and ?since.
/// </summary>
[Collection(SystemCollection.Collection)]
public sealed class EventLogStreamsTests(BrokerFixture broker) : IAsyncLifetime
{
    private EdgeSystem _system = null!;
    private HttpClient _admin = null!;

    public async Task InitializeAsync()
    {
        _system = await EdgeSystem.StartAsync(broker);
        _admin = _system.Admin;
    }

    public async Task DisposeAsync() => await _system.DisposeAsync();

    private static async Task<List<(string Id, Guid Task)>> ReadTasksAsync(SseClient stream, int count)
    {
        var got = new List<(string, Guid)>();
        for (var i = 0; i < count; i++)
        {
            var frame = await stream.NextAsync(TimeSpan.FromSeconds(15));
            got.Add((frame.Id!, JsonDocument.Parse(frame.Data).RootElement.GetProperty("task").GetProperty("id").GetGuid()));
        }
        return got;
    }

    [Fact]
    public async Task Clients_on_two_edges_see_every_event_and_a_client_moving_between_them_or_across_a_restart_misses_nothing()
    {
        var board = await EdgeSystem.BoardAsync(_admin);
        var secondEdge = await _system.StartAnotherEdgeAsync("edge-2");
        var second = _system.Client(_system.AdminToken, secondEdge);
        var path = $"/api/v1/boards/{board}/tasks/stream";

        await using var onFirst = await SseClient.OpenAsync(_admin, path);
        await using var onSecond = await SseClient.OpenAsync(second, path);
        var created = new List<Guid>();
        for (var i = 0; i < 5; i++) created.Add(await EdgeSystem.CreateAsync(i % 2 == 0 ? _admin : second, $"/api/v1/boards/{board}/tasks", new { title = $"t{i}" }));
        var seenFirst = await ReadTasksAsync(onFirst, 5);
        var seenSecond = await ReadTasksAsync(onSecond, 5);
        // Every one, once (the log's order across separate tasks is the order metrics consumed them in).
        Assert.Equal(created.Order(), seenFirst.Select(f => f.Task).Order());
        Assert.Equal(seenFirst, seenSecond); // the same events, in the same order, with the same ids on both instances

        // Away from the first edge, writes continue; the client comes back on the second edge.
        var missed = new List<Guid>();
        for (var i = 0; i < 3; i++) missed.Add(await EdgeSystem.CreateAsync(_admin, $"/api/v1/boards/{board}/tasks", new { title = $"m{i}" }));
        await using (var moved = await SseClient.OpenAsync(second, path, lastEventId: seenFirst[^1].Id))
        {
            var caughtUp = await ReadTasksAsync(moved, 3);
            Assert.Equal(missed, caughtUp.Select(f => f.Task));
            Assert.True(await moved.IsQuietAsync(TimeSpan.FromMilliseconds(500)), "nothing repeated");
        }
        var lastSeen = (await ReadTasksAsync(onFirst, 3))[^1].Id;

        // The first edge dies and comes back with an empty memory: what happened meanwhile comes from the log.
        await _system.KillAsync("edge");
        var whileDown = new List<Guid>();
        for (var i = 0; i < 4; i++) whileDown.Add(await EdgeSystem.CreateAsync(second, $"/api/v1/boards/{board}/tasks", new { title = $"d{i}" }));
        await _system.RestartAsync("edge");
        await using var afterRestart = await SseClient.OpenAsync(_admin, path, lastEventId: lastSeen);
        var recovered = await ReadTasksAsync(afterRestart, 4);
        Assert.Equal(whileDown, recovered.Select(f => f.Task));
        var live = await EdgeSystem.CreateAsync(_admin, $"/api/v1/boards/{board}/tasks", new { title = "live" });
        Assert.Equal(live, (await ReadTasksAsync(afterRestart, 1))[0].Task);
        Assert.True(await afterRestart.IsQuietAsync(TimeSpan.FromMilliseconds(500)), "nothing repeated");
    }

    [Fact]
    public async Task The_seed_001_event_stream_shows_every_event_of_the_callers_organization_only()
    {
        var board = await EdgeSystem.BoardAsync(_admin);
        var (_, otherKey, _) = await _system.UserWithApiKeyAsync("Olga");
        var other = _system.Client(otherKey);
        var otherBoard = await EdgeSystem.BoardAsync(other);

        await using var mine = await SseClient.OpenAsync(_admin, "/api/events");
        await using var theirs = await SseClient.OpenAsync(other, "/api/events");
        var connected = JsonDocument.Parse((await mine.NextAsync()).Data).RootElement;
        Assert.Equal("connected", connected.GetProperty("type").GetString());
        await theirs.NextAsync();

        var task = await EdgeSystem.CreateAsync(_admin, $"/api/v1/boards/{board}/tasks", new { title = "mine" });
        var theirTask = await EdgeSystem.CreateAsync(other, $"/api/v1/boards/{otherBoard}/tasks", new { title = "theirs" });

        // The organization's own earlier events (organization.created, board.created) may come first.
        SseFrame frame;
        JsonElement evt;
        do
        {
            frame = await mine.NextAsync();
            evt = JsonDocument.Parse(frame.Data).RootElement;
        } while (evt.GetProperty("type").GetString() != "task.created");
        Assert.Equal(task, evt.GetProperty("data").GetProperty("task").GetProperty("id").GetGuid());
        Assert.True(evt.GetProperty("timestamp").GetInt64() > 0);
        Assert.NotNull(frame.Id);
        JsonElement theirFrame;
        do theirFrame = JsonDocument.Parse((await theirs.NextAsync()).Data).RootElement;
        while (theirFrame.GetProperty("type").GetString() != "task.created");
        Assert.Equal(theirTask, theirFrame.GetProperty("data").GetProperty("task").GetProperty("id").GetGuid());
        Assert.True(await mine.IsQuietAsync(TimeSpan.FromMilliseconds(500)), "another organization's events never arrive");
    }

    [Fact]
    public async Task The_v1_event_stream_names_each_event_by_type_and_resumes_from_since()
    {
        var board = await EdgeSystem.BoardAsync(_admin);
        var before = DateTimeOffset.UtcNow;
        var first = await EdgeSystem.CreateAsync(_admin, $"/api/v1/boards/{board}/tasks", new { title = "first" });
        var patch = await _admin.PatchAsJsonAsync($"/api/v1/boards/{board}/tasks/{first}", new { status = "in_progress" });
        patch.EnsureSuccessStatusCode();

        await using var replay = await SseClient.OpenAsync(_admin, $"/api/v1/events/stream?since={Uri.EscapeDataString(before.ToString("O"))}");
        var frames = new List<SseFrame>();
        while (frames.Count < 2)
        {
            var frame = await replay.NextAsync();
            if (frame.Event.StartsWith("task.")) frames.Add(frame);
        }
        Assert.Equal(["task.created", "task.status_changed"], frames.Select(f => f.Event));
        var moved = JsonDocument.Parse(frames[1].Data).RootElement;
        Assert.Equal(first, moved.GetProperty("task_id").GetGuid());
        Assert.Equal(board, moved.GetProperty("board_id").GetGuid());
        Assert.Equal("in_progress", moved.GetProperty("data").GetProperty("task").GetProperty("status").GetString());
        Assert.True(long.Parse(frames[1].Id!) > long.Parse(frames[0].Id!));

        // An id this log never handed out (say, from before its database was replaced) resumes live, not never.
        await using var stranger = await SseClient.OpenAsync(_admin, $"/api/v1/boards/{board}/tasks/stream", lastEventId: "999999999");
        var next = await EdgeSystem.CreateAsync(_admin, $"/api/v1/boards/{board}/tasks", new { title = "next" });
        Assert.Equal(next, JsonDocument.Parse((await stranger.NextAsync()).Data).RootElement.GetProperty("task").GetProperty("id").GetGuid());
    }

    [Fact]
    public async Task A_resume_point_that_is_not_one_is_refused_not_ignored()
    {
        var board = await EdgeSystem.BoardAsync(_admin);
        var path = $"/api/v1/boards/{board}/tasks/stream";
        // Going live instead would silently lose what the client missed: each names what it could not read.
        foreach (var (query, header, field) in new[]
                 {
                     ("?since=yesterday", null, "since"), ("?last_event_id=abc", null, "last_event_id"), ("", "12x", "Last-Event-ID"),
                 })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path + query);
            if (header is not null) request.Headers.Add("Last-Event-ID", header);
            using var response = await _admin.SendAsync(request);
            Assert.Equal(System.Net.HttpStatusCode.UnprocessableEntity, response.StatusCode);
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Contains(field, problem.GetProperty("errors").EnumerateObject().Select(e => e.Name));
        }
    }

    [Fact]
    public async Task A_comment_reaches_the_task_comments_stream_and_the_activity_feed()
    {
        var board = await EdgeSystem.BoardAsync(_admin);
        var task = await EdgeSystem.CreateAsync(_admin, $"/api/v1/boards/{board}/tasks", new { title = "Write the plan" });
        await using var comments = await SseClient.OpenAsync(_admin, $"/api/v1/activity/task-comments/stream?board_id={board}");
        await EdgeSystem.CreateAsync(_admin, $"/api/v1/boards/{board}/tasks/{task}/comments", new { message = "On it" });

        var frame = await comments.NextAsync();
        Assert.Equal("comment", frame.Event);
        var item = JsonDocument.Parse(frame.Data).RootElement.GetProperty("comment");
        Assert.Equal("On it", item.GetProperty("message").GetString());
        Assert.Equal("Write the plan", item.GetProperty("task_title").GetString());
        Assert.Equal("Launch", item.GetProperty("board_name").GetString());

        var feed = await _admin.GetFromJsonAsync<JsonElement>($"/api/v1/activity?board_id={board}");
        var types = feed.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("event_type").GetString()).ToList();
        Assert.Equal(["task.comment", "task.created"], types.Take(2));
        var events = await _admin.GetFromJsonAsync<JsonElement>("/api/v1/events?type=task.*");
        Assert.Contains(events.GetProperty("items").EnumerateArray(), e => e.GetProperty("type").GetString() == "task.comment");
    }
}
