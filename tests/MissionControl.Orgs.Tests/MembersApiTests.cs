using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Orgs;
using MissionControl.InternalAuth;
using MissionControl.Orgs.Tests.Infrastructure;

namespace MissionControl.Orgs.Tests;

/// <summary>Members, roles, board access, and deleting an organization.</summary>
public abstract class MembersApiTests(BrokerFixture broker, OrgsHost host) : OrgsTestBase(broker, host)
{
    private static string MemberPath(Guid memberId) => $"/api/v1/organizations/me/members/{memberId}";

    private async Task<Guid> MemberIdAsync(Actor actor) => IdOf(await JsonAsync(await actor.Client.GetAsync("/api/v1/organizations/me/member")));

    [Fact]
    public async Task Members_read_their_own_membership_and_the_member_list()
    {
        var owner = await NewOwnerAsync();
        var member = await JoinAsync(owner);

        var mine = await JsonAsync(await member.Client.GetAsync("/api/v1/organizations/me/member"));
        var list = await JsonAsync(await member.Client.GetAsync("/api/v1/organizations/me/members"));

        Assert.Equal("member", mine.GetProperty("role").GetString());
        Assert.Equal(member.UserId, mine.GetProperty("user_id").GetGuid());
        Assert.Equal(member.Email, mine.GetProperty("user").GetProperty("email").GetString());
        Assert.Equal(0, mine.GetProperty("board_access").GetArrayLength());
        Assert.Equal(2, list.GetProperty("total").GetInt32());
        var emails = list.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("user").GetProperty("email").GetString()).ToList();
        Assert.Equal(emails.Order(StringComparer.Ordinal), emails);
        Assert.All(list.GetProperty("items").EnumerateArray(), i => Assert.False(i.TryGetProperty("board_access", out _)));
    }

    [Fact]
    public async Task Members_read_themselves_admins_read_anyone_and_other_organizations_are_not_found()
    {
        var owner = await NewOwnerAsync();
        var member = await JoinAsync(owner);
        var other = await JoinAsync(owner);
        var stranger = await NewOwnerAsync();
        var ownerId = await MemberIdAsync(owner);

        Assert.Equal(HttpStatusCode.OK, (await member.Client.GetAsync(MemberPath(await MemberIdAsync(member)))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await owner.Client.GetAsync(MemberPath(await MemberIdAsync(other)))).StatusCode);
        await (await member.Client.GetAsync(MemberPath(ownerId))).ProblemAsync(HttpStatusCode.Forbidden);
        await (await stranger.Client.GetAsync(MemberPath(ownerId))).ProblemAsync(HttpStatusCode.NotFound);
        var homeless = Host.ClientFor(new McPrincipal { Kind = PrincipalKind.User, Subject = Guid.NewGuid().ToString() });
        var problem = await (await homeless.GetAsync("/api/v1/organizations/me/members")).ProblemAsync(HttpStatusCode.Forbidden);
        Assert.Equal("no_active_organization", problem.GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, (await Host.Anonymous().GetAsync("/api/v1/organizations/me/members")).StatusCode);
    }

    [Fact]
    public async Task Admins_change_roles_but_only_owners_touch_the_owner_role()
    {
        var owner = await NewOwnerAsync();
        var admin = await JoinAsync(owner, new { role = "admin" });
        var member = await JoinAsync(owner);
        var memberId = await MemberIdAsync(member);

        var promoted = await JsonAsync(await admin.Client.PatchAsJsonAsync(MemberPath(memberId), new { role = "ADMIN" }));

        Assert.Equal("admin", promoted.GetProperty("role").GetString());
        await Bus.WaitForAsync<MemberChanged>(e => e.UserId == member.UserId && e.Change == "role" && e.OrganizationId == owner.OrgId);
        Assert.Equal("admin", (await RefreshAsync(member)).Principal.Role);
        await (await admin.Client.PatchAsJsonAsync(MemberPath(memberId), new { role = "owner" })).ProblemAsync(HttpStatusCode.Forbidden);
        await (await admin.Client.PatchAsJsonAsync(MemberPath(await MemberIdAsync(owner)), new { role = "member" })).ProblemAsync(HttpStatusCode.Forbidden);
        await (await member.Client.PatchAsJsonAsync(MemberPath(memberId), new { role = "member" })).ProblemAsync(HttpStatusCode.Forbidden);
        var invalid = await (await owner.Client.PatchAsJsonAsync(MemberPath(memberId), new { role = "king" })).ProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.True(invalid.GetProperty("errors").TryGetProperty("role", out _));
        Assert.Equal("owner", (await JsonAsync(await owner.Client.PatchAsJsonAsync(MemberPath(memberId), new { role = "owner" }))).GetProperty("role").GetString());
        await (await owner.Client.PatchAsJsonAsync(MemberPath(Guid.NewGuid()), new { role = "member" })).ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task The_last_owner_is_never_demoted()
    {
        var owner = await NewOwnerAsync();
        var ownerId = await MemberIdAsync(owner);
        var second = await JoinAsync(owner, new { role = "owner" });

        var demoted = await JsonAsync(await owner.Client.PatchAsJsonAsync(MemberPath(ownerId), new { role = "admin" }));

        Assert.Equal("admin", demoted.GetProperty("role").GetString());
        var last = await (await second.Client.PatchAsJsonAsync(MemberPath(await MemberIdAsync(second)), new { role = "member" }))
            .ProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal("last_owner", last.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Setting_access_replaces_the_grants_and_refuses_boards_of_other_organizations()
    {
        var owner = await NewOwnerAsync();
        var member = await JoinAsync(owner);
        var memberId = await MemberIdAsync(member);
        var a = await CreateBoardAsync(owner);
        var b = await CreateBoardAsync(owner);
        var foreign = await CreateBoardAsync(await NewOwnerAsync());
        var path = MemberPath(memberId) + "/access";

        await JsonAsync(await owner.Client.PutAsJsonAsync(path, new { board_access = new[] { new { board_id = a, can_read = true, can_write = true } } }));
        var replaced = await JsonAsync(await owner.Client.PutAsJsonAsync(path,
            new { all_boards_read = true, board_access = new object[] { new { board_id = b } } }));

        var access = Assert.Single(replaced.GetProperty("board_access").EnumerateArray());
        Assert.Equal(b, access.GetProperty("board_id").GetGuid());
        Assert.True(access.GetProperty("can_read").GetBoolean());
        Assert.False(access.GetProperty("can_write").GetBoolean());
        Assert.True(replaced.GetProperty("all_boards_read").GetBoolean());
        await Bus.WaitForAsync<MemberChanged>(e => e.UserId == member.UserId && e.Change == "access");
        var principal = (await RefreshAsync(member)).Principal;
        Assert.True(principal.AllBoardsRead);
        Assert.Equal([new BoardGrant(b, true, false)], principal.Boards);
        await (await owner.Client.PutAsJsonAsync(path, new { board_access = new[] { new { board_id = foreign } } })).ProblemAsync(HttpStatusCode.UnprocessableEntity);
        await (await owner.Client.PutAsJsonAsync(path, new { board_access = new[] { new { board_id = a }, new { board_id = a } } })).ProblemAsync(HttpStatusCode.UnprocessableEntity);
        await (await member.Client.PutAsJsonAsync(path, new { all_boards_write = true })).ProblemAsync(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Removing_a_member_moves_its_active_organization_and_publishes_the_change()
    {
        var owner = await NewOwnerAsync();
        var member = await JoinAsync(owner);
        Assert.Equal(owner.OrgId, member.OrgId);
        var memberId = await MemberIdAsync(member);

        Assert.Equal(HttpStatusCode.OK, (await owner.Client.DeleteAsync(MemberPath(memberId))).StatusCode);

        await Bus.WaitForAsync<MemberChanged>(e => e.UserId == member.UserId && e.Change == "removed" && e.OrganizationId == owner.OrgId);
        var after = (await RefreshAsync(member)).Principal;
        Assert.NotEqual(owner.OrgId, after.OrganizationId);
        Assert.Equal(after.OrganizationId, await Host.WithDbAsync(db => db.Users.Where(u => u.Id == member.UserId).Select(u => u.ActiveOrganizationId).SingleAsync()));
        await (await owner.Client.DeleteAsync(MemberPath(memberId))).ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Nobody_removes_themselves_an_admin_removes_no_owner_and_the_last_owner_stays()
    {
        var owner = await NewOwnerAsync();
        var admin = await JoinAsync(owner, new { role = "admin" });
        var ownerId = await MemberIdAsync(owner);

        await (await owner.Client.DeleteAsync(MemberPath(ownerId))).ProblemAsync(HttpStatusCode.Forbidden);
        await (await admin.Client.DeleteAsync(MemberPath(ownerId))).ProblemAsync(HttpStatusCode.Forbidden);
        // An owner principal the edge still had cached for a user who is no longer an owner here.
        var stale = Host.ClientFor(TestTokens.Owner(owner.OrgId));
        var last = await (await stale.DeleteAsync(MemberPath(ownerId))).ProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal("last_owner", last.GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.OK, (await owner.Client.DeleteAsync(MemberPath(await MemberIdAsync(admin)))).StatusCode);
    }

    [Fact]
    public async Task An_owner_deletes_the_organization_and_its_members_fall_back_to_another()
    {
        var owner = await NewOwnerAsync();
        var admin = await JoinAsync(owner, new { role = "admin" });
        var board = await CreateBoardAsync(owner);

        await (await admin.Client.DeleteAsync("/api/v1/organizations/me")).ProblemAsync(HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.OK, (await owner.Client.DeleteAsync("/api/v1/organizations/me")).StatusCode);

        await Bus.WaitForAsync<OrganizationDeleted>(e => e.OrganizationId == owner.OrgId);
        await Bus.WaitForAsync<MemberChanged>(e => e.UserId == admin.UserId && e.Change == "removed" && e.OrganizationId == owner.OrgId);
        Assert.NotEqual(owner.OrgId, (await RefreshAsync(admin)).Principal.OrganizationId);
        Assert.NotEqual(owner.OrgId, (await RefreshAsync(owner)).Principal.OrganizationId);
        Assert.False(await Host.WithDbAsync(db => db.Boards.AnyAsync(b => b.Id == board)));
        await (await owner.Client.GetAsync("/api/v1/organizations/me")).ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Switching_the_active_organization_publishes_the_change()
    {
        var owner = await NewOwnerAsync();
        var personal = await Host.WithDbAsync(db => db.Members.Where(m => m.UserId == owner.UserId && m.OrganizationId != owner.OrgId)
            .Select(m => m.OrganizationId).SingleAsync());

        await Bus.WaitForAsync<MemberChanged>(e => e.UserId == owner.UserId && e.Change == "added" && e.OrganizationId == owner.OrgId);

        await JsonAsync(await owner.Client.PatchAsJsonAsync("/api/v1/organizations/me/active", new { organization_id = personal }));

        await Bus.WaitForAsync<MemberChanged>(e => e.UserId == owner.UserId && e.Change == "active_organization" && e.OrganizationId == personal);
        Assert.Equal(personal, (await RefreshAsync(owner)).Principal.OrganizationId);
    }
}

[Collection(InfrastructureCollection.Collection)]
public sealed class MembersApiOnSqliteTests(BrokerFixture broker, OrgsHost host) : MembersApiTests(broker, host), IClassFixture<OrgsHost>
{
    protected override string NewDatabase() => Databases.NewSqlite();
}

[Collection(InfrastructureCollection.Collection)]
public sealed class MembersApiOnPostgresTests(BrokerFixture broker, PostgresFixture postgres, OrgsHost host) : MembersApiTests(broker, host), IClassFixture<OrgsHost>
{
    protected override string NewDatabase() => postgres.ConnectionStringForNewDatabase("orgs");
}
