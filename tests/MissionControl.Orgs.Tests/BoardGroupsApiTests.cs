using System.Net;
using System.Net.Http.Json;
using MissionControl.Contracts.Orgs;
using MissionControl.InternalAuth;
using MissionControl.Orgs.Tests.Infrastructure;

namespace MissionControl.Orgs.Tests;

public abstract class BoardGroupsApiTests(BrokerFixture broker, OrgsHost host) : OrgsTestBase(broker, host)
{
    private const string Groups = "/api/v1/board-groups";

    [Fact]
    public async Task An_admin_creates_a_group_with_a_slug_and_BoardGroupChanged_is_published()
    {
        var owner = await NewOwnerAsync();

        var group = await JsonAsync(await owner.Client.PostAsJsonAsync(Groups, new { name = "Growth Team", description = " Marketing " }), HttpStatusCode.Created);

        Assert.Equal("growth-team", group.GetProperty("slug").GetString());
        Assert.Equal("Marketing", group.GetProperty("description").GetString());
        var (_, changed) = await Bus.WaitForAsync<BoardGroupChanged>(e => e.Group.Id == IdOf(group));
        Assert.Equal(owner.OrgId, changed.OrganizationId);
        Assert.Equal("Growth Team", changed.Group.Name);
        Assert.Equal(IdOf(group), IdOf(await JsonAsync(await owner.Client.GetAsync($"{Groups}/{IdOf(group)}"))));
    }

    [Fact]
    public async Task Groups_need_an_admin_to_be_made_and_a_name()
    {
        var owner = await NewOwnerAsync();
        var member = Host.ClientFor(TestTokens.Member(owner.OrgId) with { AllBoardsRead = true, AllBoardsWrite = true });

        await (await member.PostAsJsonAsync(Groups, new { name = "x" })).ProblemAsync(HttpStatusCode.Forbidden);
        await (await owner.Client.PostAsJsonAsync(Groups, new { name = " " })).ProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Host.Anonymous().GetAsync(Groups)).StatusCode);
    }

    [Fact]
    public async Task Members_see_the_groups_of_boards_they_can_read_and_empty_groups_are_the_admins()
    {
        var owner = await NewOwnerAsync();
        var visible = IdOf(await JsonAsync(await owner.Client.PostAsJsonAsync(Groups, new { name = "A" }), HttpStatusCode.Created));
        var hidden = IdOf(await JsonAsync(await owner.Client.PostAsJsonAsync(Groups, new { name = "B" }), HttpStatusCode.Created));
        var empty = IdOf(await JsonAsync(await owner.Client.PostAsJsonAsync(Groups, new { name = "C" }), HttpStatusCode.Created));
        var readable = await CreateBoardAsync(owner, extra: new { board_group_id = visible });
        await CreateBoardAsync(owner, extra: new { board_group_id = hidden });
        var member = Host.ClientFor(TestTokens.Member(owner.OrgId, new BoardGrant(readable, true, false)));
        var stranger = await NewOwnerAsync();

        var listed = await JsonAsync(await member.GetAsync(Groups));

        Assert.Equal([visible], listed.GetProperty("items").EnumerateArray().Select(IdOf));
        Assert.Equal(3, (await JsonAsync(await owner.Client.GetAsync(Groups))).GetProperty("total").GetInt32());
        Assert.Equal(HttpStatusCode.OK, (await member.GetAsync($"{Groups}/{visible}")).StatusCode);
        await (await member.GetAsync($"{Groups}/{hidden}")).ProblemAsync(HttpStatusCode.Forbidden);
        await (await member.GetAsync($"{Groups}/{empty}")).ProblemAsync(HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.OK, (await owner.Client.GetAsync($"{Groups}/{empty}")).StatusCode);
        await (await stranger.Client.GetAsync($"{Groups}/{visible}")).ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Admins_with_write_access_change_a_group()
    {
        var owner = await NewOwnerAsync();
        var group = IdOf(await JsonAsync(await owner.Client.PostAsJsonAsync(Groups, new { name = "Old" }), HttpStatusCode.Created));
        var board = await CreateBoardAsync(owner, extra: new { board_group_id = group });
        var readOnlyAdmin = Host.ClientFor(TestTokens.Member(owner.OrgId, new BoardGrant(board, true, false)) with { Role = Roles.Admin });
        var member = Host.ClientFor(TestTokens.Member(owner.OrgId, new BoardGrant(board, true, true)));

        var patched = await JsonAsync(await owner.Client.PatchAsJsonAsync($"{Groups}/{group}", new { name = "New", slug = "New Slug" }));

        Assert.Equal("new-slug", patched.GetProperty("slug").GetString());
        await Bus.WaitForAsync<BoardGroupChanged>(e => e.Group.Id == group && e.Group.Name == "New");
        await (await readOnlyAdmin.PatchAsJsonAsync($"{Groups}/{group}", new { name = "x" })).ProblemAsync(HttpStatusCode.Forbidden);
        await (await member.PatchAsJsonAsync($"{Groups}/{group}", new { name = "x" })).ProblemAsync(HttpStatusCode.Forbidden);
        await (await owner.Client.PatchAsJsonAsync($"{Groups}/{group}", new { name = "" })).ProblemAsync(HttpStatusCode.UnprocessableEntity);
        await (await (await NewOwnerAsync()).Client.PatchAsJsonAsync($"{Groups}/{group}", new { name = "x" })).ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Deleting_a_group_ungroups_its_boards()
    {
        var owner = await NewOwnerAsync();
        var group = IdOf(await JsonAsync(await owner.Client.PostAsJsonAsync(Groups, new { name = "Doomed" }), HttpStatusCode.Created));
        var board = await CreateBoardAsync(owner, extra: new { board_group_id = group });

        Assert.Equal(HttpStatusCode.OK, (await owner.Client.DeleteAsync($"{Groups}/{group}")).StatusCode);

        await Bus.WaitForAsync<BoardGroupDeleted>(e => e.GroupId == group);
        var (_, updated) = await Bus.WaitForAsync<BoardUpdated>(e => e.BoardId == board);
        Assert.Equal(["board_group_id"], updated.ChangedFields);
        Assert.Equal(group, updated.PreviousBoardGroupId);
        Assert.Null(updated.Board.BoardGroupId);
        var read = await JsonAsync(await owner.Client.GetAsync($"/api/v1/boards/{board}"));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, read.GetProperty("board_group_id").ValueKind);
        await (await owner.Client.DeleteAsync($"{Groups}/{group}")).ProblemAsync(HttpStatusCode.NotFound);
    }
}

[Collection(InfrastructureCollection.Collection)]
public sealed class BoardGroupsApiOnSqliteTests(BrokerFixture broker, OrgsHost host) : BoardGroupsApiTests(broker, host), IClassFixture<OrgsHost>
{
    protected override string NewDatabase() => Databases.NewSqlite();
}

[Collection(InfrastructureCollection.Collection)]
public sealed class BoardGroupsApiOnPostgresTests(BrokerFixture broker, PostgresFixture postgres, OrgsHost host) : BoardGroupsApiTests(broker, host), IClassFixture<OrgsHost>
{
    protected override string NewDatabase() => postgres.ConnectionStringForNewDatabase("orgs");
}
