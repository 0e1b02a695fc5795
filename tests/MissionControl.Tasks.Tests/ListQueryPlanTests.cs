using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace MissionControl.Tasks.Tests;

/// <summary>
/// The lists that grow with an organization seek an index instead of reading a table whole: SQLite's
/// plans of the queries each list runs (a test database is too small for a scan to be slow). On a
/// 4.5 million task database, each of these was a scan of every task or approval of every organization.
/// </summary>
[Collection(InfrastructureCollection.Collection)]
public sealed class ListQueryPlanTests(BrokerFixture broker) : TasksServiceTest(broker)
{
    private readonly SqliteQueryPlans _plans = new(sql =>
        sql.Contains("FROM \"tasks\"", StringComparison.Ordinal) || sql.Contains("FROM \"approvals\"", StringComparison.Ordinal) ||
        sql.Contains("FROM \"board_memory\"", StringComparison.Ordinal));

    protected override string DatabaseConnectionString() =>
        $"Data Source={Path.Combine(Path.GetTempPath(), $"mc-tasks-test-{Guid.NewGuid():N}.db")}";

    protected override void ConfigureServices(IServiceCollection services) => services.AddSingleton<IInterceptor>(_plans);

    [Fact]
    public async Task A_list_of_several_statuses_seeks_each_status_and_pages_them_newest_first()
    {
        var board = await BoardAsync();
        foreach (var (title, status) in new[] { ("a", "inbox"), ("b", "done"), ("c", "review"), ("d", "inbox"), ("e", "done"), ("f", "review") })
            Assert.Equal(HttpStatusCode.Created, (await Owner.PostAsJsonAsync($"/api/v1/boards/{board}/tasks", new { title, status })).StatusCode);

        var before = _plans.Recorded.Count;
        var page = await Owner.GetFromJsonAsync<JsonElement>($"/api/v1/boards/{board}/tasks?status=inbox,review&limit=2&offset=1");
        Assert.Equal(["d", "c"], page.GetProperty("items").EnumerateArray().Select(t => t.GetProperty("title").GetString()));
        Assert.Equal(4, page.GetProperty("total").GetInt32());

        // One seek per status; before, one query with IN walked the board's created_at index, done tasks too.
        var plans = _plans.Recorded.Skip(before).Where(r => r.Sql.Contains("\"status\" = @", StringComparison.Ordinal)).Select(r => r.Plan).ToList();
        Assert.Equal(2, plans.Count);
        Assert.All(plans, plan => Assert.Equal(
            "SEARCH t USING INDEX ix_tasks_board_id_status_created_at (board_id=? AND status=?)", Assert.Single(plan)));

        // Past the end, however far: an empty page (offset + limit must not overflow).
        var beyond = await Owner.GetFromJsonAsync<JsonElement>($"/api/v1/boards/{board}/tasks?status=inbox,review&limit=200&offset={int.MaxValue}");
        Assert.Empty(beyond.GetProperty("items").EnumerateArray());
        Assert.Equal(4, beyond.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Organization_wide_task_lists_the_overview_and_pending_approvals_read_no_table_whole()
    {
        var board = await BoardAsync();
        var other = await BoardAsync(name: "Other");
        await CreateTaskAsync(board, new { title = "first" });
        await CreateTaskAsync(other, new { title = "second", status = "review" });
        var task = Id(await CreateTaskAsync(board, new { title = "third" }));
        await ReadAsync(await Owner.PostAsJsonAsync($"/api/v1/boards/{board}/approvals", new
        {
            action_type = "deploy", task_id = task, confidence = 80, payload = new { reason = "ship it" },
        }), HttpStatusCode.Created);

        var before = _plans.Recorded.Count;
        var seed = await ReadAsync(await Owner.GetAsync("/api/tasks?limit=2"));
        var mission = await ReadAsync(await Owner.GetAsync("/api/mission-control/tasks"));
        var overview = await ReadAsync(await Owner.GetAsync("/api/mission-control/overview"));
        var pending = await ReadAsync(await Owner.GetAsync("/api/mission-control/approvals"));

        Assert.Equal(3, mission.GetArrayLength());
        Assert.Equal(2, overview.GetProperty("tasks").GetProperty("pending").GetInt32());
        Assert.Equal(1, overview.GetProperty("tasks").GetProperty("review").GetInt32());
        Assert.Single(pending.EnumerateArray());
        Assert.Contains("third", seed.GetRawText());

        var plans = _plans.Recorded.Skip(before).ToList();
        Assert.NotEmpty(plans);
        Assert.All(plans, r => Assert.False(SqliteQueryPlans.ReadsEverything(r.Plan), $"{string.Join(" | ", r.Plan)}\n{r.Sql}"));
        Assert.Contains(plans, r => r.Plan.Any(step => step.Contains("ix_tasks_organization_id_created_at_id", StringComparison.Ordinal)));
        Assert.Contains(plans, r => r.Plan.Any(step => step.Contains("ix_approvals_organization_id_status_created_at", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_memory_list_counts_its_total_from_an_index_without_reading_the_entries()
    {
        var board = await BoardAsync();
        foreach (var (content, tags) in new[] { ("  a note  ", new[] { "ops" }), ("hello", new[] { "chat" }), ("again", new[] { "chat" }) })
            await ReadAsync(await Owner.PostAsJsonAsync($"/api/v1/boards/{board}/memory", new { content, tags }), HttpStatusCode.Created);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await Owner.PostAsJsonAsync($"/api/v1/boards/{board}/memory", new { content = " \n " })).StatusCode);

        var before = _plans.Recorded.Count;
        var all = await Owner.GetFromJsonAsync<JsonElement>($"/api/v1/boards/{board}/memory?limit=1");
        var chat = await Owner.GetFromJsonAsync<JsonElement>($"/api/v1/boards/{board}/memory?is_chat=true");
        var notes = await Owner.GetFromJsonAsync<JsonElement>($"/api/v1/boards/{board}/memory?is_chat=false");
        Assert.Equal(3, all.GetProperty("total").GetInt32());
        Assert.Equal(["again", "hello"], chat.GetProperty("items").EnumerateArray().Select(m => m.GetProperty("content").GetString()));
        Assert.Equal(2, chat.GetProperty("total").GetInt32());
        Assert.Equal("a note", Assert.Single(notes.GetProperty("items").EnumerateArray()).GetProperty("content").GetString());

        // The totals: a covering index (before, a filter on trim(content) read every entry of the board, up to 50 KB each).
        var counts = _plans.Recorded.Skip(before).Where(r => r.Sql.Contains("COUNT(*)", StringComparison.Ordinal)).Select(r => Assert.Single(r.Plan)).ToList();
        Assert.Equal(3, counts.Count);
        Assert.All(counts, plan => Assert.StartsWith("SEARCH b USING COVERING INDEX ix_board_memory_board_id_", plan));
        Assert.EndsWith("(board_id=? AND is_chat=?)", counts[1]);
    }
}
