using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using MissionControl.Contracts.Orgs;
using MissionControl.InternalAuth;

namespace MissionControl.Metrics.Tests;

/// <summary>
/// The read models' bulk statements and the dashboard's read of the log seek an index instead of reading
/// a table whole (SQLite's plans; a test database is too small for a scan to be slow). On an 11 GB event
/// log with 4.5 million task states, each of these was a scan or a walk of the whole organization.
/// </summary>
[Collection(InfrastructureCollection.Collection)]
public sealed class ReadModelQueryPlanTests(BrokerFixture broker) : MetricsServiceTest(broker)
{
    private readonly SqliteQueryPlans _plans = new(sql => sql.Contains("task_states", StringComparison.Ordinal)
        || sql.Contains("approval_states", StringComparison.Ordinal) || sql.Contains("webhook_deliver", StringComparison.Ordinal)
        || sql.Contains("FROM \"events\"", StringComparison.Ordinal) || sql.Contains("FROM \"token_usage\"", StringComparison.Ordinal)
        || sql.Contains("FROM \"activity_counts\"", StringComparison.Ordinal) || sql.Contains("FROM \"task_status_history\"", StringComparison.Ordinal));

    protected override string DatabaseConnectionString() => OnSqlite.NewDatabase();

    protected override void ConfigureServices(IServiceCollection services) => services.AddSingleton<IInterceptor>(_plans);

    [Fact]
    public async Task A_boards_deletion_marks_its_task_states_and_drops_its_approvals_through_the_organization_index()
    {
        var board = Guid.NewGuid();
        await PublishAndWaitLoggedAsync(TaskCreatedEvent(board, Guid.NewGuid(), DateTimeOffset.UtcNow));
        await PublishAndWaitLoggedAsync(new BoardDeleted { OrganizationId = Org, BoardId = board, OccurredAt = DateTimeOffset.UtcNow });

        var marked = Assert.Single(_plans.Recorded, r => r.Sql.StartsWith("UPDATE \"task_states\"", StringComparison.Ordinal)).Plan;
        Assert.Equal("SEARCH t USING INDEX ix_task_states_organization_id_board_id_status (organization_id=? AND board_id=?)", Assert.Single(marked));
        var dropped = Assert.Single(_plans.Recorded, r => r.Sql.StartsWith("DELETE FROM \"approval_states\"", StringComparison.Ordinal)).Plan;
        Assert.Equal("SEARCH a USING INDEX ix_approval_states_organization_id_board_id_status (organization_id=? AND board_id=?)", Assert.Single(dropped));
    }

    [Fact]
    public async Task The_dashboard_reads_the_log_from_its_windows_start()
    {
        await PublishAndWaitLoggedAsync(TaskCreatedEvent(Guid.NewGuid(), Guid.NewGuid(), DateTimeOffset.UtcNow));
        var dashboard = await Owner.GetFromJsonAsync<JsonElement>("/api/v1/metrics/dashboard?range_key=24h");
        Assert.Equal(JsonValueKind.Object, dashboard.ValueKind);

        // Before, the organization's index was read from its first event ever, the window checked row by row.
        var window = Assert.Single(_plans.Of("\"occurred_at\" >= @"));
        Assert.Equal("SEARCH e USING INDEX ix_events_organization_id_seq (organization_id=? AND seq>?)", Assert.Single(window));
    }

    [Fact]
    public async Task An_activity_pages_total_is_a_sum_of_its_organizations_counts_not_a_count_of_its_events()
    {
        var board = Guid.NewGuid();
        await PublishAndWaitLoggedAsync(TaskCreatedEvent(board, Guid.NewGuid(), DateTimeOffset.UtcNow));
        var before = _plans.Recorded.Count;
        var page = await Owner.GetFromJsonAsync<JsonElement>("/api/v1/activity?limit=10");
        Assert.Equal(1, page.GetProperty("total").GetInt32());
        var comments = await Member(new BoardGrant(board, true, false)).GetFromJsonAsync<JsonElement>("/api/v1/activity/task-comments");
        Assert.Equal(0, comments.GetProperty("total").GetInt32());

        // Before, each page counted every event of the organization (0.24 s for 192,000, 1.3 s cold).
        var reads = _plans.Recorded.Skip(before).ToList();
        Assert.DoesNotContain(reads, r => r.Sql.Contains("COUNT(*)", StringComparison.Ordinal) && r.Sql.Contains("FROM \"events\"", StringComparison.Ordinal));
        var sums = reads.Where(r => r.Sql.Contains("FROM \"activity_counts\"", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, sums.Count);
        Assert.All(sums, r => Assert.Contains(r.Plan, step => step.Contains("USING PRIMARY KEY (organization_id=?)", StringComparison.Ordinal)
            || step.Contains("sqlite_autoindex_activity_counts_1 (organization_id=?)", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task The_dashboard_reads_the_history_of_its_window_and_counts_the_other_tasks_from_indexes()
    {
        var board = Guid.NewGuid();
        await PublishAndWaitLoggedAsync(TaskCreatedEvent(board, Guid.NewGuid(), DateTimeOffset.UtcNow));
        var before = _plans.Recorded.Count;
        var dashboard = await Owner.GetFromJsonAsync<JsonElement>($"/api/v1/metrics/dashboard?range_key=24h&board_id={board}");
        Assert.Equal(1, dashboard.GetProperty("kpis").GetProperty("inbox_tasks").GetInt32());
        var reads = _plans.Recorded.Skip(before).ToList();

        // Before, every transition of the board up to now (at<?), and each task state's row to skip deleted ones.
        var window = Assert.Single(reads, r => r.Sql.Contains("FROM \"task_status_history\"", StringComparison.Ordinal)
            && r.Sql.Contains("\"organization_id\"", StringComparison.Ordinal)).Plan;
        Assert.Contains(window, step => step.Contains("(organization_id=? AND board_id=? AND at>? AND at<?)", StringComparison.Ordinal));
        var counts = reads.Where(r => r.Sql.Contains("FROM \"task_states\"", StringComparison.Ordinal) && r.Sql.Contains("GROUP BY", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, counts.Count);
        Assert.All(counts, r => Assert.True(r.Plan.Any(step => step.Contains("USING COVERING INDEX", StringComparison.Ordinal)), string.Join(" | ", r.Plan) + "\n" + r.Sql));
        Assert.Contains(counts, r => r.Plan.Any(step => step.Contains("ix_task_states_organization_id_board_id_status_deleted_at", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task An_organizations_deletion_removes_its_webhook_deliveries_without_reading_every_one()
    {
        await PublishAndWaitLoggedAsync(new OrganizationDeleted { OrganizationId = Org, OccurredAt = DateTimeOffset.UtcNow });

        var deletes = _plans.Recorded.Where(r => r.Sql.StartsWith("DELETE FROM \"webhook_deliver", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, deletes.Count);
        Assert.All(deletes, r => Assert.False(SqliteQueryPlans.ReadsEverything(r.Plan), $"{string.Join(" | ", r.Plan)}\n{r.Sql}"));
    }

    [Fact]
    public async Task A_boards_or_an_agents_token_usage_is_one_range_of_an_index_led_by_the_organization()
    {
        var (board, agent) = (Guid.NewGuid(), Guid.NewGuid());
        var posted = await AgentClient(agent, board).PostAsJsonAsync("/api/v1/tokens/usage", new { model = "m", input_tokens = 10, output_tokens = 20 });
        Assert.Equal(System.Net.HttpStatusCode.Created, posted.StatusCode);

        var before = _plans.Recorded.Count;
        var own = await AgentClient(agent, board).GetFromJsonAsync<JsonElement>("/api/v1/tokens/usage");
        Assert.Equal(1, own.GetProperty("total").GetInt32());
        var byAgent = _plans.Recorded.Skip(before).Where(r => r.Sql.Contains("FROM \"token_usage\"", StringComparison.Ordinal)).ToList();
        before = _plans.Recorded.Count;
        var ofBoard = await Owner.GetFromJsonAsync<JsonElement>($"/api/v1/tokens/usage?board_id={board}");
        Assert.Equal(1, ofBoard.GetProperty("total").GetInt32());
        var byBoard = _plans.Recorded.Skip(before).Where(r => r.Sql.Contains("FROM \"token_usage\"", StringComparison.Ordinal)).ToList();

        // Before, both took the organization's (organization, occurred_at) index and checked each row.
        Assert.NotEmpty(byAgent);
        Assert.All(byAgent, r => Assert.Contains(r.Plan, step => step.Contains("ix_token_usage_organization_id_agent_id_occurred_at (organization_id=? AND agent_id=?)", StringComparison.Ordinal)));
        Assert.NotEmpty(byBoard);
        Assert.All(byBoard, r => Assert.Contains(r.Plan, step => step.Contains("ix_token_usage_organization_id_board_id_occurred_at (organization_id=? AND board_id=?)", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task The_retention_of_deleted_tasks_finds_them_by_their_deletion_time_and_removes_them_by_key()
    {
        var (board, task) = (Guid.NewGuid(), Guid.NewGuid());
        var longAgo = DateTimeOffset.UtcNow.AddDays(-1000);
        await PublishAndWaitLoggedAsync(TaskCreatedEvent(board, task, longAgo));
        await PublishAndWaitLoggedAsync(new MissionControl.Contracts.Tasks.TaskDeleted
        {
            OrganizationId = Org, BoardId = board, Task = Snapshot(task, board, "inbox", longAgo), OccurredAt = longAgo.AddDays(1),
            Activity = Activity("task.deleted", task, longAgo.AddDays(1)),
        });
        var before = _plans.Recorded.Count;
        Assert.Equal(1, await Service<MissionControl.Metrics.ReadModels.DeletedTaskRetention>().SweepAsync(CancellationToken.None));
        var sweep = _plans.Recorded.Skip(before).ToList();

        // The deleted tasks only, oldest first: not a scan of every task state.
        var found = sweep.Where(r => r.Sql.StartsWith("SELECT", StringComparison.Ordinal)).Select(r => Assert.Single(r.Plan)).Distinct();
        Assert.Equal("SEARCH t USING INDEX ix_task_states_deleted_at (deleted_at>? AND deleted_at<?)", Assert.Single(found));
        var deletes = sweep.Where(r => r.Sql.StartsWith("DELETE", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, deletes.Count);
        Assert.All(deletes, r => Assert.False(SqliteQueryPlans.ReadsEverything(r.Plan), $"{string.Join(" | ", r.Plan)}\n{r.Sql}"));
    }

    [Fact]
    public async Task A_boards_reads_of_the_log_seek_the_boards_events_not_its_organizations()
    {
        var (board, other) = (Guid.NewGuid(), Guid.NewGuid());
        await PublishAndWaitLoggedAsync(TaskCreatedEvent(other, Guid.NewGuid(), DateTimeOffset.UtcNow));
        await PublishAndWaitLoggedAsync(TaskCreatedEvent(board, Guid.NewGuid(), DateTimeOffset.UtcNow));
        var before = _plans.Recorded.Count;
        var replay = await Edge.GetFromJsonAsync<JsonElement>($"/internal/events?organization_id={Org}&board_id={board}&after=0");
        Assert.Single(replay.GetProperty("items").EnumerateArray());
        var activity = await AgentClient(Guid.NewGuid(), board).GetFromJsonAsync<JsonElement>("/api/v1/activity");
        Assert.Single(activity.GetProperty("items").EnumerateArray());
        var reads = _plans.Recorded.Skip(before).Where(r => r.Sql.Contains("FROM \"events\"", StringComparison.Ordinal)).ToList();

        // Before, both walked the organization's index (every board's events), checking each row's board.
        Assert.Equal(2, reads.Count);
        Assert.All(reads, r => Assert.Contains(r.Plan, step => step.Contains(
            "USING INDEX ix_events_organization_id_board_id_seq (organization_id=? AND board_id=?", StringComparison.Ordinal)));
    }
}
