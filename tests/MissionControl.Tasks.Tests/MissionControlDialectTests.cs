using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Agents;
using MissionControl.Contracts.Tasks;

namespace MissionControl.Tasks.Tests;

/// <summary>/api/mission-control, seed 002's dialect: the same tasks, dispatched with a kind, finished through review and approvals.</summary>
public abstract class MissionControlDialectTests(BrokerFixture broker) : TasksServiceTest(broker)
{
    private const string Api = "/api/mission-control";

    private async Task<JsonElement> McCreateAsync(object body, HttpClient? client = null) =>
        await ReadAsync(await (client ?? Owner).PostAsJsonAsync($"{Api}/tasks", body), HttpStatusCode.Created);

    private async Task<JsonElement> RunAsync(Guid task, HttpClient? client = null) =>
        await ReadAsync(await (client ?? Owner).PostAsync($"{Api}/tasks/{task}/run", null));

    private async Task<JsonElement> TaskAsync(Guid task) =>
        (await ReadAsync(await Owner.GetAsync($"{Api}/tasks"))).EnumerateArray().Single(t => Id(t) == task);

    private async Task<(Guid Board, Guid Agent)> DesktopAsync(string name = "Desk")
    {
        var board = await BoardAsync();
        return (board, await AgentAsync(board, name));
    }

    /// <summary>What a gateway agent's session says at the end of its turn on the task.</summary>
    private AgentMessageReceived FinalReply(Guid board, Guid agent, Guid task, string text) => new()
    {
        OrganizationId = Org, GatewayId = Guid.NewGuid(), AgentId = agent, BoardId = board, TaskId = task, SessionKey = $"agent:mc-{agent}:main",
        RunId = Guid.NewGuid().ToString(), State = "final", Text = text, OccurredAt = DateTimeOffset.UtcNow,
    };

    private static string Status(JsonElement task) => task.GetProperty("status").GetString()!;

    [Fact]
    public async Task A_task_is_created_for_a_desktop_on_its_board_validated_and_listed_newest_first_with_filters()
    {
        var (board, desk) = await DesktopAsync();
        var (_, other) = await DesktopAsync("Other");

        var prompt = await McCreateAsync(new { type = "prompt", content = "  Install PostgreSQL\nand create a database  ", desktopId = desk });
        Assert.Equal("prompt", prompt.GetProperty("type").GetString());
        Assert.Equal("Install PostgreSQL\nand create a database", prompt.GetProperty("content").GetString());
        Assert.Equal("pending", Status(prompt));
        Assert.Equal(desk, prompt.GetProperty("desktopId").GetGuid());
        Assert.False(prompt.GetProperty("requiresApproval").GetBoolean());
        Assert.EndsWith("Z", prompt.GetProperty("createdAt").GetString());
        Assert.Equal(JsonValueKind.Null, prompt.GetProperty("startedAt").ValueKind);
        Assert.Equal(JsonValueKind.Null, prompt.GetProperty("completedAt").ValueKind);
        // One task in every dialect: on the desktop's board, its first line the title, unassigned until it runs.
        var v1 = await ReadAsync(await Owner.GetAsync($"/api/v1/boards/{board}/tasks/{Id(prompt)}"));
        Assert.Equal("Install PostgreSQL", v1.GetProperty("title").GetString());
        Assert.Equal("inbox", v1.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, v1.GetProperty("assigned_agent_id").ValueKind);
        await Bus.WaitForAsync<TaskCreated>(e => e.Task.Id == Id(prompt) && e.BoardId == board);

        var command = await McCreateAsync(new { type = "command", content = "df -h", desktopId = other, requiresApproval = true });
        Assert.True(command.GetProperty("requiresApproval").GetBoolean());
        // A board that requires approval for done is seed 002's "global setting": its tasks require approval.
        var gatedDesk = await AgentAsync(await BoardAsync(new Contracts.Orgs.BoardRules { RequireApprovalForDone = true }), "Gated");
        var gated = await McCreateAsync(new { type = "prompt", content = "x", desktopId = gatedDesk, requiresApproval = false });
        Assert.True(gated.GetProperty("requiresApproval").GetBoolean());
        var third = await McCreateAsync(new { type = "command", content = "uptime", desktopId = desk });
        await RunAsync(Id(third));

        await RefusedAsync(await Owner.PostAsJsonAsync($"{Api}/tasks", new { type = "shell", content = "ls", desktopId = desk }), HttpStatusCode.UnprocessableEntity);
        await RefusedAsync(await Owner.PostAsJsonAsync($"{Api}/tasks", new { type = "prompt", content = "  ", desktopId = desk }), HttpStatusCode.UnprocessableEntity);
        await RefusedAsync(await Owner.PostAsJsonAsync($"{Api}/tasks", new { type = "prompt", content = "x" }), HttpStatusCode.UnprocessableEntity);
        await RefusedAsync(await Owner.PostAsJsonAsync($"{Api}/tasks", new { type = "prompt", content = "x", desktopId = Guid.NewGuid() }),
            HttpStatusCode.NotFound, "desktop_not_found");
        var foreign = await AgentAsync(await BoardAsync(org: Guid.NewGuid()), "Foreign", org: Guid.NewGuid());
        await RefusedAsync(await Owner.PostAsJsonAsync($"{Api}/tasks", new { type = "prompt", content = "x", desktopId = foreign }), HttpStatusCode.NotFound);

        var all = await ReadAsync(await Owner.GetAsync($"{Api}/tasks"));
        Assert.Equal(JsonValueKind.Array, all.ValueKind);
        Assert.Equal([Id(third), Id(gated), Id(command), Id(prompt)], all.EnumerateArray().Select(Id));
        Assert.Equal([Id(gated), Id(command), Id(prompt)], (await ReadAsync(await Owner.GetAsync($"{Api}/tasks?status=pending"))).EnumerateArray().Select(Id));
        Assert.Equal([Id(third)], (await ReadAsync(await Owner.GetAsync($"{Api}/tasks?status=running"))).EnumerateArray().Select(Id));
        Assert.Equal([Id(third), Id(prompt)], (await ReadAsync(await Owner.GetAsync($"{Api}/tasks?desktopId={desk}"))).EnumerateArray().Select(Id));
        Assert.Equal([Id(prompt)], (await ReadAsync(await Owner.GetAsync($"{Api}/tasks?desktopId={desk}&status=pending"))).EnumerateArray().Select(Id));
        await RefusedAsync(await Owner.GetAsync($"{Api}/tasks?status=inbox"), HttpStatusCode.UnprocessableEntity);
        // Agents use /api/tasks; this dialect is for people.
        await RefusedAsync(await AgentClient(desk, board).GetAsync($"{Api}/tasks"), HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Run_sends_a_pending_task_to_its_desktop_as_a_prompt_or_a_command_and_refuses_anything_else()
    {
        var (board, desk) = await DesktopAsync();
        var prompt = Id(await McCreateAsync(new { type = "prompt", content = "Summarize the logs", desktopId = desk }));
        var command = Id(await McCreateAsync(new { type = "command", content = "ls -la /tmp", desktopId = desk }));

        var running = await RunAsync(prompt);
        Assert.Equal("running", Status(running));
        Assert.NotEqual(JsonValueKind.Null, running.GetProperty("startedAt").ValueKind);
        var (_, sent) = await Bus.WaitForAsync<TaskDispatched>(e => e.Task.Id == prompt);
        Assert.Equal(("prompt", "Summarize the logs", desk, board), (sent.Kind, sent.Message, sent.AgentId, sent.BoardId));
        Assert.Equal(desk, sent.Task.AssignedAgentId);
        Assert.Equal("in_progress", sent.Task.Status);

        await RunAsync(command);
        var (_, shell) = await Bus.WaitForAsync<TaskDispatched>(e => e.Task.Id == command);
        Assert.Equal("command", shell.Kind);
        Assert.StartsWith("COMMAND", shell.Message);
        Assert.EndsWith("\nls -la /tmp", shell.Message);

        await RefusedAsync(await Owner.PostAsync($"{Api}/tasks/{prompt}/run", null), HttpStatusCode.Conflict, "task_not_pending");
        await RefusedAsync(await Owner.PostAsync($"{Api}/tasks/{Guid.NewGuid()}/run", null), HttpStatusCode.NotFound);
        await Task.Delay(200);
        Assert.Single(Bus.Received<TaskDispatched>(e => e.Task.Id == prompt));
    }

    [Fact]
    public async Task A_gateway_agents_final_reply_finishes_its_task_in_review_with_an_approval_when_required_else_done()
    {
        var (board, desk) = await DesktopAsync();
        var gated = Id(await McCreateAsync(new { type = "prompt", content = "Install PostgreSQL", desktopId = desk, requiresApproval = true }));
        var plain = Id(await McCreateAsync(new { type = "prompt", content = "Say hi", desktopId = desk }));
        await RunAsync(gated);
        await RunAsync(plain);

        await Bus.PublishAsync(FinalReply(board, desk, gated, "Installed PostgreSQL 16, database app created."));
        await Bus.PublishAsync(FinalReply(board, desk, plain, "hi"));

        await Bus.WaitForAsync<TaskUpdated>(e => e.Task.Id == gated && e.Task.Status == "review");
        var (_, approvalCreated) = await Bus.WaitForAsync<ApprovalChanged>(e => e.Approval.TaskId == gated);
        Assert.Equal("pending", approvalCreated.Approval.Status);
        Assert.Equal(desk, approvalCreated.Approval.AgentId);
        var (_, done) = await Bus.WaitForAsync<TaskUpdated>(e => e.Task.Id == plain && e.Task.Status == "done");
        Assert.Equal("hi", done.Task.Result);
        Assert.Empty(Bus.Received<ApprovalChanged>(e => e.Approval.TaskId == plain));

        var review = await TaskAsync(gated);
        Assert.Equal("review", Status(review));
        Assert.Equal(desk, review.GetProperty("desktopId").GetGuid()); // review hands the task to the lead; it is still the desktop's
        Assert.Equal("Installed PostgreSQL 16, database app created.", review.GetProperty("result").GetString());
        Assert.NotEqual(JsonValueKind.Null, review.GetProperty("startedAt").ValueKind);
        Assert.NotEqual(JsonValueKind.Null, (await TaskAsync(plain)).GetProperty("completedAt").ValueKind);
        // The reply is the agent's comment, as for any task.
        Assert.Equal(1, await QueryAsync(db => db.TaskComments.CountAsync(c => c.TaskId == gated && c.AgentId == desk)));

        var approvals = await ReadAsync(await Owner.GetAsync($"{Api}/approvals"));
        var approval = Assert.Single(approvals.EnumerateArray());
        Assert.Equal(gated, approval.GetProperty("taskId").GetGuid());
        Assert.Equal("pending", approval.GetProperty("status").GetString());
        Assert.Equal("Install PostgreSQL", approval.GetProperty("task").GetProperty("content").GetString());
        Assert.Equal(desk, approval.GetProperty("task").GetProperty("desktopId").GetGuid());
        var stored = await QueryAsync(db => db.Approvals.SingleAsync(a => a.TaskId == gated));
        Assert.Contains("Requires approval before done", stored.Payload);

        // Approve: done, and the approval with it.
        await RefusedAsync(await Owner.PostAsJsonAsync($"{Api}/tasks/{gated}/review", new { decision = "maybe" }), HttpStatusCode.UnprocessableEntity);
        var approved = await ReadAsync(await Owner.PostAsJsonAsync($"{Api}/tasks/{gated}/review", new { decision = "approve" }));
        Assert.Equal("done", Status(approved));
        Assert.Equal("approved", (await QueryAsync(db => db.Approvals.SingleAsync(a => a.TaskId == gated))).Status);
        await Bus.WaitForAsync<ApprovalChanged>(e => e.Approval.TaskId == gated && e.Approval.Status == "approved");
        Assert.Empty((await ReadAsync(await Owner.GetAsync($"{Api}/approvals"))).EnumerateArray());
        await RefusedAsync(await Owner.PostAsJsonAsync($"{Api}/tasks/{gated}/review", new { decision = "approve" }), HttpStatusCode.Conflict, "task_not_in_review");
        await RefusedAsync(await Owner.PostAsJsonAsync($"{Api}/tasks/{plain}/review", new { decision = "reject" }), HttpStatusCode.Conflict, "task_not_in_review");
    }

    [Fact]
    public async Task A_custom_agents_done_stops_in_review_when_approval_is_required_and_a_rejection_fails_it_with_the_feedback()
    {
        var (board, desk) = await DesktopAsync("Custom");
        var agent = AgentClient(desk, board, name: "Custom");
        var gated = Id(await McCreateAsync(new { type = "command", content = "rm -rf /tmp/cache", desktopId = desk, requiresApproval = true }));
        var plain = Id(await McCreateAsync(new { type = "command", content = "uptime", desktopId = desk }));
        await RunAsync(gated);
        await RunAsync(plain);

        var patched = await ReadAsync(await agent.PatchAsJsonAsync($"/api/tasks/{gated}", new { status = "done", result = "removed" }));
        Assert.Equal("review", patched.GetProperty("task").GetProperty("status").GetString());
        await ReadAsync(await agent.PatchAsJsonAsync($"/api/tasks/{plain}", new { status = "done", result = "up 3 days" }));
        Assert.Equal("done", Status(await TaskAsync(plain)));
        Assert.Equal("review", Status(await TaskAsync(gated)));
        var approval = Assert.Single((await ReadAsync(await Owner.GetAsync($"{Api}/approvals"))).EnumerateArray());
        Assert.Equal(gated, approval.GetProperty("taskId").GetGuid());
        // In review the task waits for a person: the agent has handed it over.
        await RefusedAsync(await agent.PatchAsJsonAsync($"/api/tasks/{gated}", new { status = "done" }), HttpStatusCode.Forbidden);
        Assert.Equal(1, await QueryAsync(db => db.Approvals.CountAsync(a => a.TaskId == gated)));

        var rejected = await ReadAsync(await Owner.PostAsJsonAsync($"{Api}/tasks/{gated}/review", new { decision = "reject", feedback = "Not that directory." }));
        Assert.Equal("failed", Status(rejected));
        Assert.NotEqual(JsonValueKind.Null, rejected.GetProperty("completedAt").ValueKind);
        Assert.Equal("rejected", (await QueryAsync(db => db.Approvals.SingleAsync(a => a.TaskId == gated))).Status);
        var feedback = await QueryAsync(db => db.TaskComments.SingleAsync(c => c.TaskId == gated && c.UserId == OwnerId));
        Assert.Equal("Not that directory.", feedback.Message);
    }

    [Fact]
    public async Task Resolving_an_approval_decides_its_task_and_the_overview_counts_follow()
    {
        var (board, desk) = await DesktopAsync();
        var before = await ReadAsync(await Owner.GetAsync($"{Api}/overview"));
        Assert.Equal(1, before.GetProperty("activeDesktops").GetInt32());
        Assert.Equal(0, before.GetProperty("tasks").GetProperty("pending").GetInt32());
        var memory = before.GetProperty("resources").GetProperty("memory");
        Assert.True(memory.GetProperty("total").GetInt64() > 0);
        Assert.InRange(memory.GetProperty("percent").GetDouble(), 0, 100);
        Assert.InRange(before.GetProperty("resources").GetProperty("cpu").GetDouble(), 0, 100);

        var task = Id(await McCreateAsync(new { type = "prompt", content = "Deploy", desktopId = desk, requiresApproval = true }));
        var waiting = Id(await McCreateAsync(new { type = "prompt", content = "Later", desktopId = desk }));
        await RunAsync(task);
        var counts = (await ReadAsync(await Owner.GetAsync($"{Api}/overview"))).GetProperty("tasks");
        Assert.Equal((1, 1, 0), (counts.GetProperty("pending").GetInt32(), counts.GetProperty("running").GetInt32(), counts.GetProperty("done").GetInt32()));

        await ReadAsync(await AgentClient(desk, board, name: "Desk").PatchAsJsonAsync($"/api/tasks/{task}", new { status = "done" }));
        Assert.Equal(1, (await ReadAsync(await Owner.GetAsync($"{Api}/overview"))).GetProperty("tasks").GetProperty("review").GetInt32());
        var approvalId = Id(Assert.Single((await ReadAsync(await Owner.GetAsync($"{Api}/approvals"))).EnumerateArray()));

        var resolved = await ReadAsync(await Owner.PostAsJsonAsync($"{Api}/approvals/{approvalId}/resolve", new { decision = "approve", feedback = "Ship it" }));
        Assert.Equal(("approved", task), (resolved.GetProperty("status").GetString(), resolved.GetProperty("taskId").GetGuid()));
        Assert.Equal("done", Status(await TaskAsync(task)));
        await RefusedAsync(await Owner.PostAsJsonAsync($"{Api}/approvals/{approvalId}/resolve", new { decision = "reject" }), HttpStatusCode.Conflict,
            "approval_not_pending");
        counts = (await ReadAsync(await Owner.GetAsync($"{Api}/overview"))).GetProperty("tasks");
        Assert.Equal((1, 0, 0, 1), (counts.GetProperty("pending").GetInt32(), counts.GetProperty("running").GetInt32(),
            counts.GetProperty("review").GetInt32(), counts.GetProperty("done").GetInt32()));
        Assert.Equal("pending", Status(await TaskAsync(waiting)));
    }

    [Fact]
    public async Task Another_organizations_tasks_and_approvals_do_not_exist()
    {
        var (board, desk) = await DesktopAsync();
        var task = Id(await McCreateAsync(new { type = "prompt", content = "Mine", desktopId = desk, requiresApproval = true }));
        await RunAsync(task);
        await ReadAsync(await AgentClient(desk, board, name: "Desk").PatchAsJsonAsync($"/api/tasks/{task}", new { status = "done" }));
        var approvalId = Id(Assert.Single((await ReadAsync(await Owner.GetAsync($"{Api}/approvals"))).EnumerateArray()));

        var stranger = Tasks.ClientFor(TestTokens.Owner(Guid.NewGuid()));
        Assert.Empty((await ReadAsync(await stranger.GetAsync($"{Api}/tasks"))).EnumerateArray());
        Assert.Empty((await ReadAsync(await stranger.GetAsync($"{Api}/approvals"))).EnumerateArray());
        Assert.Equal(0, (await ReadAsync(await stranger.GetAsync($"{Api}/overview"))).GetProperty("tasks").GetProperty("review").GetInt32());
        await RefusedAsync(await stranger.PostAsync($"{Api}/tasks/{task}/run", null), HttpStatusCode.NotFound);
        await RefusedAsync(await stranger.PostAsJsonAsync($"{Api}/tasks/{task}/review", new { decision = "approve" }), HttpStatusCode.NotFound);
        await RefusedAsync(await stranger.PostAsJsonAsync($"{Api}/approvals/{approvalId}/resolve", new { decision = "approve" }), HttpStatusCode.NotFound);
        await RefusedAsync(await stranger.PostAsJsonAsync($"{Api}/tasks", new { type = "prompt", content = "x", desktopId = desk }), HttpStatusCode.NotFound);
        Assert.Equal("review", Status(await TaskAsync(task)));
    }
}

[Collection(InfrastructureCollection.Collection)]
public sealed class MissionControlDialectOnSqliteTests(BrokerFixture broker) : MissionControlDialectTests(broker)
{
    protected override string DatabaseConnectionString() =>
        $"Data Source={Path.Combine(Path.GetTempPath(), $"mc-tasks-test-{Guid.NewGuid():N}.db")}";
}

[Collection(InfrastructureCollection.Collection)]
public sealed class MissionControlDialectOnPostgresTests(BrokerFixture broker, PostgresFixture postgres) : MissionControlDialectTests(broker)
{
    protected override string DatabaseConnectionString() => postgres.ConnectionStringForNewDatabase("tasks");
}
