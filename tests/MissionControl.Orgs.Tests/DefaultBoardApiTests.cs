using System.Net;
using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Orgs;
using MissionControl.Orgs.Tests.Infrastructure;

namespace MissionControl.Orgs.Tests;

/// <summary>POST /internal/v1/organizations/{id}/default-board: the board /api/tasks uses when a task names none.</summary>
public abstract class DefaultBoardApiTests(BrokerFixture broker, OrgsHost host) : OrgsTestBase(broker, host)
{
    private static string Url(Guid org) => $"/internal/v1/organizations/{org}/default-board";

    [Fact]
    public async Task The_default_board_is_made_once_even_by_concurrent_first_asks()
    {
        var owner = await NewOwnerAsync();

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            (i % 2 == 0 ? owner.Client : Host.Edge()).PostAsync(Url(owner.OrgId), null)));

        Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.OK or HttpStatusCode.Created, $"{r.StatusCode}"));
        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created);
        var boards = new List<Guid>();
        foreach (var r in responses) boards.Add(IdOf(await JsonAsync(r, r.StatusCode)));
        var board = Assert.Single(boards.Distinct());
        var read = await JsonAsync(await Host.Edge().PostAsync(Url(owner.OrgId), null));
        Assert.Equal(board, IdOf(read));
        Assert.Equal("Default", read.GetProperty("name").GetString());
        Assert.Equal(owner.OrgId, read.GetProperty("organization_id").GetGuid());
        Assert.False(read.GetProperty("require_approval_for_done").GetBoolean());
        Assert.Equal(1, await Host.WithDbAsync(db => db.Boards.CountAsync(b => b.OrganizationId == owner.OrgId)));
        var (_, created) = await Bus.WaitForAsync<BoardCreated>(e => e.BoardId == board);
        Assert.Equal("Default", created.Board.Name);
        await Task.Delay(300);
        Assert.Single(Bus.Received<BoardCreated>(e => e.OrganizationId == owner.OrgId));
        // An ordinary board of the organization: the default one is still a board like the others.
        Assert.Equal(board, IdOf(await JsonAsync(await owner.Client.GetAsync($"/api/v1/boards/{board}"))));

        var other = await NewOwnerAsync();
        Assert.NotEqual(board, IdOf(await JsonAsync(await other.Client.PostAsync(Url(other.OrgId), null), HttpStatusCode.Created)));
    }

    [Fact]
    public async Task Only_services_and_callers_of_that_organization_acting_through_one_get_it()
    {
        var owner = await NewOwnerAsync();
        var stranger = await NewOwnerAsync();

        await (await stranger.Client.PostAsync(Url(owner.OrgId), null)).ProblemAsync(HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Host.Anonymous().PostAsync(Url(owner.OrgId), null)).StatusCode);
        await (await Host.Edge().PostAsync(Url(Guid.NewGuid()), null)).ProblemAsync(HttpStatusCode.NotFound);
        Assert.Equal(0, await Host.WithDbAsync(db => db.Boards.CountAsync(b => b.OrganizationId == owner.OrgId)));
    }
}

[Collection(InfrastructureCollection.Collection)]
public sealed class DefaultBoardApiOnSqliteTests(BrokerFixture broker, OrgsHost host) : DefaultBoardApiTests(broker, host), IClassFixture<OrgsHost>
{
    protected override string NewDatabase() => Databases.NewSqlite();
}

[Collection(InfrastructureCollection.Collection)]
public sealed class DefaultBoardApiOnPostgresTests(BrokerFixture broker, PostgresFixture postgres, OrgsHost host) : DefaultBoardApiTests(broker, host),
    IClassFixture<OrgsHost>
{
    protected override string NewDatabase() => postgres.ConnectionStringForNewDatabase("orgs");
}
