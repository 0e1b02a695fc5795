using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Orgs;
using MissionControl.InternalAuth;
using MissionControl.Orgs.Tests.Infrastructure;

namespace MissionControl.Orgs.Tests;

/// <summary>Invites: creation, listing, acceptance (explicit and on a first call), expiry and merging.</summary>
public abstract class InvitesApiTests(BrokerFixture broker, OrgsHost host) : OrgsTestBase(broker, host)
{
    private const string Invites = "/api/v1/organizations/me/invites";
    private const string Accept = "/api/v1/organizations/invites/accept";

    private static async Task<JsonElement> InviteAsync(Actor admin, object body) =>
        await JsonAsync(await admin.Client.PostAsJsonAsync(Invites, body), HttpStatusCode.Created);

    [Fact]
    public async Task An_invite_shows_its_token_once_and_expires_after_the_configured_lifetime()
    {
        var owner = await NewOwnerAsync();
        var board = await CreateBoardAsync(owner);
        var email = $"{Unique("Guest")}@Example.test";

        var created = await InviteAsync(owner, new { invited_email = email, role = "admin", board_access = new[] { new { board_id = board, can_write = true } } });

        var token = created.GetProperty("token").GetString()!;
        Assert.True(token.Length >= 32);
        Assert.Equal(email.ToLowerInvariant(), created.GetProperty("invited_email").GetString());
        Assert.Equal("admin", created.GetProperty("role").GetString());
        var expires = created.GetProperty("expires_at").GetDateTime();
        Assert.InRange(expires, DateTime.UtcNow.AddDays(7).AddMinutes(-5), DateTime.UtcNow.AddDays(7).AddMinutes(5));
        var grant = Assert.Single(created.GetProperty("board_access").EnumerateArray());
        Assert.True(grant.GetProperty("can_read").GetBoolean() && grant.GetProperty("can_write").GetBoolean());
        var listed = Assert.Single((await JsonAsync(await owner.Client.GetAsync(Invites))).GetProperty("items").EnumerateArray());
        Assert.Equal(IdOf(created), IdOf(listed));
        Assert.False(listed.TryGetProperty("token", out _));
    }

    [Fact]
    public async Task Accepting_joins_with_the_invites_grants_and_makes_the_organization_active()
    {
        var owner = await NewOwnerAsync();
        var board = await CreateBoardAsync(owner);
        var guest = await NewUserAsync();
        var token = (await InviteAsync(owner, new { invited_email = guest.Email.ToUpperInvariant(), all_boards_read = true, board_access = new[] { new { board_id = board, can_write = true } } }))
            .GetProperty("token").GetString();

        var member = await JsonAsync(await guest.Client.PostAsJsonAsync(Accept, new { token }));

        Assert.Equal(owner.OrgId, member.GetProperty("organization_id").GetGuid());
        Assert.Equal("member", member.GetProperty("role").GetString());
        await Bus.WaitForAsync<MemberChanged>(e => e.UserId == guest.UserId && e.OrganizationId == owner.OrgId && e.Change == "added");
        var principal = (await RefreshAsync(guest)).Principal;
        Assert.Equal(owner.OrgId, principal.OrganizationId);
        Assert.True(principal.AllBoardsRead);
        Assert.False(principal.AllBoardsWrite);
        Assert.Equal([new BoardGrant(board, true, true)], principal.Boards);
        Assert.Equal(0, (await JsonAsync(await owner.Client.GetAsync(Invites))).GetProperty("total").GetInt32());
        var again = await (await guest.Client.PostAsJsonAsync(Accept, new { token })).ProblemAsync(HttpStatusCode.NotFound);
        Assert.Equal("unknown_invite", again.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Accepting_as_a_member_merges_grants_never_lowering_the_role()
    {
        var owner = await NewOwnerAsync();
        var a = await CreateBoardAsync(owner);
        var b = await CreateBoardAsync(owner);
        var member = await JoinAsync(owner, new { role = "admin", board_access = new[] { new { board_id = a, can_write = true } } });
        // Invites to members' emails are refused, so this one is made for another email first and then re-addressed.
        var invite = await InviteAsync(owner, new { invited_email = $"{Unique("x")}@example.test", role = "member", all_boards_read = true,
            board_access = new[] { new { board_id = a, can_write = false }, new { board_id = b, can_write = false } } });
        await Host.WithDbAsync(db => db.Invites.Where(i => i.Id == IdOf(invite)).ExecuteUpdateAsync(s => s.SetProperty(i => i.InvitedEmail, member.Email)));

        var merged = await JsonAsync(await member.Client.PostAsJsonAsync(Accept, new { token = invite.GetProperty("token").GetString() }));

        Assert.Equal("admin", merged.GetProperty("role").GetString());
        Assert.True(merged.GetProperty("all_boards_read").GetBoolean());
        var grants = merged.GetProperty("board_access").EnumerateArray()
            .ToDictionary(g => g.GetProperty("board_id").GetGuid(), g => (g.GetProperty("can_read").GetBoolean(), g.GetProperty("can_write").GetBoolean()));
        Assert.Equal((true, true), grants[a]);
        Assert.Equal((true, false), grants[b]);
        await Bus.WaitForAsync<MemberChanged>(e => e.UserId == member.UserId && e.Change == "access");
    }

    [Fact]
    public async Task An_expired_invite_is_gone_and_a_wrong_email_is_refused()
    {
        var owner = await NewOwnerAsync();
        var guest = await NewUserAsync();
        var stranger = await NewUserAsync();
        var invite = await InviteAsync(owner, new { invited_email = guest.Email });
        var token = invite.GetProperty("token").GetString();

        var mismatch = await (await stranger.Client.PostAsJsonAsync(Accept, new { token })).ProblemAsync(HttpStatusCode.Forbidden);
        await Host.WithDbAsync(db => db.Invites.Where(i => i.Id == IdOf(invite)).ExecuteUpdateAsync(s => s.SetProperty(i => i.ExpiresAt, DateTime.UtcNow.AddSeconds(-1))));
        var expired = await (await guest.Client.PostAsJsonAsync(Accept, new { token })).ProblemAsync(HttpStatusCode.Gone);

        Assert.Equal("invite_email_mismatch", mismatch.GetProperty("code").GetString());
        Assert.Equal("invite_expired", expired.GetProperty("code").GetString());
        await (await guest.Client.PostAsJsonAsync(Accept, new { token = "not-a-token" })).ProblemAsync(HttpStatusCode.NotFound);
        await (await guest.Client.PostAsJsonAsync(Accept, new { token = " " })).ProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Host.Anonymous().PostAsJsonAsync(Accept, new { token })).StatusCode);
    }

    [Fact]
    public async Task Invites_are_for_admins_valid_emails_boards_of_the_organization_and_people_not_yet_members()
    {
        var owner = await NewOwnerAsync();
        var admin = await JoinAsync(owner, new { role = "admin" });
        var member = await JoinAsync(owner);
        var foreign = await CreateBoardAsync(await NewOwnerAsync());

        await (await member.Client.PostAsJsonAsync(Invites, new { invited_email = "a@example.test" })).ProblemAsync(HttpStatusCode.Forbidden);
        await (await member.Client.GetAsync(Invites)).ProblemAsync(HttpStatusCode.Forbidden);
        await (await admin.Client.PostAsJsonAsync(Invites, new { invited_email = "a@example.test", role = "owner" })).ProblemAsync(HttpStatusCode.Forbidden);
        var existing = await (await admin.Client.PostAsJsonAsync(Invites, new { invited_email = member.Email.ToUpperInvariant() })).ProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal("already_member", existing.GetProperty("code").GetString());
        var invalid = await (await admin.Client.PostAsJsonAsync(Invites,
            new { invited_email = "nope", role = "boss", board_access = new[] { new { board_id = foreign } } })).ProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal(["board_access", "invited_email", "role"], invalid.GetProperty("errors").EnumerateObject().Select(p => p.Name).Order());
    }

    [Fact]
    public async Task Admins_delete_invites_of_their_own_organization_only()
    {
        var owner = await NewOwnerAsync();
        var other = await NewOwnerAsync();
        var invite = await InviteAsync(owner, new { invited_email = $"{Unique("d")}@example.test" });

        await (await other.Client.DeleteAsync($"{Invites}/{IdOf(invite)}")).ProblemAsync(HttpStatusCode.NotFound);
        var deleted = await JsonAsync(await owner.Client.DeleteAsync($"{Invites}/{IdOf(invite)}"));

        Assert.Equal(IdOf(invite), IdOf(deleted));
        Assert.False(deleted.TryGetProperty("token", out _));
        await (await owner.Client.PostAsJsonAsync(Accept, new { token = invite.GetProperty("token").GetString() })).ProblemAsync(HttpStatusCode.NotFound);
        await (await owner.Client.DeleteAsync($"{Invites}/{IdOf(invite)}")).ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_first_call_accepts_the_oldest_pending_invite_instead_of_making_a_personal_organization()
    {
        var first = await NewOwnerAsync();
        var second = await NewOwnerAsync();
        var email = $"{Unique("newcomer")}@example.test";
        await InviteAsync(first, new { invited_email = email, role = "admin" });
        await InviteAsync(second, new { invited_email = email });

        var resolved = await Host.ResolveAsync(Unique("oidc:test|newcomer"), email, "Newcomer");

        Assert.Equal(first.OrgId, resolved.OrganizationId);
        Assert.Equal("admin", resolved.Role);
        Assert.Equal(1, await Host.WithDbAsync(db => db.Members.CountAsync(m => m.UserId == resolved.UserId)));
        await Bus.WaitForAsync<MemberChanged>(e => e.UserId == resolved.UserId && e.Change == "added" && e.OrganizationId == first.OrgId);
    }
}

[Collection(InfrastructureCollection.Collection)]
public sealed class InvitesApiOnSqliteTests(BrokerFixture broker, OrgsHost host) : InvitesApiTests(broker, host), IClassFixture<OrgsHost>
{
    protected override string NewDatabase() => Databases.NewSqlite();
}

[Collection(InfrastructureCollection.Collection)]
public sealed class InvitesApiOnPostgresTests(BrokerFixture broker, PostgresFixture postgres, OrgsHost host) : InvitesApiTests(broker, host), IClassFixture<OrgsHost>
{
    protected override string NewDatabase() => postgres.ConnectionStringForNewDatabase("orgs");
}
