using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MissionControl.Contracts.Tasks;
using MissionControl.InternalAuth;

namespace MissionControl.Metrics.Tests;

public abstract class ActivityTests(BrokerFixture broker) : MetricsServiceTest(broker)
{
    private TaskCommentAdded Comment(Guid board, Guid task, string message, DateTimeOffset at, Guid? agent = null) => new()
    {
        OrganizationId = Org, BoardId = board, OccurredAt = at, TaskTitle = "Write the plan", BoardName = "Launch", AuthorRole = agent is null ? null : "worker",
        Comment = new TaskCommentState
        {
            Id = Guid.NewGuid(), TaskId = task, Message = message, AgentId = agent, UserId = agent is null ? OwnerId : null,
            AuthorName = agent is null ? "Olivia" : "Builder", CreatedAt = at,
        },
        Activity = Activity("task.comment", task, at, message, agent, agent is null ? OwnerId : null),
    };

    [Fact]
    public async Task The_feed_lists_activities_newest_first_with_deep_links_and_only_what_the_caller_may_see()
    {
        var board = Guid.NewGuid();
        var hidden = Guid.NewGuid();
        var task = Guid.NewGuid();
        var agent = Guid.NewGuid();
        var now = DateTimeOffset.UtcNow;
        await PublishAndWaitLoggedAsync(TaskCreatedEvent(board, task, now, "Write the plan"));
        await PublishAndWaitLoggedAsync(StatusChangedEvent(board, task, "inbox", "in_progress", now.AddSeconds(1), "Write the plan", agent: agent));
        var comment = Comment(board, task, "Started on it", now.AddSeconds(2), agent);
        await PublishAndWaitLoggedAsync(comment);
        await PublishAndWaitLoggedAsync(new BoardMemoryAdded
        {
            OrganizationId = Org, BoardId = board, OccurredAt = now.AddSeconds(3),
            Memory = new MemoryState { Id = Guid.NewGuid(), BoardId = board, Content = "hello", IsChat = true, Tags = ["chat"], CreatedAt = now.AddSeconds(3) },
            Activity = Activity("board.chat", null, now.AddSeconds(3), "hello", user: OwnerId),
        });
        await PublishAndWaitLoggedAsync(new ApprovalChanged
        {
            OrganizationId = Org, BoardId = board, OccurredAt = now.AddSeconds(4), PendingApprovalsCount = 1,
            Approval = new ApprovalState { Id = Guid.NewGuid(), BoardId = board, TaskId = task, ActionType = "deploy", Confidence = 0.9, Status = "pending", CreatedAt = now },
            Activity = Activity("approval.created", task, now.AddSeconds(4), "Approval requested: deploy.", agent),
        });
        await PublishAndWaitLoggedAsync(TaskCreatedEvent(hidden, Guid.NewGuid(), now.AddSeconds(5), "Secret"));

        var feed = await Member(new BoardGrant(board, true, false)).GetFromJsonAsync<JsonElement>("/api/v1/activity");
        var items = feed.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(5, feed.GetProperty("total").GetInt32());
        Assert.Equal(["approval.created", "board.chat", "task.comment", "task.status_changed", "task.created"],
            items.Select(i => i.GetProperty("event_type").GetString()));
        Assert.Equal("board.approvals", items[0].GetProperty("route_name").GetString());
        Assert.Equal("chat", items[1].GetProperty("route_params").GetProperty("panel").GetString());
        Assert.Equal(comment.Comment.Id.ToString(), items[2].GetProperty("route_params").GetProperty("commentId").GetString());
        Assert.Equal(task.ToString(), items[3].GetProperty("route_params").GetProperty("taskId").GetString());
        Assert.Equal("Task moved to in_progress: Write the plan.", items[3].GetProperty("message").GetString());

        var owner = await Owner.GetFromJsonAsync<JsonElement>("/api/v1/activity?limit=2&offset=0");
        Assert.Equal(6, owner.GetProperty("total").GetInt32());
        Assert.Equal(2, owner.GetProperty("items").GetArrayLength());

        // An agent sees its own board's activity, and nothing of another board.
        var onBoard = await AgentClient(agent, board).GetFromJsonAsync<JsonElement>("/api/v1/activity");
        Assert.Equal(["approval.created", "board.chat", "task.comment", "task.status_changed", "task.created"],
            onBoard.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("event_type").GetString()));
        var elsewhere = await AgentClient(Guid.NewGuid(), hidden).GetFromJsonAsync<JsonElement>("/api/v1/activity");
        Assert.Equal(["task.created"], elsewhere.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("event_type").GetString()));
    }

    [Fact]
    public async Task Task_comments_come_as_feed_items_with_task_board_and_author()
    {
        var board = Guid.NewGuid();
        var other = Guid.NewGuid();
        var task = Guid.NewGuid();
        var agent = Guid.NewGuid();
        var now = DateTimeOffset.UtcNow;
        await PublishAndWaitLoggedAsync(Comment(board, task, "first", now));
        await PublishAndWaitLoggedAsync(Comment(board, task, "second", now.AddSeconds(1), agent));
        await PublishAndWaitLoggedAsync(Comment(other, Guid.NewGuid(), "elsewhere", now.AddSeconds(2)));

        var feed = await Owner.GetFromJsonAsync<JsonElement>($"/api/v1/activity/task-comments?board_id={board}");
        var items = feed.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(["second", "first"], items.Select(i => i.GetProperty("message").GetString()));
        Assert.Equal("Builder", items[0].GetProperty("agent_name").GetString());
        Assert.Equal("worker", items[0].GetProperty("agent_role").GetString());
        Assert.Equal(agent, items[0].GetProperty("agent_id").GetGuid());
        Assert.Equal("Write the plan", items[0].GetProperty("task_title").GetString());
        Assert.Equal("Launch", items[0].GetProperty("board_name").GetString());
        Assert.Equal(JsonValueKind.Null, items[1].GetProperty("agent_id").ValueKind);
        Assert.Equal("Olivia", items[1].GetProperty("author_name").GetString());

        var member = Member(new BoardGrant(board, true, false));
        Assert.Equal(2, (await member.GetFromJsonAsync<JsonElement>("/api/v1/activity/task-comments")).GetProperty("total").GetInt32());
        Assert.Equal(HttpStatusCode.Forbidden, (await member.GetAsync($"/api/v1/activity/task-comments?board_id={other}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await AgentClient(agent, board).GetAsync("/api/v1/activity/task-comments")).StatusCode);
    }
}

[Collection(InfrastructureCollection.Collection)]
public sealed class ActivityOnSqliteTests(BrokerFixture broker) : ActivityTests(broker)
{
    protected override string DatabaseConnectionString() => OnSqlite.NewDatabase();
}

[Collection(InfrastructureCollection.Collection)]
public sealed class ActivityOnPostgresTests(BrokerFixture broker, PostgresFixture postgres) : ActivityTests(broker)
{
    protected override string DatabaseConnectionString() => postgres.ConnectionStringForNewDatabase("metrics");
}
