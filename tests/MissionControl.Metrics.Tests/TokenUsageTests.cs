using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using MissionControl.Contracts.Agents;
using MissionControl.InternalAuth;

namespace MissionControl.Metrics.Tests;

/// <summary>
/// Token usage and cost. Prices (USD per million tokens): test-alpha 3 in / 15 out, test-beta 0.5 / 2.5;
/// mystery-model has none.
///
/// R1 owner for agent A1 on Alpha, test-alpha, 1,000 in / 2,000 out, 11-10 10:00 → 0.003 + 0.03 = 0.033
/// R2 agent A1 itself, on task T (Alpha), test-beta, 200,000 / 40,000, 11-10 15:00 → 0.1 + 0.1 = 0.2
/// R3 the gateway (published event), agent A2 on Beta, test-alpha, 500,000 / 100,000, 11-11 08:00 → 1.5 + 1.5 = 3
/// R4 owner for A2 on Beta, mystery-model, 7,000 / 3,000, 11-11 09:00 → 0, unpriced
/// </summary>
public abstract class TokenUsageTests(BrokerFixture broker) : MetricsServiceTest(broker)
{
    private readonly Guid _alpha = Guid.NewGuid(), _beta = Guid.NewGuid(), _a1 = Guid.NewGuid(), _a2 = Guid.NewGuid(), _task = Guid.NewGuid();
    private Guid _r1, _r2, _r3, _r4;

    protected override IEnumerable<KeyValuePair<string, string?>> Settings() =>
    [
        new("Tokens:Prices:test-alpha:Input", "3"), new("Tokens:Prices:test-alpha:Output", "15"),
        new("Tokens:Prices:test-beta:Input", "0.5"), new("Tokens:Prices:test-beta:Output", "2.50"),
    ];

    private static DateTimeOffset At(int day, int hour) => new(2026, 11, day, hour, 0, 0, TimeSpan.Zero);

    private async Task<Guid> PostAsync(HttpClient client, object body)
    {
        var response = await client.PostAsJsonAsync("/api/v1/tokens/usage", body);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var record = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(response.Headers.Location!.ToString(), $"/api/v1/tokens/usage/{record.GetProperty("id").GetGuid()}");
        return record.GetProperty("id").GetGuid();
    }

    private async Task ScriptAsync()
    {
        await PublishAndWaitLoggedAsync(TaskCreatedEvent(_alpha, _task, At(10, 9), "T"));
        _r1 = await PostAsync(Owner, new { agent_id = _a1, board_id = _alpha, model = "test-alpha", input_tokens = 1000, output_tokens = 2000, occurred_at = At(10, 10) });
        _r2 = await PostAsync(AgentClient(_a1, _alpha), new { task_id = _task, model = "test-beta", input_tokens = 200_000, output_tokens = 40_000, occurred_at = At(10, 15) });
        _r3 = Guid.NewGuid();
        await PublishAndWaitLoggedAsync(new TokenUsageReported
        {
            OrganizationId = Org, AgentId = _a2, BoardId = _beta, GatewayId = Guid.NewGuid(), Model = "test-alpha", InputTokens = 500_000,
            OutputTokens = 100_000, Source = "gateway", RunId = "run-1", OccurredAt = At(11, 8),
        }, _r3);
        _r4 = await PostAsync(Owner, new { agent_id = _a2, board_id = _beta, model = "mystery-model", input_tokens = 7000, output_tokens = 3000, occurred_at = At(11, 9) });
    }

    private static async Task<JsonElement> GetAsync(HttpClient client, string query = "")
    {
        var response = await client.GetAsync($"/api/v1/tokens/usage{query}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static List<Guid> Ids(JsonElement page) => page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetGuid()).ToList();

    private static void AssertFigures(JsonElement row, long input, long output, decimal inputCost, decimal outputCost, bool priced = true)
    {
        Assert.Equal(input, row.GetProperty("input_tokens").GetInt64());
        Assert.Equal(output, row.GetProperty("output_tokens").GetInt64());
        Assert.Equal(input + output, row.GetProperty("total_tokens").GetInt64());
        Assert.Equal(inputCost, row.GetProperty("input_cost_usd").GetDecimal());
        Assert.Equal(outputCost, row.GetProperty("output_cost_usd").GetDecimal());
        Assert.Equal(inputCost + outputCost, row.GetProperty("total_cost_usd").GetDecimal());
        Assert.Equal(priced, row.GetProperty("priced").GetBoolean());
    }

    [Fact]
    public async Task Records_are_priced_per_model_with_input_and_output_separately()
    {
        await ScriptAsync();
        var page = await GetAsync(Owner);
        Assert.Equal([_r4, _r3, _r2, _r1], Ids(page));
        Assert.Equal(4, page.GetProperty("total").GetInt32());
        var items = page.GetProperty("items").EnumerateArray().ToList();
        AssertFigures(items[3], 1000, 2000, 0.003m, 0.03m);
        AssertFigures(items[2], 200_000, 40_000, 0.1m, 0.1m);
        AssertFigures(items[1], 500_000, 100_000, 1.5m, 1.5m);
        AssertFigures(items[0], 7000, 3000, 0m, 0m, priced: false);
        // The agent's own report: attributed to it, on its board, from the API.
        Assert.Equal(_a1, items[2].GetProperty("agent_id").GetGuid());
        Assert.Equal(_alpha, items[2].GetProperty("board_id").GetGuid());
        Assert.Equal(_task, items[2].GetProperty("task_id").GetGuid());
        Assert.Equal("api", items[2].GetProperty("source").GetString());
        // The gateway's, published on the bus.
        Assert.Equal("gateway", items[1].GetProperty("source").GetString());
        Assert.Equal("2026-11-11T08:00:00.000000Z", items[1].GetProperty("occurred_at").GetString());

        AssertFigures(page.GetProperty("totals"), 708_000, 145_000, 1.603m, 1.63m, priced: false);
        Assert.Equal(4, page.GetProperty("totals").GetProperty("records").GetInt32());
        Assert.Equal(["mystery-model"], page.GetProperty("unpriced_models").EnumerateArray().Select(m => m.GetString()));

        var one = await GetAsync(Owner, $"/{_r1}");
        AssertFigures(one, 1000, 2000, 0.003m, 0.03m);
        Assert.Equal(2, Ids(await GetAsync(Owner, "?limit=2&offset=1")).Count);
        Assert.Equal([_r3, _r2], Ids(await GetAsync(Owner, "?limit=2&offset=1")));
    }

    [Fact]
    public async Task Usage_groups_by_model_agent_and_day()
    {
        await ScriptAsync();
        var byModel = (await GetAsync(Owner, "?group_by=model")).GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(["test-alpha", "test-beta", "mystery-model"], byModel.Select(r => r.GetProperty("model").GetString()));
        AssertFigures(byModel[0], 501_000, 102_000, 1.503m, 1.53m);
        Assert.Equal(2, byModel[0].GetProperty("records").GetInt32());
        AssertFigures(byModel[1], 200_000, 40_000, 0.1m, 0.1m);
        AssertFigures(byModel[2], 7000, 3000, 0m, 0m, priced: false);

        await PublishAndWaitLoggedAsync(new AgentCreated
        {
            OrganizationId = Org, OccurredAt = At(1, 0), Agent = new AgentState
            {
                Id = _a1, OrganizationId = Org, BoardId = _alpha, Name = "Writer", Status = "online", CreatedAt = At(1, 0), UpdatedAt = At(1, 0),
            },
        });
        var byAgent = await GetAsync(Owner, "?group_by=agent");
        var agents = byAgent.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal([_a2, _a1], agents.Select(r => r.GetProperty("agent_id").GetGuid()));
        AssertFigures(agents[0], 507_000, 103_000, 1.5m, 1.5m, priced: false);
        AssertFigures(agents[1], 201_000, 42_000, 0.103m, 0.13m);
        Assert.Equal("Writer", agents[1].GetProperty("agent_name").GetString());
        Assert.Equal(2, byAgent.GetProperty("total").GetInt32());

        var byDay = (await GetAsync(Owner, "?group_by=day")).GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(["2026-11-10", "2026-11-11"], byDay.Select(r => r.GetProperty("day").GetString()));
        AssertFigures(byDay[0], 201_000, 42_000, 0.103m, 0.13m);
        AssertFigures(byDay[1], 507_000, 103_000, 1.5m, 1.5m, priced: false);

        var bad = await Owner.GetAsync("/api/v1/tokens/usage?group_by=week");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, bad.StatusCode);
    }

    [Fact]
    public async Task Filters_narrow_the_records_and_the_totals()
    {
        await ScriptAsync();
        async Task<(List<Guid> Ids, JsonElement Page)> Query(string q)
        {
            var page = await GetAsync(Owner, q);
            return (Ids(page), page);
        }

        var alpha = await Query($"?board_id={_alpha}");
        Assert.Equal([_r2, _r1], alpha.Ids);
        AssertFigures(alpha.Page.GetProperty("totals"), 201_000, 42_000, 0.103m, 0.13m);
        Assert.Empty(alpha.Page.GetProperty("unpriced_models").EnumerateArray());
        Assert.Equal([_r4, _r3], (await Query($"?agent_id={_a2}")).Ids);
        Assert.Equal([_r2], (await Query($"?task_id={_task}")).Ids);
        Assert.Equal([_r3, _r1], (await Query("?model=test-alpha")).Ids);
        Assert.Equal([_r4, _r3], (await Query("?from=2026-11-11T00:00:00Z")).Ids);
        Assert.Equal([_r2, _r1], (await Query("?to=2026-11-11T00:00:00Z")).Ids);
        Assert.Equal([_r2], (await Query("?from=2026-11-10T12:00:00Z&to=2026-11-11T08:00:00Z")).Ids);
        var grouped = (await GetAsync(Owner, $"?group_by=model&board_id={_beta}")).GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(["test-alpha", "mystery-model"], grouped.Select(r => r.GetProperty("model").GetString()));
    }

    [Fact]
    public async Task Csv_has_the_same_rows_with_a_header()
    {
        await ScriptAsync();
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/tokens/usage?group_by=model");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/csv"));
        var response = await Owner.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(
            "model,records,input_tokens,output_tokens,total_tokens,input_cost_usd,output_cost_usd,total_cost_usd,priced\r\n" +
            "test-alpha,2,501000,102000,603000,1.503,1.53,3.033,true\r\n" +
            "test-beta,1,200000,40000,240000,0.1,0.1,0.2,true\r\n" +
            "mystery-model,1,7000,3000,10000,0,0,0,false\r\n",
            await response.Content.ReadAsStringAsync());

        var records = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/tokens/usage?board_id={_alpha}");
        records.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/csv"));
        var lines = (await (await Owner.SendAsync(records)).Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("id,agent_id,board_id,task_id,gateway_id,model,", lines[0]);
        Assert.Equal($"{_r1},{_a1},{_alpha},,,test-alpha,1000,2000,3000,0.003,0.03,0.033,true,api,,2026-11-10T10:00:00.000000Z", lines[2]);
    }

    [Fact]
    public async Task Members_see_the_boards_they_read_and_agents_their_own_usage()
    {
        await ScriptAsync();
        var member = Member(new BoardGrant(_alpha, true, false));
        var seen = await GetAsync(member);
        Assert.Equal([_r2, _r1], Ids(seen));
        AssertFigures(seen.GetProperty("totals"), 201_000, 42_000, 0.103m, 0.13m);
        Assert.Equal(HttpStatusCode.Forbidden, (await member.GetAsync($"/api/v1/tokens/usage?board_id={_beta}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await member.GetAsync($"/api/v1/tokens/usage/{_r3}")).StatusCode);

        // A1's own usage: the owner's report for it and its own.
        var agent = AgentClient(_a1, _alpha);
        Assert.Equal([_r2, _r1], Ids(await GetAsync(agent)));
        Assert.Equal(HttpStatusCode.Forbidden, (await agent.GetAsync($"/api/v1/tokens/usage?agent_id={_a2}")).StatusCode);
        // Another agent on the same board sees none of A1's.
        Assert.Empty(Ids(await GetAsync(AgentClient(Guid.NewGuid(), _alpha))));
        // Another organization sees nothing.
        Assert.Empty(Ids(await GetAsync(Metrics.ClientFor(TestTokens.Owner(Guid.NewGuid())))));
    }

    [Fact]
    public async Task Reports_are_refused_for_other_agents_boards_and_bad_figures()
    {
        await PublishAndWaitLoggedAsync(TaskCreatedEvent(_beta, _task, At(10, 9)));
        var agent = AgentClient(_a1, _alpha);
        async Task Expect(HttpClient client, object body, HttpStatusCode status, string? field = null)
        {
            var response = await client.PostAsJsonAsync("/api/v1/tokens/usage", body);
            Assert.Equal(status, response.StatusCode);
            if (field is not null)
                Assert.True((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty(field, out _));
        }

        // An agent reports only its own usage, on its own board.
        await Expect(agent, new { agent_id = _a2, model = "test-alpha", input_tokens = 1, output_tokens = 1 }, HttpStatusCode.Forbidden);
        await Expect(agent, new { task_id = _task, model = "test-alpha", input_tokens = 1, output_tokens = 1 }, HttpStatusCode.Forbidden);
        await Expect(agent, new { board_id = _beta, model = "test-alpha", input_tokens = 1, output_tokens = 1 }, HttpStatusCode.Forbidden);
        var own = await agent.PostAsJsonAsync("/api/v1/tokens/usage", new { agent_id = _a1, model = "test-alpha", input_tokens = 1_000_000, output_tokens = 0 });
        Assert.Equal(HttpStatusCode.Created, own.StatusCode);
        var record = await own.Content.ReadFromJsonAsync<JsonElement>();
        AssertFigures(record, 1_000_000, 0, 3m, 0m);
        // Recorded through the log: visible at once, and in the event log as token.usage.
        Assert.Equal([record.GetProperty("id").GetGuid()], Ids(await GetAsync(agent)));
        var logged = await WaitLoggedAsync(record.GetProperty("id").GetGuid(), timeout: TimeSpan.FromSeconds(1));
        Assert.Equal("token.usage", logged.GetProperty("type").GetString());

        // Users need write access to the board (given, or the task's).
        var reader = Member(new BoardGrant(_alpha, true, false));
        var writer = Member(new BoardGrant(_alpha, true, true));
        await Expect(reader, new { board_id = _alpha, model = "m", input_tokens = 1, output_tokens = 1 }, HttpStatusCode.Forbidden);
        await Expect(writer, new { board_id = _beta, model = "m", input_tokens = 1, output_tokens = 1 }, HttpStatusCode.Forbidden);
        await Expect(writer, new { task_id = _task, model = "m", input_tokens = 1, output_tokens = 1 }, HttpStatusCode.Forbidden);
        await Expect(writer, new { model = "m", input_tokens = 1, output_tokens = 1 }, HttpStatusCode.Forbidden);
        await Expect(writer, new { board_id = _alpha, model = "m", input_tokens = 1, output_tokens = 1 }, HttpStatusCode.Created);
        await Expect(Owner, new { task_id = Guid.NewGuid(), model = "m", input_tokens = 1, output_tokens = 1 }, HttpStatusCode.NotFound);
        await Expect(Owner, new { task_id = _task, board_id = _alpha, model = "m", input_tokens = 1, output_tokens = 1 }, HttpStatusCode.UnprocessableEntity, "task_id");

        // A known agent's usage is on its board.
        await PublishAndWaitLoggedAsync(new AgentCreated
        {
            OrganizationId = Org, OccurredAt = At(1, 0), Agent = new AgentState
            {
                Id = _a2, OrganizationId = Org, BoardId = _beta, Name = "Reviewer", Status = "online", CreatedAt = At(1, 0), UpdatedAt = At(1, 0),
            },
        });
        await Expect(Owner, new { agent_id = _a2, board_id = _alpha, model = "m", input_tokens = 1, output_tokens = 1 }, HttpStatusCode.UnprocessableEntity, "agent_id");
        await Expect(writer, new { agent_id = _a2, model = "m", input_tokens = 1, output_tokens = 1 }, HttpStatusCode.Forbidden);
        var onBeta = await Owner.PostAsJsonAsync("/api/v1/tokens/usage", new { agent_id = _a2, model = "m", input_tokens = 1, output_tokens = 1 });
        Assert.Equal(_beta, (await onBeta.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("board_id").GetGuid());

        // Validation: 422 with the field, never a 500.
        await Expect(Owner, new { input_tokens = 1, output_tokens = 1 }, HttpStatusCode.UnprocessableEntity, "model");
        await Expect(Owner, new { model = " ", input_tokens = 1, output_tokens = 1 }, HttpStatusCode.UnprocessableEntity, "model");
        await Expect(Owner, new { model = "m", input_tokens = -1, output_tokens = 1 }, HttpStatusCode.UnprocessableEntity, "input_tokens");
        await Expect(Owner, new { model = "m", input_tokens = 1, output_tokens = -5 }, HttpStatusCode.UnprocessableEntity, "output_tokens");
        await Expect(Owner, new { model = "m", input_tokens = "many", output_tokens = 1 }, HttpStatusCode.UnprocessableEntity, "input_tokens");
        await Expect(Owner, new { model = "m", input_tokens = 1.5, output_tokens = 1 }, HttpStatusCode.UnprocessableEntity, "input_tokens");
        await Expect(Owner, new { model = "m", output_tokens = 1 }, HttpStatusCode.UnprocessableEntity, "input_tokens");
        await Expect(Owner, new { model = "m", input_tokens = 1, output_tokens = 1, occurred_at = "yesterday" }, HttpStatusCode.UnprocessableEntity, "occurred_at");
        var malformed = await Owner.PostAsync("/api/v1/tokens/usage", new StringContent("{", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
    }
}

[Collection(InfrastructureCollection.Collection)]
public sealed class TokenUsageOnSqliteTests(BrokerFixture broker) : TokenUsageTests(broker)
{
    protected override string DatabaseConnectionString() => OnSqlite.NewDatabase();
}

[Collection(InfrastructureCollection.Collection)]
public sealed class TokenUsageOnPostgresTests(BrokerFixture broker, PostgresFixture postgres) : TokenUsageTests(broker)
{
    protected override string DatabaseConnectionString() => postgres.ConnectionStringForNewDatabase("metrics");
}
