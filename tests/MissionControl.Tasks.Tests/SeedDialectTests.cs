using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Orgs;
using MissionControl.Contracts.Tasks;

namespace MissionControl.Tasks.Tests;

/// <summary>/api/tasks, the seed 000/001 dialect: the same tasks, rules and events as /api/v1, in camelCase.</summary>
public abstract class SeedDialectTests(BrokerFixture broker) : TasksServiceTest(broker)
{
    private async Task<JsonElement> SeedCreateAsync(object body, HttpClient? client = null) =>
        await ReadAsync(await (client ?? Owner).PostAsJsonAsync("/api/tasks", body), HttpStatusCode.Created);

    private static Guid TaskId(JsonElement task) => task.GetProperty("id").GetGuid();

    [Fact]
    public async Task A_task_without_a_board_goes_to_the_organizations_default_board_made_once()
    {
        var client = Owner;
        var first = await Task.WhenAll(
            client.PostAsJsonAsync("/api/tasks", new { title = "Review PR #42", description = "...", priority = "high" }),
            client.PostAsJsonAsync("/api/tasks", new { title = "Second" }));
        var third = await SeedCreateAsync(new { title = "Third" });

        var created = new List<JsonElement> { third };
        foreach (var r in first) created.Add(await ReadAsync(r, HttpStatusCode.Created));
        var board = Orgs.DefaultBoards[Org];
        Assert.All(created, t => Assert.Equal(board, t.GetProperty("boardId").GetGuid()));
        Assert.Single(Orgs.DefaultBoards);
        var review = created.Single(t => t.GetProperty("title").GetString() == "Review PR #42");
        Assert.Equal("high", review.GetProperty("priority").GetString());
        Assert.Equal("inbox", review.GetProperty("status").GetString());
        Assert.Equal("...", review.GetProperty("description").GetString());
        Assert.Equal(JsonValueKind.Null, review.GetProperty("agentId").ValueKind);
        Assert.Equal(JsonValueKind.Null, review.GetProperty("result").ValueKind);
        Assert.EndsWith("Z", review.GetProperty("createdAt").GetString());
        Assert.False(review.TryGetProperty("created_at", out _));
        // One task in both dialects, with the usual event.
        var v1 = await ReadAsync(await client.GetAsync($"/api/v1/boards/{board}/tasks/{TaskId(review)}"));
        Assert.Equal("Review PR #42", v1.GetProperty("title").GetString());
        await Bus.WaitForAsync<TaskCreated>(e => e.Task.Id == TaskId(review) && e.BoardId == board);
    }

    [Fact]
    public async Task A_create_names_its_board_and_agent_and_bad_input_is_refused_before_any_default_board()
    {
        var board = await BoardAsync();
        var agent = await AgentAsync(board, "Builder");

        var task = await SeedCreateAsync(new { title = "Build", boardId = board, agentId = agent, priority = "critical", status = "assigned" });

        Assert.Equal(board, task.GetProperty("boardId").GetGuid());
        Assert.Equal(agent, task.GetProperty("agentId").GetGuid());
        Assert.Equal("Builder", task.GetProperty("assignedTo").GetString());
        Assert.Equal("inbox", task.GetProperty("status").GetString());
        Assert.Equal("critical", task.GetProperty("priority").GetString());
        await RefusedAsync(await Owner.PostAsJsonAsync("/api/tasks", new { title = "x", priority = "urgent" }), HttpStatusCode.UnprocessableEntity);
        await RefusedAsync(await Owner.PostAsJsonAsync("/api/tasks", new { description = "no title" }), HttpStatusCode.UnprocessableEntity);
        await RefusedAsync(await Owner.PostAsJsonAsync("/api/tasks", new { title = "x", status = "doing" }), HttpStatusCode.UnprocessableEntity);
        Assert.Equal(0, Orgs.DefaultBoardCalls);
        var other = await BoardAsync(org: Guid.NewGuid());
        await RefusedAsync(await Owner.PostAsJsonAsync("/api/tasks", new { title = "sneak", boardId = other }), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task The_list_filters_pages_and_clamps_the_limit_and_shows_one_organization()
    {
        var board = await BoardAsync();
        var agent = await AgentAsync(board, "Worker");
        await SeedCreateAsync(new { title = "a", boardId = board, priority = "low" });
        await SeedCreateAsync(new { title = "b", boardId = board, priority = "high", agentId = agent });
        await SeedCreateAsync(new { title = "c", boardId = board, priority = "high", status = "done" });
        await SeedCreateAsync(new { title = "d", boardId = board, status = "in_progress", agentId = agent });

        var all = await ReadAsync(await Owner.GetAsync("/api/tasks?limit=500"));
        Assert.Equal(200, all.GetProperty("limit").GetInt32());
        Assert.Equal(4, all.GetProperty("total").GetInt32());
        Assert.Equal(["d", "c", "b", "a"], all.GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("title").GetString()));
        var page = await ReadAsync(await Owner.GetAsync("/api/tasks?limit=2&offset=2"));
        Assert.Equal(["b", "a"], page.GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("title").GetString()));
        Assert.Equal(2, page.GetProperty("page").GetInt32());
        Assert.Equal(50, (await ReadAsync(await Owner.GetAsync("/api/tasks"))).GetProperty("limit").GetInt32());

        async Task<string[]> Titles(string query) => (await ReadAsync(await Owner.GetAsync("/api/tasks?" + query))).GetProperty("tasks")
            .EnumerateArray().Select(t => t.GetProperty("title").GetString()!).Order().ToArray();
        Assert.Equal(["c"], await Titles("status=done"));
        Assert.Equal(["b", "c"], await Titles("priority=high"));
        Assert.Equal(["b", "d"], await Titles($"agentId={agent}"));
        Assert.Equal(["b"], await Titles("status=assigned"));
        Assert.Equal(["a", "b", "c", "d"], await Titles($"boardId={board}"));
        await RefusedAsync(await Owner.GetAsync("/api/tasks?status=bogus"), HttpStatusCode.UnprocessableEntity);

        var stranger = Tasks.ClientFor(TestTokens.Owner(Guid.NewGuid()));
        Assert.Equal(0, (await ReadAsync(await stranger.GetAsync("/api/tasks"))).GetProperty("total").GetInt32());
        Assert.Equal(0, (await ReadAsync(await Member().GetAsync("/api/tasks"))).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Get_patch_and_delete_follow_the_v1_rules_and_other_organizations_see_nothing()
    {
        var board = await BoardAsync();
        var gated = await BoardAsync(new BoardRules { RequireApprovalForDone = true });
        var id = TaskId(await SeedCreateAsync(new { title = "Plan", boardId = board }));
        var stranger = Tasks.ClientFor(TestTokens.Owner(Guid.NewGuid()));

        Assert.Equal("Plan", (await ReadAsync(await Owner.GetAsync($"/api/tasks/{id}"))).GetProperty("task").GetProperty("title").GetString());
        var patched = (await ReadAsync(await Owner.PatchAsJsonAsync($"/api/tasks/{id}",
            new { title = "Plan v2", priority = "critical", status = "in_progress", description = "more" }))).GetProperty("task");
        Assert.Equal("Plan v2", patched.GetProperty("title").GetString());
        Assert.Equal("in_progress", patched.GetProperty("status").GetString());
        Assert.Equal("critical", patched.GetProperty("priority").GetString());
        var (_, updated) = await Bus.WaitForAsync<TaskUpdated>(e => e.Task.Id == id);
        Assert.Equal("task.status_changed", updated.Activity.EventType);
        await RefusedAsync(await Owner.PatchAsJsonAsync($"/api/tasks/{id}", new { status = "doing" }), HttpStatusCode.UnprocessableEntity);

        var gatedTask = TaskId(await SeedCreateAsync(new { title = "Needs approval", boardId = gated }));
        await RefusedAsync(await Owner.PatchAsJsonAsync($"/api/tasks/{gatedTask}", new { status = "done" }), HttpStatusCode.Conflict, "approval_required");

        await RefusedAsync(await stranger.GetAsync($"/api/tasks/{id}"), HttpStatusCode.NotFound);
        await RefusedAsync(await stranger.PatchAsJsonAsync($"/api/tasks/{id}", new { title = "mine" }), HttpStatusCode.NotFound);
        await RefusedAsync(await stranger.DeleteAsync($"/api/tasks/{id}"), HttpStatusCode.NotFound);
        await RefusedAsync(await stranger.PostAsJsonAsync($"/api/tasks/{id}/dispatch", new { agentId = Guid.NewGuid() }), HttpStatusCode.NotFound);

        var deleted = await ReadAsync(await Owner.DeleteAsync($"/api/tasks/{id}"));
        Assert.True(deleted.GetProperty("success").GetBoolean());
        await RefusedAsync(await Owner.GetAsync($"/api/tasks/{id}"), HttpStatusCode.NotFound);
        await Bus.WaitForAsync<TaskDeleted>(e => e.Task.Id == id);
    }

    [Fact]
    public async Task Dispatch_assigns_and_sends_the_task_and_refuses_what_cannot_be_dispatched()
    {
        var board = await BoardAsync();
        var elsewhere = await BoardAsync();
        var agent = await AgentAsync(board, "Reviewer");
        var away = await AgentAsync(elsewhere, "Away");
        var foreign = await AgentAsync(await BoardAsync(org: Guid.NewGuid()), "Foreign", org: Guid.NewGuid());
        var id = TaskId(await SeedCreateAsync(new { title = "Review PR #42", description = "Look at the diff.", boardId = board }));

        var dispatched = await ReadAsync(await Owner.PostAsJsonAsync($"/api/tasks/{id}/dispatch", new { agentId = agent }));

        Assert.Equal(id, TaskId(dispatched));
        Assert.Equal(agent, dispatched.GetProperty("agentId").GetGuid());
        var (_, sent) = await Bus.WaitForAsync<TaskDispatched>(e => e.Task.Id == id);
        Assert.Equal(agent, sent.AgentId);
        Assert.Equal(agent, sent.Task.AssignedAgentId);
        Assert.Equal(board, sent.BoardId);
        Assert.Equal(Org, sent.OrganizationId);
        Assert.Equal("prompt", sent.Kind);
        Assert.Contains("Review PR #42", sent.Message);
        Assert.Contains("Look at the diff.", sent.Message);
        Assert.Contains($"/api/tasks/{id}", sent.Message);
        Assert.Equal("task.dispatched", sent.Activity.EventType);
        await Bus.WaitForAsync<TaskUpdated>(e => e.Task.Id == id && e.ChangedFields.Contains("assigned_agent_id"));
        // The task itself is the message: no TASK ASSIGNED notice besides.
        Assert.Empty(Bus.Received<AgentNotificationRequested>(e => e.TaskId == id && e.AgentId == agent));

        // Again: sent again, the assignment stays.
        Assert.Equal(HttpStatusCode.OK, (await Owner.PostAsJsonAsync($"/api/tasks/{id}/dispatch", new { agentId = agent })).StatusCode);
        await Bus.WaitForAsync<TaskDispatched>(e => e.Task.Id == id && Bus.Received<TaskDispatched>(d => d.Task.Id == id).Count == 2);

        await RefusedAsync(await Owner.PostAsJsonAsync($"/api/tasks/{id}/dispatch", new { agentId = Guid.NewGuid() }), HttpStatusCode.NotFound, "agent_not_found");
        await RefusedAsync(await Owner.PostAsJsonAsync($"/api/tasks/{id}/dispatch", new { agentId = foreign }), HttpStatusCode.NotFound, "agent_not_found");
        await RefusedAsync(await Owner.PostAsJsonAsync($"/api/tasks/{id}/dispatch", new { agentId = away }), HttpStatusCode.Conflict, "assignee_board_mismatch");
        await RefusedAsync(await Owner.PostAsJsonAsync($"/api/tasks/{Guid.NewGuid()}/dispatch", new { agentId = agent }), HttpStatusCode.NotFound);
        await RefusedAsync(await Owner.PostAsJsonAsync($"/api/tasks/{id}/dispatch", new { }), HttpStatusCode.UnprocessableEntity);

        var done = TaskId(await SeedCreateAsync(new { title = "Finished", boardId = board, status = "done" }));
        await RefusedAsync(await Owner.PostAsJsonAsync($"/api/tasks/{done}/dispatch", new { agentId = agent }), HttpStatusCode.Conflict, "task_not_dispatchable");
        var blocked = await CreateTaskAsync(board, new { title = "Later", depends_on_task_ids = new[] { id } });
        await RefusedAsync(await Owner.PostAsJsonAsync($"/api/tasks/{Id(blocked)}/dispatch", new { agentId = agent }), HttpStatusCode.Conflict, "task_blocked");
        Assert.Empty(Bus.Received<TaskDispatched>(e => e.Task.Id == done || e.Task.Id == Id(blocked)));
    }

    [Fact]
    public async Task The_queue_claims_an_agents_tasks_priority_first_once_each_even_concurrently()
    {
        var board = await BoardAsync();
        var agent = await AgentAsync(board, "Puller");
        var other = await AgentAsync(board, "Other");
        var low = TaskId(await SeedCreateAsync(new { title = "low", boardId = board, agentId = agent, priority = "low" }));
        var critical = TaskId(await SeedCreateAsync(new { title = "critical", boardId = board, agentId = agent, priority = "critical" }));
        var high = TaskId(await SeedCreateAsync(new { title = "high", boardId = board, priority = "high" }));
        await ReadAsync(await Owner.PostAsJsonAsync($"/api/tasks/{high}/dispatch", new { agentId = agent }));
        await SeedCreateAsync(new { title = "not mine", boardId = board, agentId = other, priority = "critical" });
        var puller = AgentClient(agent, board, name: "Puller");

        await RefusedAsync(await Owner.GetAsync("/api/tasks/queue"), HttpStatusCode.Forbidden, "agent_only");
        var claimed = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            var answer = await ReadAsync(await puller.GetAsync("/api/tasks/queue"));
            Assert.Equal("assigned", answer.GetProperty("reason").GetString());
            Assert.Equal("in_progress", answer.GetProperty("task").GetProperty("status").GetString());
            claimed.Add(TaskId(answer.GetProperty("task")));
        }
        Assert.Equal([critical, high, low], claimed);
        var none = await ReadAsync(await puller.GetAsync("/api/tasks/queue"));
        Assert.Equal(JsonValueKind.Null, none.GetProperty("task").ValueKind);
        Assert.Equal("no_tasks_available", none.GetProperty("reason").GetString());

        var a = TaskId(await SeedCreateAsync(new { title = "race a", boardId = board, agentId = agent }));
        var b = TaskId(await SeedCreateAsync(new { title = "race b", boardId = board, agentId = agent }));
        var answers = await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ => await ReadAsync(await puller.GetAsync("/api/tasks/queue"))));
        var won = answers.Where(x => x.GetProperty("task").ValueKind != JsonValueKind.Null).Select(x => TaskId(x.GetProperty("task"))).ToList();
        Assert.Equal(new[] { a, b }.Order(), won.Order());
        var counts = (await QueryAsync(db => db.TaskCounts.AsNoTracking().Where(c => c.BoardId == board).ToListAsync()))
            .GroupBy(c => c.Status).ToDictionary(g => g.Key, g => g.Sum(c => c.TaskCount));
        Assert.Equal(5, counts["in_progress"]);
        Assert.Equal(1, counts["inbox"]);
    }

    [Fact]
    public async Task An_agent_reports_on_its_own_task_with_a_result_and_only_there()
    {
        var board = await BoardAsync();
        var agent = await AgentAsync(board, "Doer");
        var stranger = await AgentAsync(board, "Stranger");
        var id = TaskId(await SeedCreateAsync(new { title = "Do it", boardId = board, agentId = agent }));
        var failing = TaskId(await SeedCreateAsync(new { title = "Try it", boardId = board, agentId = agent }));
        var doer = AgentClient(agent, board, name: "Doer");

        await RefusedAsync(await AgentClient(stranger, board, name: "Stranger").PatchAsJsonAsync($"/api/tasks/{id}", new { status = "done", result = "mine" }),
            HttpStatusCode.Forbidden, "task_assignee_mismatch");
        await RefusedAsync(await doer.PatchAsJsonAsync($"/api/tasks/{id}", new { title = "renamed" }), HttpStatusCode.Forbidden, "task_update_field_forbidden");
        await RefusedAsync(await doer.PatchAsJsonAsync($"/api/tasks/{id}", new { result = new string('x', 65_537) }), HttpStatusCode.UnprocessableEntity);
        Assert.Equal("in_progress", (await ReadAsync(await doer.PatchAsJsonAsync($"/api/tasks/{id}", new { status = "in_progress" })))
            .GetProperty("task").GetProperty("status").GetString());
        var done = (await ReadAsync(await doer.PatchAsJsonAsync($"/api/tasks/{id}", new { status = "done", result = "Merged in #43." }))).GetProperty("task");

        Assert.Equal("done", done.GetProperty("status").GetString());
        Assert.Equal("Merged in #43.", done.GetProperty("result").GetString());
        var (_, finished) = await Bus.WaitForAsync<TaskUpdated>(e => e.Task.Id == id && e.Task.Status == "done");
        Assert.Equal("task.status_changed", finished.Activity.EventType);
        Assert.Equal("Merged in #43.", finished.Task.Result);
        Assert.Equal(agent, finished.Activity.AgentId);
        Assert.Equal("Merged in #43.", (await ReadAsync(await Owner.GetAsync($"/api/v1/boards/{board}/tasks/{id}"))).GetProperty("result").GetString());

        var failed = (await ReadAsync(await doer.PatchAsJsonAsync($"/api/tasks/{failing}", new { status = "failed", result = "The build is red." }))).GetProperty("task");
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        var (_, failure) = await Bus.WaitForAsync<TaskUpdated>(e => e.Task.Id == failing && e.Task.Status == "failed");
        Assert.Equal("task.status_changed", failure.Activity.EventType);
    }

    [Fact]
    public async Task Comments_are_the_tasks_comments_in_camelCase()
    {
        var id = TaskId(await SeedCreateAsync(new { title = "Discuss" }));

        var added = await ReadAsync(await Owner.PostAsJsonAsync($"/api/tasks/{id}/comments", new { content = "Looks good" }), HttpStatusCode.Created);
        await RefusedAsync(await Owner.PostAsJsonAsync($"/api/tasks/{id}/comments", new { content = " " }), HttpStatusCode.UnprocessableEntity);

        Assert.Equal("Looks good", added.GetProperty("comment").GetProperty("content").GetString());
        Assert.Equal("Olivia Owner", added.GetProperty("comment").GetProperty("author").GetString());
        var list = await ReadAsync(await Owner.GetAsync($"/api/tasks/{id}/comments"));
        Assert.Equal("Looks good", list.GetProperty("comments")[0].GetProperty("content").GetString());
        Assert.Equal(id, list.GetProperty("comments")[0].GetProperty("taskId").GetGuid());
        await Bus.WaitForAsync<TaskCommentAdded>(e => e.Comment.TaskId == id);
    }
}

[Collection(InfrastructureCollection.Collection)]
public sealed class SeedDialectOnSqliteTests(BrokerFixture broker) : SeedDialectTests(broker)
{
    protected override string DatabaseConnectionString() =>
        $"Data Source={Path.Combine(Path.GetTempPath(), $"mc-tasks-test-{Guid.NewGuid():N}.db")}";
}

[Collection(InfrastructureCollection.Collection)]
public sealed class SeedDialectOnPostgresTests(BrokerFixture broker, PostgresFixture postgres) : SeedDialectTests(broker)
{
    protected override string DatabaseConnectionString() => postgres.ConnectionStringForNewDatabase("tasks");
}
