using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Orgs;
using MissionControl.Contracts.Tasks;
using MissionControl.InternalAuth;

namespace MissionControl.Tasks.Tests;

/// <summary>Task updates, deletes, dependencies, tags and custom fields through HTTP, with their events.</summary>
public abstract class TaskLifecycleApiTests(BrokerFixture broker) : TasksServiceTest(broker)
{
    private async Task<int> TotalAsync(Guid board, string status) =>
        (await Owner.GetFromJsonAsync<JsonElement>($"/api/v1/boards/{board}/tasks?status={status}")).GetProperty("total").GetInt32();

    [Fact]
    public async Task A_user_update_changes_the_task_keeps_the_counters_right_and_publishes_the_snapshot()
    {
        var board = await BoardAsync();
        var task = Id(await CreateTaskAsync(board, new { title = "Draft", description = "first" }));

        var updated = await ReadAsync(await PatchAsync(Owner, board, task, new { title = "Final", priority = "critical", status = "in_progress", due_at = "2030-01-02T03:04:05Z" }));

        Assert.Equal("Final", updated.GetProperty("title").GetString());
        Assert.Equal("critical", updated.GetProperty("priority").GetString());
        Assert.Equal("in_progress", updated.GetProperty("status").GetString());
        Assert.Equal("first", updated.GetProperty("description").GetString());
        Assert.NotEqual(JsonValueKind.Null, updated.GetProperty("in_progress_at").ValueKind);
        Assert.Equal(0, await TotalAsync(board, "inbox"));
        Assert.Equal(1, await TotalAsync(board, "in_progress"));
        var (_, evt) = await Bus.WaitForAsync<TaskUpdated>(e => e.Task.Id == task);
        Assert.Equal("task.status_changed", evt.Activity.EventType);
        Assert.Equal("Task moved to in_progress: Final.", evt.Activity.Message);
        Assert.Equal(OwnerId, evt.Activity.UserId);
        Assert.Equal("inbox", evt.PreviousStatus);
        Assert.Equal(["title", "priority", "due_at", "status", "in_progress_at"], evt.ChangedFields);
        Assert.Equal("Final", evt.Task.Title);

        // Clearing a field is an explicit null; absent fields stay.
        var cleared = await ReadAsync(await PatchAsync(Owner, board, task, new { description = (string?)null }));
        Assert.Equal(JsonValueKind.Null, cleared.GetProperty("description").ValueKind);
        Assert.Equal("Final", cleared.GetProperty("title").GetString());
        await Bus.WaitForAsync<TaskUpdated>(e => e.Task.Id == task && e.Activity.EventType == "task.updated" && e.ChangedFields.Contains("description"));

        await RefusedAsync(await PatchAsync(Owner, board, task, new { status = "doing" }), HttpStatusCode.UnprocessableEntity);
        await RefusedAsync(await PatchAsync(Owner, board, task, new { title = 42 }), HttpStatusCode.UnprocessableEntity);
        await RefusedAsync(await Owner.PatchAsync($"/api/v1/boards/{board}/tasks/{task}", Json("[1]")), HttpStatusCode.BadRequest);
        await RefusedAsync(await PatchAsync(Owner, board, Guid.NewGuid(), new { title = "x" }), HttpStatusCode.NotFound);
        var reader = Member(new BoardGrant(board, true, false));
        await RefusedAsync(await PatchAsync(reader, board, task, new { title = "x" }), HttpStatusCode.Forbidden);
        await RefusedAsync(await PatchAsync(Tasks.ClientFor(TestTokens.Owner(Guid.NewGuid())), board, task, new { title = "x" }), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Concurrent_moves_in_opposite_directions_all_succeed_and_keep_the_counts()
    {
        var board = await BoardAsync();
        var tasks = new List<Guid>();
        for (var i = 0; i < 8; i++) tasks.Add(Id(await CreateTaskAsync(board, new { title = $"flip {i}" })));
        // Half start in progress: each round then moves half one way and half the other, at once
        // (the board's two count rows in opposite orders deadlocked on PostgreSQL).
        foreach (var task in tasks.Take(4)) await ReadAsync(await PatchAsync(Owner, board, task, new { status = "in_progress" }));
        for (var round = 0; round < 6; round++)
        {
            var responses = await Task.WhenAll(tasks.Select((task, i) =>
                PatchAsync(Owner, board, task, new { status = (i < 4) == (round % 2 == 0) ? "inbox" : "in_progress" })));
            Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        }
        Assert.Equal(4, await TotalAsync(board, "inbox"));
        Assert.Equal(4, await TotalAsync(board, "in_progress"));
    }

    [Fact]
    public async Task Dependencies_block_reject_cycles_and_cascade_when_a_dependency_completes_or_reopens()
    {
        var board = await BoardAsync();
        var first = Id(await CreateTaskAsync(board, new { title = "First" }));
        var second = Id(await CreateTaskAsync(board, new { title = "Second", depends_on_task_ids = new[] { first, first } }));
        var third = Id(await CreateTaskAsync(board, new { title = "Third" }));

        var read = await ReadAsync(await Owner.GetAsync($"/api/v1/boards/{board}/tasks/{second}"));
        Assert.Equal([first], read.GetProperty("depends_on_task_ids").EnumerateArray().Select(e => e.GetGuid()));
        Assert.Equal([first], read.GetProperty("blocked_by_task_ids").EnumerateArray().Select(e => e.GetGuid()));
        Assert.True(read.GetProperty("is_blocked").GetBoolean());

        await RefusedAsync(await PatchAsync(Owner, board, first, new { depends_on_task_ids = new[] { second } }), HttpStatusCode.Conflict, "dependency_cycle");
        await ReadAsync(await PatchAsync(Owner, board, third, new { depends_on_task_ids = new[] { second } }));
        await RefusedAsync(await PatchAsync(Owner, board, first, new { depends_on_task_ids = new[] { third } }), HttpStatusCode.Conflict, "dependency_cycle");
        await RefusedAsync(await PatchAsync(Owner, board, first, new { depends_on_task_ids = new[] { first } }), HttpStatusCode.UnprocessableEntity, "dependency_self");
        var stranger = Guid.NewGuid();
        var missing = await RefusedAsync(await PatchAsync(Owner, board, first, new { depends_on_task_ids = new[] { stranger } }), HttpStatusCode.NotFound, "dependency_not_found");
        Assert.Equal([stranger], missing.GetProperty("missing_task_ids").EnumerateArray().Select(e => e.GetGuid()));
        var blocked = await RefusedAsync(await PatchAsync(Owner, board, second, new { status = "in_progress" }), HttpStatusCode.Conflict, "task_blocked");
        Assert.Equal([first], blocked.GetProperty("blocked_by_task_ids").EnumerateArray().Select(e => e.GetGuid()));
        await RefusedAsync(await Owner.PostAsJsonAsync($"/api/v1/boards/{board}/tasks", new { title = "Early", status = "in_progress", depends_on_task_ids = new[] { first } }),
            HttpStatusCode.Conflict, "task_blocked");

        await ReadAsync(await PatchAsync(Owner, board, first, new { status = "done" }));
        var (_, completed) = await Bus.WaitForAsync<TaskUpdated>(e => e.Task.Id == second && e.Activity.Message == "Dependency completion changed: First.");
        Assert.False(completed.Task.IsBlocked);
        Assert.Equal("task.updated", completed.Activity.EventType);
        Assert.Equal("in_progress", (await ReadAsync(await PatchAsync(Owner, board, second, new { status = "in_progress" }))).GetProperty("status").GetString());
        await RefusedAsync(await PatchAsync(Owner, board, first, new { depends_on_task_ids = Array.Empty<Guid>() }), HttpStatusCode.Conflict, "dependency_on_done_task");

        await ReadAsync(await PatchAsync(Owner, board, first, new { status = "review" }));
        var (_, reopened) = await Bus.WaitForAsync<TaskUpdated>(e => e.Task.Id == second && e.Activity.EventType == "task.status_changed"
                                                                      && e.Activity.Message == "Task returned to inbox: dependency reopened (First).");
        Assert.Equal("inbox", reopened.Task.Status);
        Assert.True(reopened.Task.IsBlocked);
        Assert.Equal(0, await TotalAsync(board, "in_progress"));
        Assert.Equal(2, await TotalAsync(board, "inbox"));
        Assert.Equal(1, await TotalAsync(board, "review"));
    }

    [Fact]
    public async Task The_board_gates_refuse_with_their_codes_over_http()
    {
        var board = await BoardAsync(new BoardRules { RequireApprovalForDone = false, RequireReviewBeforeDone = true, CommentRequiredForReview = true });
        var task = Id(await CreateTaskAsync(board, new { title = "Gated", status = "in_progress" }));

        await RefusedAsync(await PatchAsync(Owner, board, task, new { status = "done" }), HttpStatusCode.Conflict, "review_required");
        await RefusedAsync(await PatchAsync(Owner, board, task, new { status = "review" }), HttpStatusCode.UnprocessableEntity, "comment_required");
        var review = await ReadAsync(await PatchAsync(Owner, board, task, new { status = "review", comment = "Ready: see the notes" }));
        Assert.Equal("review", review.GetProperty("status").GetString());
        var (_, comment) = await Bus.WaitForAsync<TaskCommentAdded>(e => e.Comment.TaskId == task);
        Assert.Equal(OwnerId, comment.Comment.UserId);
        Assert.Equal("Olivia Owner", comment.Comment.AuthorName);
        Assert.Equal("task.comment", comment.Activity.EventType);
        Assert.Equal("done", (await ReadAsync(await PatchAsync(Owner, board, task, new { status = "done" }))).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Workers_and_leads_are_held_to_their_rules_and_the_right_agents_are_told()
    {
        var board = await BoardAsync();
        var lead = await AgentAsync(board, "Lead Agent", lead: true);
        var worker = await AgentAsync(board, "Wendy Worker");
        var other = await AgentAsync(board, "Oscar");
        var workerClient = AgentClient(worker, board, name: "Wendy Worker");
        var otherClient = AgentClient(other, board, name: "Oscar");
        var leadClient = AgentClient(lead, board, AgentRoles.Lead, "Lead Agent");
        var task = Id(await CreateTaskAsync(board, new { title = "Build it" }));
        var (_, newTask) = await Bus.WaitForAsync<AgentNotificationRequested>(n => n.TaskId == task && n.Kind == "task.lead_notified");
        Assert.Equal(lead, newTask.AgentId);
        Assert.StartsWith("NEW TASK ADDED", newTask.Message);

        await RefusedAsync(await PatchAsync(workerClient, board, task, new { title = "Mine" }, agentRoute: true), HttpStatusCode.Forbidden, "task_update_field_forbidden");
        var claimed = await ReadAsync(await PatchAsync(workerClient, board, task, new { status = "in_progress" }, agentRoute: true));
        Assert.Equal(worker, claimed.GetProperty("assigned_agent_id").GetGuid());
        await RefusedAsync(await PatchAsync(otherClient, board, task, new { status = "review" }, agentRoute: true), HttpStatusCode.Forbidden, "task_assignee_mismatch");
        await RefusedAsync(await PatchAsync(leadClient, board, task, new { status = "done" }, agentRoute: true), HttpStatusCode.Forbidden, "lead_status_forbidden");

        var review = await ReadAsync(await PatchAsync(workerClient, board, task, new { status = "review", comment = "Done, @lead please look" }, agentRoute: true));
        Assert.Equal(lead, review.GetProperty("assigned_agent_id").GetGuid());
        var (_, ready) = await Bus.WaitForAsync<AgentNotificationRequested>(n => n.TaskId == task && n.Kind == "task.assignee_notified");
        Assert.Equal(lead, ready.AgentId);
        Assert.StartsWith("TASK READY FOR LEAD REVIEW", ready.Message);
        var (_, mention) = await Bus.WaitForAsync<AgentNotificationRequested>(n => n.TaskId == task && n.Kind == "task.mention_notified");
        Assert.Equal(lead, mention.AgentId);

        await ReadAsync(await leadClient.PostAsJsonAsync($"/api/v1/agent/boards/{board}/tasks/{task}/comments", new { message = "Please add tests." }), HttpStatusCode.Created);
        var back = await ReadAsync(await PatchAsync(leadClient, board, task, new { status = "inbox" }, agentRoute: true));
        Assert.Equal("inbox", back.GetProperty("status").GetString());
        Assert.Equal(worker, back.GetProperty("assigned_agent_id").GetGuid());
        var (_, rework) = await Bus.WaitForAsync<AgentNotificationRequested>(n => n.TaskId == task && n.Kind == "task.rework_notified");
        Assert.Equal(worker, rework.AgentId);
        Assert.Contains("CHANGES REQUESTED", rework.Message);
        Assert.Contains("Please add tests.", rework.Message);

        await RefusedAsync(await PatchAsync(leadClient, board, task, new { assigned_agent_id = lead }, agentRoute: true), HttpStatusCode.Forbidden, "lead_cannot_assign_lead");
        var reassigned = await ReadAsync(await PatchAsync(leadClient, board, task, new { assigned_agent_id = other, status = "in_progress" }, agentRoute: true));
        Assert.Equal(other, reassigned.GetProperty("assigned_agent_id").GetGuid());
        var (_, assigned) = await Bus.WaitForAsync<AgentNotificationRequested>(n => n.TaskId == task && n.Kind == "task.assignee_notified" && n.AgentId == other);
        Assert.StartsWith("TASK ASSIGNED", assigned.Message);
        await RefusedAsync(await PatchAsync(leadClient, board, task, new { comment = "hi" }, agentRoute: true), HttpStatusCode.Forbidden, "lead_field_forbidden");

        await ReadAsync(await PatchAsync(Owner, board, task, new { status = "inbox" }));
        var (_, inbox) = await Bus.WaitForAsync<AgentNotificationRequested>(n => n.TaskId == task && n.Kind == "task.lead_unassigned_notified");
        Assert.Equal(lead, inbox.AgentId);
        Assert.StartsWith("TASK BACK IN INBOX", inbox.Message);
    }

    [Fact]
    public async Task A_lead_creates_tasks_for_its_board_and_may_comment_on_them_and_agents_see_the_org_tags()
    {
        var board = await BoardAsync();
        var lead = await AgentAsync(board, "Lead", lead: true);
        var worker = await AgentAsync(board, "Wendy");
        var tag = await TagAsync("Backend");
        var leadClient = AgentClient(lead, board, AgentRoles.Lead, "Lead");

        await RefusedAsync(await leadClient.PostAsJsonAsync($"/api/v1/agent/boards/{board}/tasks", new { title = "Self", assigned_agent_id = lead }),
            HttpStatusCode.Forbidden, "lead_cannot_assign_lead");
        var created = await ReadAsync(await leadClient.PostAsJsonAsync($"/api/v1/agent/boards/{board}/tasks",
            new { title = "Split the API", assigned_agent_id = worker, tag_ids = new[] { tag } }), HttpStatusCode.Created);
        Assert.Equal(JsonValueKind.Null, created.GetProperty("created_by_user_id").ValueKind);
        var (_, evt) = await Bus.WaitForAsync<TaskCreated>(e => e.Task.Id == Id(created));
        Assert.Equal(lead, evt.Activity.AgentId);
        var (_, assigned) = await Bus.WaitForAsync<AgentNotificationRequested>(n => n.TaskId == Id(created) && n.Kind == "task.assignee_notified");
        Assert.Equal(worker, assigned.AgentId);
        await Task.Delay(200);
        Assert.Empty(Bus.Received<AgentNotificationRequested>(n => n.TaskId == Id(created) && n.Kind == "task.lead_notified"));
        Assert.Equal("lead_agent:" + lead, await QueryAsync(db => db.Tasks.Where(t => t.Id == Id(created)).Select(t => t.AutoReason).SingleAsync()));

        // The lead created it, so it may comment although the task is not in review.
        await ReadAsync(await leadClient.PostAsJsonAsync($"/api/v1/agent/boards/{board}/tasks/{Id(created)}/comments", new { message = "Start with the routes." }),
            HttpStatusCode.Created);
        var tags = await ReadAsync(await AgentClient(worker, board).GetAsync($"/api/v1/agent/boards/{board}/tags"));
        var only = Assert.Single(tags.EnumerateArray());
        Assert.Equal("backend", only.GetProperty("slug").GetString());
    }

    [Fact]
    public async Task Agents_are_confined_to_their_own_board_and_organization()
    {
        var board = await BoardAsync();
        var otherBoard = await BoardAsync();
        var foreignBoard = await BoardAsync(org: Guid.NewGuid());
        var worker = await AgentAsync(board, "Wendy");
        var client = AgentClient(worker, board);
        var theirs = Id(await CreateTaskAsync(otherBoard, new { title = "Not yours" }));

        await RefusedAsync(await PatchAsync(client, otherBoard, theirs, new { status = "in_progress" }, agentRoute: true), HttpStatusCode.Forbidden, "task_board_mismatch");
        await RefusedAsync(await client.GetAsync($"/api/v1/agent/boards/{otherBoard}/tasks"), HttpStatusCode.Forbidden, "task_board_mismatch");
        await RefusedAsync(await client.GetAsync($"/api/v1/boards/{otherBoard}/tasks"), HttpStatusCode.Forbidden, "task_board_mismatch");
        await RefusedAsync(await client.GetAsync($"/api/v1/agent/boards/{foreignBoard}/tasks"), HttpStatusCode.NotFound);
        // The task exists, but not on the board the agent names.
        await RefusedAsync(await PatchAsync(client, board, theirs, new { status = "in_progress" }, agentRoute: true), HttpStatusCode.NotFound);
        await RefusedAsync(await client.PostAsJsonAsync($"/api/v1/agent/boards/{board}/tasks", new { title = "Worker task" }), HttpStatusCode.Forbidden, "lead_only");
        await RefusedAsync(await Owner.GetAsync($"/api/v1/agent/boards/{board}/tasks"), HttpStatusCode.Forbidden, "agent_only");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/v1/agent/boards/{board}/tasks")).StatusCode);
    }

    [Fact]
    public async Task Deleting_a_task_removes_what_hangs_off_it_and_updates_dependents()
    {
        var board = await BoardAsync();
        var lead = await AgentAsync(board, "Lead", lead: true);
        var worker = await AgentAsync(board, "Worker");
        var doomed = Id(await CreateTaskAsync(board, new { title = "Doomed", status = "review" }));
        var dependent = Id(await CreateTaskAsync(board, new { title = "Waits" , depends_on_task_ids = new[] { doomed } }));
        await ReadAsync(await Owner.PostAsJsonAsync($"/api/v1/boards/{board}/tasks/{doomed}/comments", new { message = "a comment" }), HttpStatusCode.Created);

        await RefusedAsync(await AgentClient(worker, board).DeleteAsync($"/api/v1/agent/boards/{board}/tasks/{doomed}"), HttpStatusCode.Forbidden, "lead_only");
        Assert.Equal(HttpStatusCode.OK, (await AgentClient(lead, board, AgentRoles.Lead).DeleteAsync($"/api/v1/agent/boards/{board}/tasks/{doomed}")).StatusCode);

        var (_, deleted) = await Bus.WaitForAsync<TaskDeleted>(e => e.Task.Id == doomed);
        Assert.Equal("task.deleted", deleted.Activity.EventType);
        Assert.Equal(lead, deleted.Activity.AgentId);
        var (_, freed) = await Bus.WaitForAsync<TaskUpdated>(e => e.Task.Id == dependent && e.Activity.Message == "Dependency deleted: Doomed.");
        Assert.Empty(freed.Task.DependsOnTaskIds);
        Assert.False(freed.Task.IsBlocked);
        await RefusedAsync(await Owner.GetAsync($"/api/v1/boards/{board}/tasks/{doomed}"), HttpStatusCode.NotFound);
        await RefusedAsync(await Owner.DeleteAsync($"/api/v1/boards/{board}/tasks/{doomed}"), HttpStatusCode.NotFound);
        Assert.Equal(0, await TotalAsync(board, "review"));
        Assert.Equal(0, await QueryAsync(db => db.TaskComments.CountAsync(c => c.TaskId == doomed)));
    }

    [Fact]
    public async Task Tags_and_custom_fields_are_checked_against_the_organization_and_shown_on_reads()
    {
        var board = await BoardAsync();
        var urgent = await TagAsync("Urgent");
        var foreignTag = await TagAsync("Theirs", org: Guid.NewGuid());
        await FieldAsync(board, "estimate", "integer", required: true, defaultValue: 3);
        await FieldAsync(board, "ticket", "text", regex: "^[A-Z]+-[0-9]+$");
        await FieldAsync(board, "reviewed", "boolean");

        var task = await CreateTaskAsync(board, new { title = "Tagged", tag_ids = new[] { urgent }, custom_field_values = new { ticket = "MC-12" } });
        var tag = Assert.Single(task.GetProperty("tags").EnumerateArray());
        Assert.Equal("Urgent", tag.GetProperty("name").GetString());
        Assert.Equal("ff0000", tag.GetProperty("color").GetString());
        Assert.Equal([urgent], task.GetProperty("tag_ids").EnumerateArray().Select(e => e.GetGuid()));
        var values = task.GetProperty("custom_field_values");
        Assert.Equal(3, values.GetProperty("estimate").GetInt32());
        Assert.Equal("MC-12", values.GetProperty("ticket").GetString());
        Assert.Equal(JsonValueKind.Null, values.GetProperty("reviewed").ValueKind);

        await RefusedAsync(await PatchAsync(Owner, board, Id(task), new { tag_ids = new[] { foreignTag } }), HttpStatusCode.UnprocessableEntity, "tag_not_found");
        var invalid = await RefusedAsync(await PatchAsync(Owner, board, Id(task), new { custom_field_values = new { ticket = "nope", reviewed = "yes", bogus = 1 } }),
            HttpStatusCode.UnprocessableEntity, "custom_field_invalid");
        var errors = invalid.GetProperty("errors");
        Assert.True(errors.TryGetProperty("ticket", out _));
        Assert.True(errors.TryGetProperty("reviewed", out _));
        Assert.True(errors.TryGetProperty("bogus", out _));

        var patched = await ReadAsync(await PatchAsync(Owner, board, Id(task), new { tag_ids = Array.Empty<Guid>(), custom_field_values = new { estimate = 8, ticket = (string?)null } }));
        Assert.Empty(patched.GetProperty("tags").EnumerateArray());
        Assert.Equal(8, patched.GetProperty("custom_field_values").GetProperty("estimate").GetInt32());
        Assert.Equal(JsonValueKind.Null, patched.GetProperty("custom_field_values").GetProperty("ticket").ValueKind);
        var (_, evt) = await Bus.WaitForAsync<TaskUpdated>(e => e.Task.Id == Id(task) && e.ChangedFields.Contains("custom_field_values"));
        Assert.Equal(8, evt.Task.CustomFieldValues["estimate"].GetInt32());
        Assert.Contains("tag_ids", evt.ChangedFields);

        var listed = (await Owner.GetFromJsonAsync<JsonElement>($"/api/v1/boards/{board}/tasks")).GetProperty("items")[0];
        Assert.Equal(8, listed.GetProperty("custom_field_values").GetProperty("estimate").GetInt32());

        // orgs counts tags from TaskTagsChanged, sent only when a task's tags change.
        Assert.Equal([urgent], (await Bus.WaitForAsync<TaskTagsChanged>(e => e.TaskId == Id(task) && e.TagIds.Count == 1)).Message.TagIds);
        await Bus.WaitForAsync<TaskTagsChanged>(e => e.TaskId == Id(task) && e.TagIds.Count == 0);
        var untagged = Id(await CreateTaskAsync(board, new { title = "No tags" }));
        await PatchAsync(Owner, board, untagged, new { title = "Still no tags" });
        await Bus.WaitForAsync<TaskUpdated>(e => e.Task.Id == untagged);
        var tagged = Id(await CreateTaskAsync(board, new { title = "Tagged, then deleted", tag_ids = new[] { urgent } }));
        Assert.True((await Owner.DeleteAsync($"/api/v1/boards/{board}/tasks/{tagged}")).IsSuccessStatusCode);
        await Bus.WaitForAsync<TaskDeleted>(e => e.Task.Id == tagged);
        // TaskTagsChanged travels on its own queue: wait for the delete's (no tags) before counting.
        await Bus.WaitForAsync<TaskTagsChanged>(e => e.TaskId == tagged && e.TagIds.Count == 0);
        Assert.Equal(2, Bus.Received<TaskTagsChanged>(e => e.TaskId == tagged).Count);
        Assert.Empty(Bus.Received<TaskTagsChanged>(e => e.TaskId == untagged));
    }
}

[Collection(InfrastructureCollection.Collection)]
public sealed class TaskLifecycleApiOnSqliteTests(BrokerFixture broker) : TaskLifecycleApiTests(broker)
{
    protected override string DatabaseConnectionString() =>
        $"Data Source={Path.Combine(Path.GetTempPath(), $"mc-tasks-test-{Guid.NewGuid():N}.db")}";
}

[Collection(InfrastructureCollection.Collection)]
public sealed class TaskLifecycleApiOnPostgresTests(BrokerFixture broker, PostgresFixture postgres) : TaskLifecycleApiTests(broker)
{
    protected override string DatabaseConnectionString() => postgres.ConnectionStringForNewDatabase("tasks");
}
