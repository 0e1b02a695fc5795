using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Agents;
using MissionControl.Contracts.Orgs;
using MissionControl.Contracts.Tasks;

namespace MissionControl.Tasks.Tests;

/// <summary>The event-fed copies and what their owners' deletions do to the work.</summary>
public abstract class CopiesTests(BrokerFixture broker) : TasksServiceTest(broker)
{
    [Fact]
    public async Task A_board_update_changes_the_rules_the_next_request_enforces()
    {
        var board = await BoardAsync();
        var task = Id(await CreateTaskAsync(board, new { title = "Ship" }));
        var created = BoardCreatedEvent(Org, board, "Renamed", new BoardRules { RequireApprovalForDone = true });
        await Bus.PublishAsync(new BoardUpdated
        {
            OrganizationId = Org, BoardId = board, OccurredAt = DateTimeOffset.UtcNow, ChangedFields = ["name", "require_approval_for_done"],
            Board = created.Board with { UpdatedAt = DateTimeOffset.UtcNow.AddSeconds(1) },
        });
        await WaitUntilAsync(db => db.Boards.AnyAsync(b => b.Id == board && b.Name == "Renamed"));

        await RefusedAsync(await PatchAsync(Owner, board, task, new { status = "done" }), HttpStatusCode.Conflict, "approval_required");

        // An older event arriving late changes nothing.
        await Bus.PublishAsync(new BoardUpdated
        {
            OrganizationId = Org, BoardId = board, OccurredAt = DateTimeOffset.UtcNow,
            Board = created.Board with { Name = "Stale", UpdatedAt = DateTimeOffset.UtcNow.AddHours(-1) },
        });
        var marker = Guid.NewGuid();
        await Bus.PublishAsync(new BoardUpdated
        {
            OrganizationId = Org, BoardId = marker, OccurredAt = DateTimeOffset.UtcNow, Board = BoardCreatedEvent(Org, marker, "Marker").Board,
        });
        await WaitUntilAsync(db => db.Boards.AnyAsync(b => b.Id == marker));
        await Task.Delay(300);
        Assert.Equal("Renamed", await QueryAsync(db => db.Boards.Where(b => b.Id == board).Select(b => b.Name).SingleAsync()));
    }

    [Fact]
    public async Task Deleting_a_board_deletes_all_the_work_on_it()
    {
        var board = await BoardAsync();
        var kept = await BoardAsync();
        var first = Id(await CreateTaskAsync(board, new { title = "One" }));
        await CreateTaskAsync(board, new { title = "Two", depends_on_task_ids = new[] { first } });
        var keptTask = Id(await CreateTaskAsync(kept, new { title = "Elsewhere" }));
        await ReadAsync(await Owner.PostAsJsonAsync($"/api/v1/boards/{board}/tasks/{first}/comments", new { message = "note" }), HttpStatusCode.Created);

        await Bus.PublishAsync(new BoardDeleted { OrganizationId = Org, BoardId = board, OccurredAt = DateTimeOffset.UtcNow });
        await WaitUntilAsync(db => db.Boards.AllAsync(b => b.Id != board));

        Assert.Equal(0, await QueryAsync(db => db.Tasks.CountAsync(t => t.BoardId == board)));
        Assert.Equal(0, await QueryAsync(db => db.TaskDependencies.CountAsync(d => d.BoardId == board)));
        Assert.Equal(0, await QueryAsync(db => db.TaskComments.CountAsync(c => c.BoardId == board)));
        Assert.Equal(0, await QueryAsync(db => db.TaskCounts.CountAsync(c => c.BoardId == board)));
        await RefusedAsync(await Owner.GetAsync($"/api/v1/boards/{board}/tasks"), HttpStatusCode.NotFound);
        Assert.Equal(keptTask, Id((await Owner.GetFromJsonAsync<JsonElement>($"/api/v1/boards/{kept}/tasks")).GetProperty("items")[0]));
    }

    [Fact]
    public async Task Deleting_an_agent_unassigns_its_tasks_and_sends_its_work_in_progress_back_to_the_inbox()
    {
        var board = await BoardAsync();
        var agent = await AgentAsync(board, "Gone");
        var started = Id(await CreateTaskAsync(board, new { title = "Started", status = "in_progress", assigned_agent_id = agent }));
        var queued = Id(await CreateTaskAsync(board, new { title = "Queued", assigned_agent_id = agent }));
        var (_, assignedNotice) = await Bus.WaitForAsync<AgentNotificationRequested>(n => n.TaskId == queued && n.Kind == "task.assignee_notified");
        Assert.Equal(agent, assignedNotice.AgentId);

        await Bus.PublishAsync(new AgentDeleted { OrganizationId = Org, AgentId = agent, BoardId = board, OccurredAt = DateTimeOffset.UtcNow });

        var (_, returned) = await Bus.WaitForAsync<TaskUpdated>(e => e.Task.Id == started);
        Assert.Equal("inbox", returned.Task.Status);
        Assert.Null(returned.Task.AssignedAgentId);
        Assert.Null(returned.Task.InProgressAt);
        Assert.Equal("task.status_changed", returned.Activity.EventType);
        var (_, unassigned) = await Bus.WaitForAsync<TaskUpdated>(e => e.Task.Id == queued);
        Assert.Equal("inbox", unassigned.Task.Status);
        Assert.Null(unassigned.Task.AssignedAgentId);
        Assert.Equal("task.updated", unassigned.Activity.EventType);
        Assert.Equal(2, (await Owner.GetFromJsonAsync<JsonElement>($"/api/v1/boards/{board}/tasks?status=inbox")).GetProperty("total").GetInt32());
        await RefusedAsync(await PatchAsync(Owner, board, queued, new { assigned_agent_id = agent }), HttpStatusCode.NotFound, "agent_not_found");
    }

    [Fact]
    public async Task An_agents_reply_from_its_gateway_session_becomes_its_comment_on_the_task()
    {
        var board = await BoardAsync();
        var other = await BoardAsync();
        var agent = await AgentAsync(board, "Ada");
        var stranger = await AgentAsync(other, "Stranger");
        var task = Id(await CreateTaskAsync(board, new { title = "Answer me", assigned_agent_id = agent }));
        AgentMessageReceived Reply(Guid? agentId, string state, string text) => new()
        {
            OrganizationId = Org, GatewayId = Guid.NewGuid(), AgentId = agentId, BoardId = board, TaskId = task, SessionKey = $"agent:mc-{agentId}:main",
            RunId = Guid.NewGuid().ToString(), State = state, Text = text, OccurredAt = DateTimeOffset.UtcNow,
        };

        // Not a finished turn, or not the board's agent: nothing is written.
        await Bus.PublishAsync(Reply(agent, "error", "boom"));
        await Bus.PublishAsync(Reply(stranger, "final", "I am not on this board"));
        var reply = Reply(agent, "final", "Done: the plan is in the doc.");
        var messageId = Guid.NewGuid();
        await Bus.PublishAsync(reply, messageId);
        await Bus.PublishAsync(reply, messageId); // a redelivery adds nothing

        var (_, added) = await Bus.WaitForAsync<TaskCommentAdded>(e => e.Comment.TaskId == task);
        Assert.Equal(agent, added.Comment.AgentId);
        Assert.Equal("Ada", added.Comment.AuthorName);
        Assert.Equal("Done: the plan is in the doc.", added.Comment.Message);
        var comments = await Owner.GetFromJsonAsync<JsonElement>($"/api/v1/boards/{board}/tasks/{task}/comments");
        var items = comments.GetProperty("items").EnumerateArray().ToList();
        Assert.DoesNotContain(items, c => c.GetProperty("message").GetString() is "boom" or "I am not on this board");
        await Task.Delay(300);
        Assert.Equal(1, await QueryAsync(db => db.TaskComments.CountAsync(c => c.TaskId == task && c.AgentId == agent)));
    }

    [Fact]
    public async Task Deleting_a_tag_or_a_custom_field_takes_it_off_the_tasks()
    {
        var board = await BoardAsync();
        var tag = await TagAsync("Temp");
        var field = await FieldAsync(board, "size", "integer");
        var task = Id(await CreateTaskAsync(board, new { title = "T", tag_ids = new[] { tag }, custom_field_values = new { size = 3 } }));

        await Bus.PublishAsync(new TagDeleted { OrganizationId = Org, TagId = tag, OccurredAt = DateTimeOffset.UtcNow });
        await Bus.PublishAsync(new CustomFieldDefinitionDeleted { OrganizationId = Org, DefinitionId = field, FieldKey = "size", OccurredAt = DateTimeOffset.UtcNow });
        await WaitUntilAsync(async db => !await db.Tags.AnyAsync(t => t.Id == tag) && !await db.CustomFieldDefinitions.AnyAsync(d => d.Id == field));

        var read = await ReadAsync(await Owner.GetAsync($"/api/v1/boards/{board}/tasks/{task}"));
        Assert.Empty(read.GetProperty("tags").EnumerateArray());
        Assert.False(read.GetProperty("custom_field_values").TryGetProperty("size", out _));
        await RefusedAsync(await PatchAsync(Owner, board, task, new { custom_field_values = new { size = 4 } }), HttpStatusCode.UnprocessableEntity, "custom_field_invalid");
    }

    [Fact]
    public async Task Deleting_an_organization_drops_its_rows_and_only_its_rows()
    {
        var board = await BoardAsync();
        var otherOrg = Guid.NewGuid();
        var otherBoard = await BoardAsync(org: otherOrg);
        await AgentAsync(board, "Agent");
        await TagAsync("Mine");
        await CreateTaskAsync(board, new { title = "Mine" });
        await CreateTaskAsync(otherBoard, new { title = "Theirs" }, Tasks.ClientFor(TestTokens.Owner(otherOrg)));

        await Bus.PublishAsync(new OrganizationDeleted { OrganizationId = Org, OccurredAt = DateTimeOffset.UtcNow });
        await WaitUntilAsync(db => db.Boards.AllAsync(b => b.OrganizationId != Org));

        Assert.Equal(0, await QueryAsync(db => db.Tasks.CountAsync(t => t.OrganizationId == Org)));
        Assert.Equal(0, await QueryAsync(db => db.Agents.CountAsync(a => a.OrganizationId == Org)));
        Assert.Equal(0, await QueryAsync(db => db.Tags.CountAsync(t => t.OrganizationId == Org)));
        Assert.Equal(1, await QueryAsync(db => db.Tasks.CountAsync(t => t.OrganizationId == otherOrg)));
    }

    [Fact]
    public async Task An_agent_update_moves_the_copy_and_an_older_update_is_ignored()
    {
        var board = await BoardAsync();
        var agent = await AgentAsync(board, "Before");
        var now = DateTimeOffset.UtcNow;
        AgentState State(string name, DateTimeOffset at) => new()
        {
            Id = agent, OrganizationId = Org, BoardId = board, Name = name, Status = "online", IsBoardLead = true, CreatedAt = now, UpdatedAt = at,
        };
        await Bus.PublishAsync(new AgentUpdated { OrganizationId = Org, Agent = State("After", now.AddSeconds(5)), OccurredAt = now });
        await WaitUntilAsync(db => db.Agents.AnyAsync(a => a.Id == agent && a.Name == "After" && a.IsBoardLead));
        await Bus.PublishAsync(new AgentUpdated { OrganizationId = Org, Agent = State("Stale", now.AddSeconds(1)), OccurredAt = now });
        var marker = State("Marker", now) with { Id = Guid.NewGuid() };
        await Bus.PublishAsync(new AgentUpdated { OrganizationId = Org, Agent = marker, OccurredAt = now });
        await WaitUntilAsync(db => db.Agents.AnyAsync(a => a.Id == marker.Id));
        await Task.Delay(300);
        Assert.Equal("After", await QueryAsync(db => db.Agents.Where(a => a.Id == agent).Select(a => a.Name).SingleAsync()));
    }
}

[Collection(InfrastructureCollection.Collection)]
public sealed class CopiesOnSqliteTests(BrokerFixture broker) : CopiesTests(broker)
{
    protected override string DatabaseConnectionString() =>
        $"Data Source={Path.Combine(Path.GetTempPath(), $"mc-tasks-test-{Guid.NewGuid():N}.db")}";
}

[Collection(InfrastructureCollection.Collection)]
public sealed class CopiesOnPostgresTests(BrokerFixture broker, PostgresFixture postgres) : CopiesTests(broker)
{
    protected override string DatabaseConnectionString() => postgres.ConnectionStringForNewDatabase("tasks");
}
