using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MissionControl.Contracts.Tasks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MissionControl.Contracts.Orgs;
using MissionControl.InternalAuth;
using MissionControl.Metrics.Activity;
using MissionControl.Metrics.Data;
using MissionControl.Metrics.EventLog;

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
    /// <summary>The log's events of <paramref name="principal"/>'s activity page, counted the old way (every row).</summary>
    private async Task<int> CountedInTheLogAsync(McPrincipal principal, Guid? board = null, string? type = null, bool comments = false)
    {
        using var scope = Metrics.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<MetricsDbContext>();
        var events = db.Events.VisibleTo(principal).Where(e => comments ? e.Type == "task.comment" : e.Message != null);
        if (board is not null) events = events.Where(e => e.BoardId == board);
        if (type is not null) events = events.Where(e => e.Type == type);
        return await events.CountAsync();
    }

    [Fact]
    public async Task Page_totals_are_the_logs_counts_for_every_caller_and_filter_kept_through_retention_and_backfilled()
    {
        var (board, other, agent) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var task = Guid.NewGuid();
        var now = DateTimeOffset.UtcNow;
        await PublishAndWaitLoggedAsync(TaskCreatedEvent(board, task, now));
        await PublishAndWaitLoggedAsync(TaskCreatedEvent(board, Guid.NewGuid(), now));
        await PublishAndWaitLoggedAsync(StatusChangedEvent(board, task, "inbox", "in_progress", now, agent: agent));
        await PublishAndWaitLoggedAsync(TaskCreatedEvent(other, Guid.NewGuid(), now));
        await PublishAndWaitLoggedAsync(Comment(board, task, "on the board", now, agent));
        await PublishAndWaitLoggedAsync(Comment(other, Guid.NewGuid(), "elsewhere", now));
        // Without a board: organization-wide (with a message) and for admins (without one).
        await PublishAndWaitLoggedAsync(new OrganizationCreated { OrganizationId = Org, Name = "Acme", CreatedByUserId = OwnerId, OccurredAt = now });
        await PublishAndWaitLoggedAsync(new MissionControl.Contracts.Orgs.MemberChanged { OrganizationId = Org, UserId = OwnerId, Change = "role", OccurredAt = now });

        var callers = new (string Name, McPrincipal Principal)[]
        {
            ("owner", TestTokens.Owner(Org, OwnerId)),
            ("member of the board", TestTokens.Member(Org, new BoardGrant(board, true, false))),
            ("member of no board", TestTokens.Member(Org)),
            ("member who reads every board", TestTokens.Member(Org) with { AllBoardsRead = true }),
            ("agent of the board", new McPrincipal { Kind = PrincipalKind.Agent, Subject = agent.ToString(), OrganizationId = Org, Role = AgentRoles.Worker, Name = "Agent", AgentBoardId = board }),
            ("someone of another organization", TestTokens.Owner(Guid.NewGuid())),
        };
        async Task AssertTotalsAsync(string when)
        {
            foreach (var (name, principal) in callers)
            {
                var client = Metrics.ClientFor(principal);
                foreach (var (query, board_, type) in new (string, Guid?, string?)[]
                         { ("", null, null), ($"?board_id={board}", board, null), ("?event_type=task.created", null, "task.created") })
                {
                    var page = await client.GetFromJsonAsync<JsonElement>($"/api/v1/activity{query}");
                    Assert.True(await CountedInTheLogAsync(principal, board_, type) == page.GetProperty("total").GetInt32(), $"{name}, {when}: /api/v1/activity{query}");
                }
                if (principal.Kind != PrincipalKind.User) continue;
                var comments = await client.GetFromJsonAsync<JsonElement>("/api/v1/activity/task-comments");
                Assert.True(await CountedInTheLogAsync(principal, comments: true) == comments.GetProperty("total").GetInt32(), $"{name}, {when}: task-comments");
            }
        }

        await AssertTotalsAsync("as logged");
        Assert.Equal(6, (await Owner.GetFromJsonAsync<JsonElement>("/api/v1/activity")).GetProperty("total").GetInt32());

        // The migration's backfill gives the same counts from the log.
        using (var scope = Metrics.Services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<MetricsDbContext>();
            await db.ActivityCounts.ExecuteDeleteAsync();
            await db.Database.ExecuteSqlRawAsync(db.Database.IsNpgsql() ? ActivityCount.BackfillPostgres : ActivityCount.BackfillSqlite);
        }
        await AssertTotalsAsync("backfilled");

        // Retention takes what it deletes out of the counts.
        Assert.True(await Service<EventLogRetention>().SweepAsync(retentionDays: 0, CancellationToken.None) >= 8);
        Assert.Equal(0, (await Owner.GetFromJsonAsync<JsonElement>("/api/v1/activity")).GetProperty("total").GetInt32());
        await PublishAndWaitLoggedAsync(TaskCreatedEvent(board, Guid.NewGuid(), now));
        await AssertTotalsAsync("after retention");
        Assert.Equal(1, (await Owner.GetFromJsonAsync<JsonElement>("/api/v1/activity")).GetProperty("total").GetInt32());
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
