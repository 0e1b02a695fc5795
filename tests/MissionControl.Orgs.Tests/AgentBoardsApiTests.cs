using System.Net;
using MissionControl.InternalAuth;
using MissionControl.Orgs.Tests.Infrastructure;

namespace MissionControl.Orgs.Tests;

public abstract class AgentBoardsApiTests(BrokerFixture broker, OrgsHost host) : OrgsTestBase(broker, host)
{
    private HttpClient Agent(Guid org, Guid? board, string role) => Host.ClientFor(new McPrincipal
    {
        Kind = PrincipalKind.Agent, Subject = Guid.NewGuid().ToString(), OrganizationId = org, AgentBoardId = board, Role = role,
    });

    [Fact]
    public async Task A_board_agent_sees_only_its_board_and_a_gateway_main_agent_its_organizations_boards()
    {
        var owner = await NewOwnerAsync();
        var (a, b) = (await CreateBoardAsync(owner), await CreateBoardAsync(owner));
        var foreign = await CreateBoardAsync(await NewOwnerAsync());
        var worker = Agent(owner.OrgId, a, AgentRoles.Worker);
        var main = Agent(owner.OrgId, null, AgentRoles.Main);

        var own = await JsonAsync(await worker.GetAsync("/api/v1/agent/boards"));
        var all = await JsonAsync(await main.GetAsync("/api/v1/agent/boards"));

        Assert.Equal([a], own.GetProperty("items").EnumerateArray().Select(IdOf));
        Assert.Equal(new[] { a, b }.Order(), all.GetProperty("items").EnumerateArray().Select(IdOf).Order());
        Assert.Equal(a, IdOf(await JsonAsync(await worker.GetAsync($"/api/v1/agent/boards/{a}"))));
        Assert.Equal(b, IdOf(await JsonAsync(await main.GetAsync($"/api/v1/agent/boards/{b}"))));
        await (await worker.GetAsync($"/api/v1/agent/boards/{b}")).ProblemAsync(HttpStatusCode.Forbidden);
        await (await worker.GetAsync($"/api/v1/agent/boards/{foreign}")).ProblemAsync(HttpStatusCode.NotFound);
        await (await main.GetAsync($"/api/v1/agent/boards/{foreign}")).ProblemAsync(HttpStatusCode.NotFound);
        Assert.Equal(0, (await JsonAsync(await Agent(owner.OrgId, null, AgentRoles.Worker).GetAsync("/api/v1/agent/boards"))).GetProperty("total").GetInt32());
        // The board routes other services call with the agent's token answer the same way.
        Assert.Equal(b, IdOf(await JsonAsync(await main.GetAsync($"/api/v1/boards/{b}"))));
        await (await worker.GetAsync($"/api/v1/boards/{b}")).ProblemAsync(HttpStatusCode.Forbidden);
        await (await main.GetAsync($"/api/v1/boards/{foreign}")).ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Agent_routes_are_for_agents()
    {
        var owner = await NewOwnerAsync();

        await (await owner.Client.GetAsync("/api/v1/agent/boards")).ProblemAsync(HttpStatusCode.Forbidden);
        await (await owner.Client.GetAsync($"/api/v1/agent/boards/{Guid.NewGuid()}")).ProblemAsync(HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Host.Anonymous().GetAsync("/api/v1/agent/boards")).StatusCode);
    }
}

[Collection(InfrastructureCollection.Collection)]
public sealed class AgentBoardsApiOnSqliteTests(BrokerFixture broker, OrgsHost host) : AgentBoardsApiTests(broker, host), IClassFixture<OrgsHost>
{
    protected override string NewDatabase() => Databases.NewSqlite();
}

[Collection(InfrastructureCollection.Collection)]
public sealed class AgentBoardsApiOnPostgresTests(BrokerFixture broker, PostgresFixture postgres, OrgsHost host) : AgentBoardsApiTests(broker, host), IClassFixture<OrgsHost>
{
    protected override string NewDatabase() => postgres.ConnectionStringForNewDatabase("orgs");
}
