using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using MissionControl.Contracts.Orgs;
using MissionControl.InternalAuth;

namespace MissionControl.Orgs.Tests;

[CollectionDefinition(Collection)]
public sealed class InfrastructureCollection : ICollectionFixture<BrokerFixture>, ICollectionFixture<PostgresFixture>
{
    public const string Collection = "infrastructure";
}

/// <summary>orgs through HTTP with the real broker: organizations, boards, and principal resolution; once per database provider.</summary>
public abstract class OrgsApiTests(BrokerFixture broker) : IAsyncLifetime
{
    private ServiceFactory<Program> _orgs = null!;
    private BusProbe _bus = null!;

    protected abstract string DatabaseConnectionString();

    public async Task InitializeAsync()
    {
        _bus = await BusProbe.StartAsync(broker.ConnectionString, typeof(OrganizationCreated), typeof(BoardCreated));
        _orgs = new ServiceFactory<Program>(new Dictionary<string, string?>
        {
            ["ConnectionStrings:messaging"] = broker.ConnectionString,
            ["ConnectionStrings:orgsdb"] = DatabaseConnectionString(),
        });
        await _orgs.CreateClient().WaitHealthyAsync();
    }

    public async Task DisposeAsync()
    {
        await _orgs.DisposeAsync();
        await _bus.DisposeAsync();
    }

    /// <summary>What the edge does on a user's first request: resolve (and so create) the user.</summary>
    private async Task<ResolvedUser> ResolveAsync(string externalId)
    {
        var response = await _orgs.ClientFor(TestTokens.Service()).PostAsJsonAsync("/internal/v1/principals/resolve",
            new { external_id = externalId, email = $"{externalId}@example.test", name = externalId });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<ResolvedUser>(JsonDefaults.Api))!;
    }

    private async Task<(HttpClient Client, Guid Org, Guid User)> OwnerWithOrganizationAsync()
    {
        var external = $"user-{Guid.NewGuid():N}";
        var user = await ResolveAsync(external);
        var create = await _orgs.ClientFor(user.ToPrincipal()).PostAsJsonAsync("/api/v1/organizations", new { name = $"Org {Guid.NewGuid():N}" });
        Assert.Equal(HttpStatusCode.Created, create.StatusCode);
        var resolved = await ResolveAsync(external);
        return (_orgs.ClientFor(resolved.ToPrincipal()), resolved.OrganizationId!.Value, resolved.UserId);
    }

    [Fact]
    public async Task Creating_an_organization_makes_the_caller_its_owner_and_publishes_OrganizationCreated()
    {
        var external = $"user-{Guid.NewGuid():N}";
        var before = await ResolveAsync(external);
        Assert.NotNull(before.OrganizationId); // the Personal organization of the first call
        var name = $"Acme {Guid.NewGuid():N}";

        var response = await _orgs.ClientFor(before.ToPrincipal()).PostAsJsonAsync("/api/v1/organizations", new { name });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var org = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        var after = await ResolveAsync(external);
        Assert.Equal(before.UserId, after.UserId);
        Assert.Equal(org, after.OrganizationId);
        Assert.NotEqual(before.OrganizationId, org);
        Assert.Equal(Roles.Owner, after.Role);
        Assert.True(after.AllBoardsRead && after.AllBoardsWrite);
        var (_, published) = await _bus.WaitForAsync<OrganizationCreated>(e => e.OrganizationId == org);
        Assert.Equal(name, published.Name);
        Assert.Equal(before.UserId, published.CreatedByUserId);
    }

    [Fact]
    public async Task Organization_names_are_required_and_unique_regardless_of_case()
    {
        var user = await ResolveAsync($"user-{Guid.NewGuid():N}");
        var client = _orgs.ClientFor(user.ToPrincipal());
        var name = $"Unique {Guid.NewGuid():N}";

        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/api/v1/organizations", new { name })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await client.PostAsJsonAsync("/api/v1/organizations", new { name = name.ToUpperInvariant() })).StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await client.PostAsJsonAsync("/api/v1/organizations", new { name = "   " })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("/api/v1/organizations",
            new StringContent("{name:", System.Text.Encoding.UTF8, "application/json"))).StatusCode);
    }

    [Fact]
    public async Task Only_services_may_resolve_principals()
    {
        var (owner, _, _) = await OwnerWithOrganizationAsync();

        var response = await owner.PostAsJsonAsync("/internal/v1/principals/resolve", new { external_id = "someone-else" });

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _orgs.CreateClient().PostAsJsonAsync("/internal/v1/principals/resolve", new { external_id = "x" })).StatusCode);
    }

    [Fact]
    public async Task An_owner_creates_a_board_and_BoardCreated_carries_its_rules()
    {
        var (owner, org, _) = await OwnerWithOrganizationAsync();

        var response = await owner.PostAsJsonAsync("/api/v1/boards",
            new { name = "Launch Plan", description = "Ship v1", require_review_before_done = true, max_agents = 3 });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var board = await response.Content.ReadFromJsonAsync<JsonElement>();
        var id = board.GetProperty("id").GetGuid();
        Assert.Equal("launch-plan", board.GetProperty("slug").GetString());
        Assert.Equal(org, board.GetProperty("organization_id").GetGuid());
        var (_, published) = await _bus.WaitForAsync<BoardCreated>(e => e.BoardId == id);
        Assert.Equal(org, published.OrganizationId);
        Assert.True(published.Board.Rules.RequireReviewBeforeDone);
        Assert.True(published.Board.Rules.RequireApprovalForDone);
        Assert.Equal(3, published.Board.Rules.MaxAgents);
        Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync($"/api/v1/boards/{id}")).StatusCode);
    }

    [Fact]
    public async Task Board_creation_needs_an_organization_an_admin_role_and_valid_fields()
    {
        var (owner, org, _) = await OwnerWithOrganizationAsync();
        var homeless = _orgs.ClientFor(new McPrincipal { Kind = PrincipalKind.User, Subject = Guid.NewGuid().ToString() });
        var member = _orgs.ClientFor(TestTokens.Member(org) with { AllBoardsWrite = true });

        Assert.Equal(HttpStatusCode.Forbidden, (await homeless.PostAsJsonAsync("/api/v1/boards", new { name = "b", description = "d" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await member.PostAsJsonAsync("/api/v1/boards", new { name = "b", description = "d" })).StatusCode);
        var invalid = await owner.PostAsJsonAsync("/api/v1/boards", new { name = "", description = " ", board_type = "epic", max_agents = -1 });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, invalid.StatusCode);
        var errors = (await invalid.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.Equal(["board_type", "description", "max_agents", "name"], errors.EnumerateObject().Select(p => p.Name).Order());
    }

    [Fact]
    public async Task Boards_are_visible_only_inside_their_organization_and_to_those_granted()
    {
        var (owner, org, _) = await OwnerWithOrganizationAsync();
        var (other, _, _) = await OwnerWithOrganizationAsync();
        var a = (await (await owner.PostAsJsonAsync("/api/v1/boards", new { name = "A", description = "a" })).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        var b = (await (await owner.PostAsJsonAsync("/api/v1/boards", new { name = "B", description = "b" })).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        var member = _orgs.ClientFor(TestTokens.Member(org, new BoardGrant(b, true, false)));

        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/api/v1/boards/{a}")).StatusCode);
        Assert.Equal(0, (await other.GetFromJsonAsync<JsonElement>("/api/v1/boards")).GetProperty("total").GetInt32());
        Assert.Equal(HttpStatusCode.Forbidden, (await member.GetAsync($"/api/v1/boards/{a}")).StatusCode);
        var visible = await member.GetFromJsonAsync<JsonElement>("/api/v1/boards");
        Assert.Equal([b], visible.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetGuid()));
        var all = await owner.GetFromJsonAsync<JsonElement>("/api/v1/boards?limit=1");
        Assert.Equal(2, all.GetProperty("total").GetInt32());
        Assert.Equal("A", all.GetProperty("items")[0].GetProperty("name").GetString());
    }
}

[Collection(InfrastructureCollection.Collection)]
public sealed class OrgsApiOnSqliteTests(BrokerFixture broker) : OrgsApiTests(broker)
{
    protected override string DatabaseConnectionString() =>
        $"Data Source={Path.Combine(Path.GetTempPath(), $"mc-orgs-test-{Guid.NewGuid():N}.db")}";
}

[Collection(InfrastructureCollection.Collection)]
public sealed class OrgsApiOnPostgresTests(BrokerFixture broker, PostgresFixture postgres) : OrgsApiTests(broker)
{
    protected override string DatabaseConnectionString() => postgres.ConnectionStringForNewDatabase("orgs");
}
