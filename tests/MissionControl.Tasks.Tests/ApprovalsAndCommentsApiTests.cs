using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MissionControl.Contracts.Orgs;
using MissionControl.Contracts.Tasks;
using MissionControl.InternalAuth;

namespace MissionControl.Tasks.Tests;

/// <summary>Approvals (and the approval-before-done rule) and task comments through HTTP.</summary>
public abstract class ApprovalsAndCommentsApiTests(BrokerFixture broker) : TasksServiceTest(broker)
{
    private static object Request(Guid task, string? reason = "The release is ready", string status = "pending") =>
        new { action_type = "release", task_id = task, confidence = 87.5, payload = new { reason }, rubric_scores = new { quality = 4 }, status };

    [Fact]
    public async Task Done_needs_an_approved_approval_and_one_task_has_at_most_one_pending_approval()
    {
        var board = await BoardAsync(new BoardRules());
        var lead = await AgentAsync(board, "Lead", lead: true);
        var worker = await AgentAsync(board, "Wendy");
        var task = Id(await CreateTaskAsync(board, new { title = "Release", status = "review" }));
        var other = Id(await CreateTaskAsync(board, new { title = "Notes" }));
        await RefusedAsync(await PatchAsync(Owner, board, task, new { status = "done" }), HttpStatusCode.Conflict, "approval_required");

        var workerClient = AgentClient(worker, board, name: "Wendy");
        var created = await ReadAsync(await workerClient.PostAsJsonAsync($"/api/v1/agent/boards/{board}/approvals",
            new { action_type = "release", task_ids = new[] { task, other }, confidence = 90, payload = new { reason = "ready", task_id = task } }), HttpStatusCode.Created);
        var approval = Id(created);
        Assert.Equal("pending", created.GetProperty("status").GetString());
        Assert.Equal(task, created.GetProperty("task_id").GetGuid());
        Assert.Equal([task, other], created.GetProperty("task_ids").EnumerateArray().Select(e => e.GetGuid()));
        Assert.Equal(worker, created.GetProperty("agent_id").GetGuid());
        var (_, createdEvent) = await Bus.WaitForAsync<ApprovalChanged>(e => e.Approval.Id == approval);
        Assert.Equal("approval.created", createdEvent.Activity.EventType);
        Assert.Equal(1, createdEvent.PendingApprovalsCount);
        Assert.Equal(1, createdEvent.TaskCounts.Single(c => c.TaskId == task).ApprovalsPendingCount);

        var conflict = await RefusedAsync(await Owner.PostAsJsonAsync($"/api/v1/boards/{board}/approvals", Request(other)), HttpStatusCode.Conflict, "pending_approval_conflict");
        var pair = Assert.Single(conflict.GetProperty("conflicts").EnumerateArray());
        Assert.Equal(other, pair.GetProperty("task_id").GetGuid());
        Assert.Equal(approval, pair.GetProperty("approval_id").GetGuid());
        await RefusedAsync(await PatchAsync(Owner, board, task, new { status = "done" }), HttpStatusCode.Conflict, "approval_required");
        await RefusedAsync(await workerClient.PatchAsJsonAsync($"/api/v1/boards/{board}/approvals/{approval}", new { status = "approved" }), HttpStatusCode.Forbidden, "user_only");
        await RefusedAsync(await Owner.PatchAsJsonAsync($"/api/v1/boards/{board}/approvals/{approval}", new { status = (string?)null }), HttpStatusCode.UnprocessableEntity);

        var resolved = await ReadAsync(await Owner.PatchAsJsonAsync($"/api/v1/boards/{board}/approvals/{approval}", new { status = "approved" }));
        Assert.Equal("approved", resolved.GetProperty("status").GetString());
        Assert.NotEqual(JsonValueKind.Null, resolved.GetProperty("resolved_at").ValueKind);
        var (_, resolvedEvent) = await Bus.WaitForAsync<ApprovalChanged>(e => e.Approval.Id == approval && e.Activity.EventType == "approval.resolved");
        Assert.Equal(0, resolvedEvent.PendingApprovalsCount);
        var (_, told) = await Bus.WaitForAsync<AgentNotificationRequested>(n => n.Kind == "approval.lead_notified" && n.BoardId == board);
        Assert.Equal(lead, told.AgentId);
        Assert.StartsWith("APPROVAL RESOLVED", told.Message);
        Assert.Contains("Decision: approved", told.Message);

        Assert.Equal("done", (await ReadAsync(await PatchAsync(Owner, board, task, new { status = "done" }))).GetProperty("status").GetString());
        var second = await ReadAsync(await Owner.PostAsJsonAsync($"/api/v1/boards/{board}/approvals", Request(other)), HttpStatusCode.Created);
        // Reopening the first to pending would give "other" two pending approvals.
        await RefusedAsync(await Owner.PatchAsJsonAsync($"/api/v1/boards/{board}/approvals/{approval}", new { status = "pending" }), HttpStatusCode.Conflict, "pending_approval_conflict");

        var pending = await Owner.GetFromJsonAsync<JsonElement>($"/api/v1/boards/{board}/approvals?status=pending");
        Assert.Equal(Id(second), Id(Assert.Single(pending.GetProperty("items").EnumerateArray())));
        var all = await Owner.GetFromJsonAsync<JsonElement>($"/api/v1/boards/{board}/approvals");
        Assert.Equal([Id(second), approval], all.GetProperty("items").EnumerateArray().Select(Id));
        Assert.Equal(2, all.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task An_approval_needs_reasoning_valid_fields_and_tasks_of_its_board()
    {
        var board = await BoardAsync();
        var otherBoard = await BoardAsync();
        var task = Id(await CreateTaskAsync(board, new { title = "A" }));
        var elsewhere = Id(await CreateTaskAsync(otherBoard, new { title = "B" }));
        var url = $"/api/v1/boards/{board}/approvals";

        await RefusedAsync(await Owner.PostAsJsonAsync(url, Request(task, reason: " ")), HttpStatusCode.UnprocessableEntity, "reasoning_required");
        var withLeadReasoning = await ReadAsync(await Owner.PostAsJsonAsync(url,
            new { action_type = "deploy", task_id = task, confidence = 50, lead_reasoning = "Because" }), HttpStatusCode.Created);
        Assert.Equal("Because", withLeadReasoning.GetProperty("payload").GetProperty("reason").GetString());
        var invalid = await RefusedAsync(await Owner.PostAsJsonAsync(url, new { action_type = "", confidence = 101, payload = new { reason = "x" } }), HttpStatusCode.UnprocessableEntity);
        Assert.True(invalid.GetProperty("errors").TryGetProperty("confidence", out _));
        Assert.True(invalid.GetProperty("errors").TryGetProperty("action_type", out _));
        var missing = await RefusedAsync(await Owner.PostAsJsonAsync(url, Request(elsewhere)), HttpStatusCode.NotFound, "task_not_found");
        Assert.Equal([elsewhere], missing.GetProperty("missing_task_ids").EnumerateArray().Select(e => e.GetGuid()));
        var worker = await AgentAsync(board, "W");
        await RefusedAsync(await AgentClient(worker, board).PostAsJsonAsync($"/api/v1/agent/boards/{board}/approvals", Request(Guid.NewGuid(), status: "approved")),
            HttpStatusCode.Forbidden, "approval_status_forbidden");
        await RefusedAsync(await Tasks.ClientFor(TestTokens.Owner(Guid.NewGuid())).GetAsync(url), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Comments_record_their_user_or_agent_author_and_notify_mentions_or_the_assignee()
    {
        var board = await BoardAsync();
        var lead = await AgentAsync(board, "Lead Agent", lead: true);
        var worker = await AgentAsync(board, "Wendy Worker");
        var helper = await AgentAsync(board, "Hank");
        var task = Id(await CreateTaskAsync(board, new { title = "Discuss", assigned_agent_id = worker }));
        var url = $"/api/v1/boards/{board}/tasks/{task}/comments";

        var byUser = await ReadAsync(await Owner.PostAsJsonAsync(url, new { message = "  First thoughts  " }), HttpStatusCode.Created);
        Assert.Equal("First thoughts", byUser.GetProperty("message").GetString());
        Assert.Equal(OwnerId, byUser.GetProperty("user_id").GetGuid());
        Assert.Equal(JsonValueKind.Null, byUser.GetProperty("agent_id").ValueKind);
        Assert.Equal("Olivia Owner", byUser.GetProperty("author_name").GetString());
        var (_, toAssignee) = await Bus.WaitForAsync<AgentNotificationRequested>(n => n.TaskId == task && n.Kind == "task.comment_notified");
        Assert.Equal(worker, toAssignee.AgentId);
        Assert.StartsWith("NEW TASK COMMENT", toAssignee.Message);

        var workerClient = AgentClient(worker, board, name: "Wendy Worker");
        var byAgent = await ReadAsync(await workerClient.PostAsJsonAsync($"/api/v1/agent/boards/{board}/tasks/{task}/comments",
            new { message = "@hank can you check? @wendy is me" }), HttpStatusCode.Created);
        Assert.Equal(worker, byAgent.GetProperty("agent_id").GetGuid());
        Assert.Equal(JsonValueKind.Null, byAgent.GetProperty("user_id").ValueKind);
        Assert.Equal("Wendy Worker", byAgent.GetProperty("author_name").GetString());
        var (_, mention) = await Bus.WaitForAsync<AgentNotificationRequested>(n => n.TaskId == task && n.Kind == "task.mention_notified");
        Assert.Equal(helper, mention.AgentId);
        Assert.StartsWith("TASK MENTION", mention.Message);
        var (_, evt) = await Bus.WaitForAsync<TaskCommentAdded>(e => e.Comment.Id == Id(byAgent));
        Assert.Equal("task.comment", evt.Activity.EventType);
        Assert.Equal(worker, evt.Activity.AgentId);
        await Task.Delay(300);
        Assert.Empty(Bus.Received<AgentNotificationRequested>(n => n.TaskId == task && n.AgentId == worker && n.Kind == "task.mention_notified"));

        var leadClient = AgentClient(lead, board, AgentRoles.Lead, "Lead Agent");
        await RefusedAsync(await leadClient.PostAsJsonAsync($"/api/v1/agent/boards/{board}/tasks/{task}/comments", new { message = "Lead here" }),
            HttpStatusCode.Forbidden, "lead_comment_forbidden");
        await ReadAsync(await Owner.PostAsJsonAsync(url, new { message = "@lead what do you think?" }), HttpStatusCode.Created);
        await ReadAsync(await leadClient.PostAsJsonAsync($"/api/v1/agent/boards/{board}/tasks/{task}/comments", new { message = "Looks fine." }), HttpStatusCode.Created);

        await RefusedAsync(await Owner.PostAsJsonAsync(url, new { message = "   " }), HttpStatusCode.UnprocessableEntity);
        await RefusedAsync(await Member(new BoardGrant(board, true, false)).PostAsJsonAsync(url, new { message = "hi" }), HttpStatusCode.Forbidden);
        var page = await Owner.GetFromJsonAsync<JsonElement>(url + "?limit=2");
        Assert.Equal(4, page.GetProperty("total").GetInt32());
        Assert.Equal(["First thoughts", "@hank can you check? @wendy is me"], page.GetProperty("items").EnumerateArray().Select(c => c.GetProperty("message").GetString()));
        await RefusedAsync(await Owner.GetAsync($"/api/v1/boards/{board}/tasks/{Guid.NewGuid()}/comments"), HttpStatusCode.NotFound);
    }
}

[Collection(InfrastructureCollection.Collection)]
public sealed class ApprovalsAndCommentsApiOnSqliteTests(BrokerFixture broker) : ApprovalsAndCommentsApiTests(broker)
{
    protected override string DatabaseConnectionString() =>
        $"Data Source={Path.Combine(Path.GetTempPath(), $"mc-tasks-test-{Guid.NewGuid():N}.db")}";
}

[Collection(InfrastructureCollection.Collection)]
public sealed class ApprovalsAndCommentsApiOnPostgresTests(BrokerFixture broker, PostgresFixture postgres) : ApprovalsAndCommentsApiTests(broker)
{
    protected override string DatabaseConnectionString() => postgres.ConnectionStringForNewDatabase("tasks");
}
