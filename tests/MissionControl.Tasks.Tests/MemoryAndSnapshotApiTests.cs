using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Tasks;
using MissionControl.InternalAuth;

namespace MissionControl.Tasks.Tests;

/// <summary>Board memory and chat, board-group memory, and the snapshots, through HTTP.</summary>
public abstract class MemoryAndSnapshotApiTests(BrokerFixture broker) : TasksServiceTest(broker)
{
    [Fact]
    public async Task Board_memory_keeps_notes_and_chat_and_chat_reaches_the_lead_and_the_mentioned()
    {
        var board = await BoardAsync();
        var lead = await AgentAsync(board, "Lead Agent", lead: true);
        var worker = await AgentAsync(board, "Wendy Worker");
        var quiet = await AgentAsync(board, "Quinn");
        var url = $"/api/v1/boards/{board}/memory";

        var note = await ReadAsync(await Owner.PostAsJsonAsync(url, new { content = "Deploy window is Friday", tags = new[] { "ops" } }), HttpStatusCode.Created);
        Assert.False(note.GetProperty("is_chat").GetBoolean());
        Assert.Equal(JsonValueKind.Null, note.GetProperty("source").ValueKind);
        var (_, noteEvent) = await Bus.WaitForAsync<BoardMemoryAdded>(e => e.Memory.Id == Id(note));
        Assert.Equal("board.memory", noteEvent.Activity.EventType);

        var chat = await ReadAsync(await Owner.PostAsJsonAsync(url, new { content = "Hello team, @wendy please start", tags = new[] { "chat" } }), HttpStatusCode.Created);
        Assert.True(chat.GetProperty("is_chat").GetBoolean());
        Assert.Equal("Olivia Owner", chat.GetProperty("source").GetString());
        var (_, chatEvent) = await Bus.WaitForAsync<BoardMemoryAdded>(e => e.Memory.Id == Id(chat));
        Assert.Equal("board.chat", chatEvent.Activity.EventType);
        var (_, toWorker) = await Bus.WaitForAsync<AgentNotificationRequested>(n => n.BoardId == board && n.AgentId == worker && n.Kind == "board.chat_notified");
        Assert.StartsWith("BOARD CHAT MENTION", toWorker.Message);
        var (_, toLead) = await Bus.WaitForAsync<AgentNotificationRequested>(n => n.BoardId == board && n.AgentId == lead && n.Kind == "board.chat_notified");
        Assert.StartsWith("BOARD CHAT\n", toLead.Message);
        Assert.Contains($"/api/v1/agent/boards/{board}/memory", toLead.Message);

        var workerClient = AgentClient(worker, board, name: "Wendy Worker");
        var reply = await ReadAsync(await workerClient.PostAsJsonAsync($"/api/v1/agent/boards/{board}/memory", new { content = "/pause", tags = new[] { "chat" } }),
            HttpStatusCode.Created);
        Assert.Equal("Wendy Worker", reply.GetProperty("source").GetString());
        Assert.Equal(worker, reply.GetProperty("agent_id").GetGuid());
        foreach (var agent in new[] { lead, quiet })
        {
            var (_, command) = await Bus.WaitForAsync<AgentNotificationRequested>(n => n.AgentId == agent && n.Kind == "board.chat_command");
            Assert.Equal("/pause", command.Message);
            Assert.True(command.Deliver);
        }
        await Task.Delay(300);
        Assert.Empty(Bus.Received<AgentNotificationRequested>(n => n.AgentId == worker && n.Kind == "board.chat_command"));
        Assert.Empty(Bus.Received<AgentNotificationRequested>(n => n.AgentId == quiet && n.Kind == "board.chat_notified"));

        var chats = await Owner.GetFromJsonAsync<JsonElement>(url + "?is_chat=true");
        Assert.Equal(["/pause", "Hello team, @wendy please start"], chats.GetProperty("items").EnumerateArray().Select(m => m.GetProperty("content").GetString()));
        Assert.Equal(3, (await Owner.GetFromJsonAsync<JsonElement>(url)).GetProperty("total").GetInt32());
        await RefusedAsync(await Owner.PostAsJsonAsync(url, new { content = "  " }), HttpStatusCode.UnprocessableEntity);
        await RefusedAsync(await Member(new BoardGrant(board, true, false)).PostAsJsonAsync(url, new { content = "x" }), HttpStatusCode.Forbidden);
        await RefusedAsync(await Member().GetAsync(url), HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Group_memory_is_shared_by_the_boards_of_a_group_and_chat_reaches_their_leads()
    {
        var group = await GroupAsync("Launch");
        var alpha = await BoardAsync(group: group, name: "Alpha");
        var beta = await BoardAsync(group: group, name: "Beta");
        var loner = await BoardAsync(name: "Loner");
        var alphaLead = await AgentAsync(alpha, "Alpha Lead", lead: true);
        var betaLead = await AgentAsync(beta, "Beta Lead", lead: true);
        var betaWorker = await AgentAsync(beta, "Bruno");

        await RefusedAsync(await Owner.PostAsJsonAsync($"/api/v1/boards/{loner}/group-memory", new { content = "x" }), HttpStatusCode.UnprocessableEntity, "board_not_in_group");
        var chat = await ReadAsync(await Owner.PostAsJsonAsync($"/api/v1/board-groups/{group}/memory", new { content = "Status, everyone?", tags = new[] { "chat" } }),
            HttpStatusCode.Created);
        Assert.Equal(group, chat.GetProperty("board_group_id").GetGuid());
        var (_, evt) = await Bus.WaitForAsync<BoardGroupMemoryAdded>(e => e.Memory.Id == Id(chat));
        Assert.Equal("board.group.chat", evt.Activity.EventType);
        foreach (var agent in new[] { alphaLead, betaLead })
        {
            var (_, told) = await Bus.WaitForAsync<AgentNotificationRequested>(n => n.AgentId == agent && n.Kind == "board.group.chat_notified");
            Assert.StartsWith("GROUP CHAT", told.Message);
        }
        var broadcast = await ReadAsync(await AgentClient(alphaLead, alpha, AgentRoles.Lead, "Alpha Lead")
            .PostAsJsonAsync($"/api/v1/boards/{alpha}/group-memory", new { content = "Freeze starts now", tags = new[] { "broadcast" } }), HttpStatusCode.Created);
        var (_, toWorker) = await Bus.WaitForAsync<AgentNotificationRequested>(n => n.AgentId == betaWorker && n.Message.StartsWith("GROUP BROADCAST"));
        Assert.Equal(beta, toWorker.BoardId);
        await Task.Delay(300);
        Assert.Empty(Bus.Received<AgentNotificationRequested>(n => n.AgentId == alphaLead && n.Message.StartsWith("GROUP BROADCAST")));

        var fromBeta = await Owner.GetFromJsonAsync<JsonElement>($"/api/v1/boards/{beta}/group-memory");
        Assert.Equal([Id(broadcast), Id(chat)], fromBeta.GetProperty("items").EnumerateArray().Select(Id));
        Assert.Equal(0, (await Owner.GetFromJsonAsync<JsonElement>($"/api/v1/boards/{loner}/group-memory")).GetProperty("total").GetInt32());
        var betaReader = Member(new BoardGrant(beta, true, false));
        Assert.Equal(2, (await betaReader.GetFromJsonAsync<JsonElement>($"/api/v1/board-groups/{group}/memory")).GetProperty("total").GetInt32());
        await RefusedAsync(await betaReader.PostAsJsonAsync($"/api/v1/board-groups/{group}/memory", new { content = "x" }), HttpStatusCode.Forbidden);
        await RefusedAsync(await Member(new BoardGrant(loner, true, true)).GetAsync($"/api/v1/board-groups/{group}/memory"), HttpStatusCode.Forbidden);
        await RefusedAsync(await Tasks.ClientFor(TestTokens.Owner(Guid.NewGuid())).GetAsync($"/api/v1/board-groups/{group}/memory"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_board_snapshot_has_the_tasks_with_their_approval_counts_the_agents_approvals_and_chat()
    {
        var board = await BoardAsync();
        var worker = await AgentAsync(board, "Wendy");
        var task = Id(await CreateTaskAsync(board, new { title = "Ship", assigned_agent_id = worker }));
        var other = Id(await CreateTaskAsync(board, new { title = "Plan" }));
        await ReadAsync(await Owner.PostAsJsonAsync($"/api/v1/boards/{board}/approvals",
            new { action_type = "ship", task_id = task, confidence = 80, payload = new { reason = "ready" } }), HttpStatusCode.Created);
        foreach (var text in new[] { "one", "two" })
            await ReadAsync(await Owner.PostAsJsonAsync($"/api/v1/boards/{board}/memory", new { content = text, tags = new[] { "chat" } }), HttpStatusCode.Created);

        var snapshot = await ReadAsync(await AgentClient(worker, board).GetAsync($"/api/v1/boards/{board}/snapshot"));

        Assert.Equal(board, Id(snapshot.GetProperty("board")));
        var cards = snapshot.GetProperty("tasks").EnumerateArray().ToList();
        Assert.Equal([other, task], cards.Select(Id));
        Assert.Equal("Wendy", cards[1].GetProperty("assignee").GetString());
        Assert.Equal(1, cards[1].GetProperty("approvals_count").GetInt32());
        Assert.Equal(1, cards[1].GetProperty("approvals_pending_count").GetInt32());
        Assert.Equal(0, cards[0].GetProperty("approvals_count").GetInt32());
        Assert.False(cards[0].GetProperty("is_blocked").GetBoolean());
        Assert.Equal(worker, Id(Assert.Single(snapshot.GetProperty("agents").EnumerateArray())));
        Assert.Single(snapshot.GetProperty("approvals").EnumerateArray());
        Assert.Equal(["one", "two"], snapshot.GetProperty("chat_messages").EnumerateArray().Select(m => m.GetProperty("content").GetString()));
        Assert.Equal(1, snapshot.GetProperty("pending_approvals_count").GetInt32());
        await RefusedAsync(await Member().GetAsync($"/api/v1/boards/{board}/snapshot"), HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task A_group_whose_event_has_not_arrived_is_fetched_from_orgs()
    {
        var group = Guid.NewGuid();
        var at = DateTime.UtcNow;
        Orgs.Groups[group] = new { id = group, organization_id = Org, name = "Fresh group", slug = "fresh-group", description = "new", created_at = at, updated_at = at };
        var unknown = Guid.NewGuid();

        var view = await Owner.GetFromJsonAsync<JsonElement>($"/api/v1/board-groups/{group}/snapshot");
        Assert.Equal("Fresh group", view.GetProperty("group").GetProperty("name").GetString());
        await RefusedAsync(await Owner.GetAsync($"/api/v1/board-groups/{unknown}/snapshot"), HttpStatusCode.NotFound);

        Assert.Contains(group, Orgs.Asked);
        Assert.Contains(unknown, Orgs.Asked);
        var copy = await QueryAsync(db => db.BoardGroups.AsNoTracking().FirstOrDefaultAsync(g => g.Id == group));
        Assert.Equal("Fresh group", copy!.Name);
        // Known now: the next request does not ask orgs again.
        Orgs.Asked.Clear();
        Assert.Equal(HttpStatusCode.OK, (await Owner.GetAsync($"/api/v1/board-groups/{group}/memory")).StatusCode);
        Assert.DoesNotContain(group, Orgs.Asked);
    }

    [Fact]
    public async Task A_group_snapshot_orders_work_in_flight_first_and_shows_only_readable_boards()
    {
        var group = await GroupAsync("Program");
        var alpha = await BoardAsync(group: group, name: "Alpha");
        var beta = await BoardAsync(group: group, name: "Beta");
        foreach (var (title, status, priority) in new[]
                 {
                     ("low inbox", "inbox", "low"), ("done", "done", "high"), ("review", "review", "medium"), ("critical inbox", "inbox", "critical"),
                     ("started", "in_progress", "low"),
                 })
            await CreateTaskAsync(alpha, new { title, status, priority });
        await CreateTaskAsync(beta, new { title = "beta task" });

        var view = await Owner.GetFromJsonAsync<JsonElement>($"/api/v1/board-groups/{group}/snapshot?per_board_task_limit=4");
        Assert.Equal("Program", view.GetProperty("group").GetProperty("name").GetString());
        var boards = view.GetProperty("boards").EnumerateArray().ToList();
        Assert.Equal(["Alpha", "Beta"], boards.Select(b => b.GetProperty("board").GetProperty("name").GetString()));
        Assert.Equal(["started", "review", "critical inbox", "low inbox"], boards[0].GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("title").GetString()));
        Assert.Equal(2, boards[0].GetProperty("task_counts").GetProperty("inbox").GetInt32());
        Assert.Equal(1, boards[0].GetProperty("task_counts").GetProperty("done").GetInt32());
        Assert.Equal("Alpha", boards[0].GetProperty("tasks")[0].GetProperty("board_name").GetString());

        var withDone = await Owner.GetFromJsonAsync<JsonElement>($"/api/v1/board-groups/{group}/snapshot?include_done=true&per_board_task_limit=10");
        Assert.Equal(5, withDone.GetProperty("boards")[0].GetProperty("tasks").GetArrayLength());

        var betaOnly = await Member(new BoardGrant(beta, true, false)).GetFromJsonAsync<JsonElement>($"/api/v1/board-groups/{group}/snapshot");
        Assert.Equal(["Beta"], betaOnly.GetProperty("boards").EnumerateArray().Select(b => b.GetProperty("board").GetProperty("name").GetString()));
        var fromAlpha = await Owner.GetFromJsonAsync<JsonElement>($"/api/v1/boards/{alpha}/group-snapshot");
        Assert.Equal(["Beta"], fromAlpha.GetProperty("boards").EnumerateArray().Select(b => b.GetProperty("board").GetProperty("name").GetString()));
        var withSelf = await Owner.GetFromJsonAsync<JsonElement>($"/api/v1/boards/{alpha}/group-snapshot?include_self=true");
        Assert.Equal(2, withSelf.GetProperty("boards").GetArrayLength());
        await RefusedAsync(await Owner.GetAsync($"/api/v1/board-groups/{group}/snapshot?per_board_task_limit=101"), HttpStatusCode.UnprocessableEntity);
    }
}

[Collection(InfrastructureCollection.Collection)]
public sealed class MemoryAndSnapshotApiOnSqliteTests(BrokerFixture broker) : MemoryAndSnapshotApiTests(broker)
{
    protected override string DatabaseConnectionString() =>
        $"Data Source={Path.Combine(Path.GetTempPath(), $"mc-tasks-test-{Guid.NewGuid():N}.db")}";
}

[Collection(InfrastructureCollection.Collection)]
public sealed class MemoryAndSnapshotApiOnPostgresTests(BrokerFixture broker, PostgresFixture postgres) : MemoryAndSnapshotApiTests(broker)
{
    protected override string DatabaseConnectionString() => postgres.ConnectionStringForNewDatabase("tasks");
}
