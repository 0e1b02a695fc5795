using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MissionControl.Contracts.Orgs;
using MissionControl.Contracts.Tasks;
using MissionControl.InternalAuth;
using MissionControl.Tasks.Data;

namespace MissionControl.Tasks.Tests;

/// <summary>The tasks API through HTTP with the real broker; run once per database provider.</summary>
public abstract class TasksApiTests(BrokerFixture broker) : TasksServiceTest(broker)
{
    private async Task<BoardCopy?> FindBoardCopyAsync(Guid board) =>
        await QueryAsync(db => db.Boards.AsNoTracking().FirstOrDefaultAsync(b => b.Id == board));

    [Fact]
    public async Task Creating_a_task_saves_it_and_publishes_TaskCreated_through_the_broker()
    {
        var board = await BoardAsync();

        var response = await Owner.PostAsJsonAsync($"/api/v1/boards/{board}/tasks", new { title = "Write the plan", priority = "high" });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var task = await response.Content.ReadFromJsonAsync<JsonElement>();
        var id = task.GetProperty("id").GetGuid();
        Assert.Equal("Write the plan", task.GetProperty("title").GetString());
        Assert.Equal("inbox", task.GetProperty("status").GetString());
        Assert.Equal("high", task.GetProperty("priority").GetString());
        Assert.EndsWith("Z", task.GetProperty("created_at").GetString());
        Assert.Equal($"/api/v1/boards/{board}/tasks/{id}", response.Headers.Location?.OriginalString);
        var read = await Owner.GetFromJsonAsync<JsonElement>(response.Headers.Location);
        Assert.Equal("Write the plan", read.GetProperty("title").GetString());
        await (await Tasks.ClientFor(TestTokens.Owner(Guid.NewGuid())).GetAsync(response.Headers.Location)).ProblemAsync(HttpStatusCode.NotFound);
        var (messageId, published) = await Bus.WaitForAsync<TaskCreated>(e => e.Task.Id == id);
        Assert.Equal(board, published.BoardId);
        Assert.Equal(Org, published.OrganizationId);
        Assert.NotNull(messageId);
    }

    [Fact]
    public async Task Concurrent_creates_are_each_committed_counted_and_published_once()
    {
        var board = await BoardAsync();
        var client = Owner;

        var responses = await Task.WhenAll(Enumerable.Range(0, 60).Select(i =>
            client.PostAsJsonAsync($"/api/v1/boards/{board}/tasks", new { title = $"parallel {i}", status = i % 3 == 0 ? "done" : "inbox" })));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        var ids = new HashSet<Guid>();
        foreach (var r in responses) ids.Add((await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid());
        Assert.Equal(60, ids.Count);
        Assert.Equal(60, (await client.GetFromJsonAsync<JsonElement>($"/api/v1/boards/{board}/tasks")).GetProperty("total").GetInt32());
        Assert.Equal(20, (await client.GetFromJsonAsync<JsonElement>($"/api/v1/boards/{board}/tasks?status=done")).GetProperty("total").GetInt32());
        foreach (var id in ids) await Bus.WaitForAsync<TaskCreated>(e => e.Task.Id == id);
        await Task.Delay(500);
        Assert.Equal(60, Bus.Received<TaskCreated>(e => e.BoardId == board).Count);
    }

    [Fact]
    public async Task Calls_without_a_valid_internal_token_are_refused()
    {
        var board = await BoardAsync();
        var anonymous = Tasks.CreateClient();
        var forged = Tasks.CreateClient();
        forged.DefaultRequestHeaders.Authorization = new("Bearer", new InternalTokenSigner(InternalKeys.Generate().SigningKey).Sign(TestTokens.Owner(Org)));

        await (await anonymous.GetAsync($"/api/v1/boards/{board}/tasks")).ProblemAsync(HttpStatusCode.Unauthorized);
        await (await forged.PostAsJsonAsync($"/api/v1/boards/{board}/tasks", new { title = "x" })).ProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/alive")).StatusCode);
    }

    [Fact]
    public async Task Bad_input_is_answered_with_problem_details_never_500()
    {
        var board = await BoardAsync();
        var url = $"/api/v1/boards/{board}/tasks";

        await (await Owner.PostAsync(url, Json("{\"title\":"))).ProblemAsync(HttpStatusCode.BadRequest);
        await (await Owner.PostAsync(url, Json("{\"title\": 42}"))).ProblemAsync(HttpStatusCode.BadRequest);
        await (await Owner.PostAsync(url, Json("[]"))).ProblemAsync(HttpStatusCode.BadRequest);
        var invalid = await (await Owner.PostAsync(url, Json("{\"title\":\"  \",\"status\":\"doing\",\"priority\":\"urgent\"}")))
            .ProblemAsync(HttpStatusCode.UnprocessableEntity);
        var errors = invalid.GetProperty("errors");
        Assert.True(errors.TryGetProperty("title", out _));
        Assert.True(errors.TryGetProperty("status", out _));
        Assert.True(errors.TryGetProperty("priority", out _));
        await (await Owner.GetAsync(url + "?limit=500")).ProblemAsync(HttpStatusCode.UnprocessableEntity);
        await (await Owner.GetAsync(url + "?status=inbox,bogus")).ProblemAsync(HttpStatusCode.UnprocessableEntity);
        // A query value of the wrong type is a validation error naming the parameter and the value, not a bare 400.
        foreach (var (query, parameter) in new[] { ("offset=abc", "offset"), ("limit=ten", "limit"), ("assigned_agent_id=zzz", "assigned_agent_id"), ("unassigned=maybe", "unassigned") })
        {
            var problem = await (await Owner.GetAsync($"{url}?{query}")).ProblemAsync(HttpStatusCode.UnprocessableEntity);
            var error = Assert.Single(problem.GetProperty("errors").GetProperty(parameter).EnumerateArray()).GetString()!;
            Assert.Contains(query.Split('=')[1], error);
            Assert.Contains(parameter, problem.GetProperty("detail").GetString());
        }
        Assert.Empty(Bus.Received<TaskCreated>(e => e.BoardId == board));
    }

    [Fact]
    public async Task Boards_of_otherOrganizations_do_not_exist_for_the_caller()
    {
        var theirs = await BoardAsync(org: Guid.NewGuid());

        await (await Owner.PostAsJsonAsync($"/api/v1/boards/{theirs}/tasks", new { title = "sneak" })).ProblemAsync(HttpStatusCode.NotFound);
        await (await Owner.GetAsync($"/api/v1/boards/{theirs}/tasks")).ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Board_grants_decide_who_reads_and_who_writes()
    {
        var board = await BoardAsync();
        var reader = Tasks.ClientFor(TestTokens.Member(Org, new BoardGrant(board, true, false)));
        var stranger = Tasks.ClientFor(TestTokens.Member(Org));
        var agent = Tasks.ClientFor(new McPrincipal { Kind = PrincipalKind.Agent, Subject = "mc-agent", OrganizationId = Org, AgentBoardId = board });

        await (await reader.PostAsJsonAsync($"/api/v1/boards/{board}/tasks", new { title = "x" })).ProblemAsync(HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync($"/api/v1/boards/{board}/tasks")).StatusCode);
        await (await stranger.GetAsync($"/api/v1/boards/{board}/tasks")).ProblemAsync(HttpStatusCode.Forbidden);
        await (await agent.PostAsJsonAsync($"/api/v1/boards/{board}/tasks", new { title = "x" })).ProblemAsync(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Lists_are_newest_first_paged_and_filtered_by_status()
    {
        var board = await BoardAsync();
        foreach (var (title, status) in new[] { ("a", "inbox"), ("b", "in_progress"), ("c", "inbox"), ("d", "done") })
            Assert.Equal(HttpStatusCode.Created, (await Owner.PostAsJsonAsync($"/api/v1/boards/{board}/tasks", new { title, status })).StatusCode);

        var page = await Owner.GetFromJsonAsync<JsonElement>($"/api/v1/boards/{board}/tasks?limit=2&offset=1");
        Assert.Equal(4, page.GetProperty("total").GetInt32());
        Assert.Equal(2, page.GetProperty("limit").GetInt32());
        Assert.Equal(1, page.GetProperty("offset").GetInt32());
        Assert.Equal(["c", "b"], page.GetProperty("items").EnumerateArray().Select(t => t.GetProperty("title").GetString()));

        var inbox = await Owner.GetFromJsonAsync<JsonElement>($"/api/v1/boards/{board}/tasks?status=inbox,done");
        Assert.Equal(["d", "c", "a"], inbox.GetProperty("items").EnumerateArray().Select(t => t.GetProperty("title").GetString()));
        Assert.Equal(3, inbox.GetProperty("total").GetInt32());

        var agent = await AgentAsync(board, "Ada");
        Assert.Equal(HttpStatusCode.Created, (await Owner.PostAsJsonAsync($"/api/v1/boards/{board}/tasks", new { title = "e", assigned_agent_id = agent })).StatusCode);
        var assigned = await Owner.GetFromJsonAsync<JsonElement>($"/api/v1/boards/{board}/tasks?assigned_agent_id={agent}");
        Assert.Equal(1, assigned.GetProperty("total").GetInt32());
        Assert.Equal(4, (await Owner.GetFromJsonAsync<JsonElement>($"/api/v1/boards/{board}/tasks?unassigned=true")).GetProperty("total").GetInt32());
        Assert.Equal(5, (await Owner.GetFromJsonAsync<JsonElement>($"/api/v1/boards/{board}/tasks")).GetProperty("total").GetInt32());
        var started = inbox.GetProperty("items").EnumerateArray().All(t => t.GetProperty("in_progress_at").ValueKind == JsonValueKind.Null);
        Assert.True(started);
    }

    [Fact]
    public async Task A_redelivered_BoardCreated_is_applied_once()
    {
        var messageId = Guid.NewGuid();
        var board = await BoardAsync(messageId: messageId, name: "First name");

        // Same message id (a redelivery), different content: the inbox must skip it.
        await Bus.PublishAsync(BoardCreatedEvent(Org, board, "Changed"), messageId);
        // A later, distinct event for another board proves the consumer has moved past the redelivery.
        await BoardAsync();

        Assert.Equal("First name", (await FindBoardCopyAsync(board))!.Name);
    }

    [Fact]
    public async Task A_board_whose_event_has_not_arrived_is_fetched_from_orgs()
    {
        var board = Guid.NewGuid();
        Orgs.Boards[board] = new
        {
            id = board, organization_id = Org, name = "Fresh", require_approval_for_done = true, require_review_before_done = false,
            comment_required_for_review = false, block_status_changes_with_pending_approval = false, only_lead_can_change_status = false,
            max_agents = 1, updated_at = DateTime.UtcNow,
        };
        var unknown = Guid.NewGuid();

        Assert.Equal(HttpStatusCode.Created, (await Owner.PostAsJsonAsync($"/api/v1/boards/{board}/tasks", new { title = "early" })).StatusCode);
        await (await Owner.PostAsJsonAsync($"/api/v1/boards/{unknown}/tasks", new { title = "nowhere" })).ProblemAsync(HttpStatusCode.NotFound);

        Assert.Contains(board, Orgs.Asked);
        Assert.Contains(unknown, Orgs.Asked);
        Assert.Equal("Fresh", (await FindBoardCopyAsync(board))!.Name);
    }

    [Fact]
    public async Task A_board_lookup_whileOrgs_is_down_is_a_502_not_a_500()
    {
        await Orgs.DisposeAsync();

        var response = await Owner.PostAsJsonAsync($"/api/v1/boards/{Guid.NewGuid()}/tasks", new { title = "orphan" });

        await response.ProblemAsync(HttpStatusCode.BadGateway);
    }
}

[Collection(InfrastructureCollection.Collection)]
public sealed class TasksApiOnSqliteTests(BrokerFixture broker) : TasksApiTests(broker)
{
    protected override string DatabaseConnectionString() =>
        $"Data Source={Path.Combine(Path.GetTempPath(), $"mc-tasks-test-{Guid.NewGuid():N}.db")}";

    /// <summary>The pragmas are set once per physical connection: a pooled one keeps them, a new one gets them.</summary>
    [Fact]
    public async Task Every_connection_runs_with_the_services_pragmas()
    {
        for (var round = 0; round < 3; round++)
        {
            // Two at once: the second needs a physical connection of its own.
            using var first = Tasks.Services.CreateScope();
            using var second = Tasks.Services.CreateScope();
            foreach (var scope in new[] { first, second })
            {
                var db = scope.ServiceProvider.GetRequiredService<TasksDbContext>();
                await db.Database.OpenConnectionAsync();
                Assert.Equal([1L], await db.Database.SqlQuery<long>($"SELECT synchronous AS \"Value\" FROM pragma_synchronous").ToListAsync());
                Assert.Equal([10000L], await db.Database.SqlQuery<long>($"SELECT timeout AS \"Value\" FROM pragma_busy_timeout").ToListAsync());
            }
            foreach (var scope in new[] { first, second }) await scope.ServiceProvider.GetRequiredService<TasksDbContext>().Database.CloseConnectionAsync();
        }
    }
}

[Collection(InfrastructureCollection.Collection)]
public sealed class TasksApiOnPostgresTests(BrokerFixture broker, PostgresFixture postgres) : TasksApiTests(broker)
{
    protected override string DatabaseConnectionString() => postgres.ConnectionStringForNewDatabase("tasks");
}
