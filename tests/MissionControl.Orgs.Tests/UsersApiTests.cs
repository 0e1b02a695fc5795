using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Orgs;
using MissionControl.InternalAuth;
using MissionControl.Orgs.Tests.Infrastructure;

namespace MissionControl.Orgs.Tests;

/// <summary>Users: the instance admin, creating and listing users, /users/me, and linking identities to users.</summary>
public abstract class UsersApiTests(BrokerFixture broker, OrgsHost host) : OrgsTestBase(broker, host)
{
    [Fact]
    public async Task The_local_admin_resolves_as_the_instance_admin_with_its_name()
    {
        var admin = await InstanceAdminAsync();
        var someone = await NewUserAsync();

        Assert.True(admin.Principal.IsInstanceAdmin);
        Assert.Equal("Local Admin", admin.Principal.Name);
        Assert.False(someone.Principal.IsInstanceAdmin);
        Assert.Equal("Test User", someone.Principal.Name);
        var me = await JsonAsync(await admin.Client.GetAsync("/api/v1/users/me"));
        Assert.True(me.GetProperty("is_super_admin").GetBoolean());
        Assert.True(me.GetProperty("is_instance_admin").GetBoolean());
        Assert.Equal("local-admin", me.GetProperty("external_id").GetString());
    }

    [Fact]
    public async Task The_instance_admin_creates_and_lists_users()
    {
        var admin = await InstanceAdminAsync();
        var email = $"{Unique("New.Person")}@Example.test";

        var created = await JsonAsync(await admin.Client.PostAsJsonAsync("/api/v1/users", new { email, name = " New Person " }), HttpStatusCode.Created);

        Assert.Equal(email, created.GetProperty("email").GetString());
        Assert.Equal("New Person", created.GetProperty("name").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, created.GetProperty("external_id").ValueKind);
        Assert.False(created.GetProperty("is_super_admin").GetBoolean());
        var page = await JsonAsync(await admin.Client.GetAsync("/api/v1/users?limit=200"));
        Assert.Contains(page.GetProperty("items").EnumerateArray(), u => u.GetProperty("id").GetGuid() == IdOf(created));
        Assert.True(page.GetProperty("total").GetInt32() >= 2);
    }

    [Fact]
    public async Task Creating_users_needs_the_instance_admin_a_valid_email_a_name_and_a_new_email()
    {
        var admin = await InstanceAdminAsync();
        var owner = await NewOwnerAsync();
        var email = $"{Unique("dup")}@example.test";
        Assert.Equal(HttpStatusCode.Created, (await admin.Client.PostAsJsonAsync("/api/v1/users", new { email, name = "A" })).StatusCode);

        await (await owner.Client.PostAsJsonAsync("/api/v1/users", new { email = "x@example.test", name = "X" })).ProblemAsync(HttpStatusCode.Forbidden);
        await (await owner.Client.GetAsync("/api/v1/users")).ProblemAsync(HttpStatusCode.Forbidden);
        var agent = Host.ClientFor(new McPrincipal { Kind = PrincipalKind.Agent, Subject = Guid.NewGuid().ToString(), OrganizationId = owner.OrgId, IsInstanceAdmin = true });
        await (await agent.PostAsJsonAsync("/api/v1/users", new { email = "y@example.test", name = "Y" })).ProblemAsync(HttpStatusCode.Forbidden);
        var duplicate = await (await admin.Client.PostAsJsonAsync("/api/v1/users", new { email = email.ToUpperInvariant(), name = "B" })).ProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal("email_taken", duplicate.GetProperty("code").GetString());
        var invalid = await (await admin.Client.PostAsJsonAsync("/api/v1/users", new { email = "not an email", name = "  " })).ProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal(["email", "name"], invalid.GetProperty("errors").EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal(HttpStatusCode.Unauthorized, (await Host.Anonymous().GetAsync("/api/v1/users")).StatusCode);
    }

    [Fact]
    public async Task An_identity_signing_in_with_the_email_of_an_admin_created_user_becomes_that_user()
    {
        var admin = await InstanceAdminAsync();
        var email = $"{Unique("linked")}@example.test";
        var created = await JsonAsync(await admin.Client.PostAsJsonAsync("/api/v1/users", new { email, name = "Linked" }), HttpStatusCode.Created);

        var first = await Host.ResolveAsync(Unique("oidc:issuer|sub"), email.ToUpperInvariant(), "Other Name");
        var second = await Host.ResolveAsync(Unique("oidc:issuer|sub"), email, "Third");

        Assert.Equal(IdOf(created), first.UserId);
        Assert.Equal("Linked", first.Name);
        Assert.NotEqual(first.UserId, second.UserId);
    }

    [Fact]
    public async Task Users_read_and_update_their_own_profile()
    {
        var user = await NewUserAsync();

        var updated = await JsonAsync(await user.Client.PatchAsJsonAsync("/api/v1/users/me",
            new { preferred_name = "Sam", pronouns = "they/them", timezone = "Europe/Paris", notes = "n", context = "c" }));
        var cleared = await JsonAsync(await user.Client.PatchAsJsonAsync("/api/v1/users/me", new { notes = (string?)null, name = "Samuel" }));
        var bootstrap = await JsonAsync(await user.Client.PostAsync("/api/v1/auth/bootstrap", null));

        Assert.Equal("Sam", updated.GetProperty("preferred_name").GetString());
        Assert.Equal("Test User", updated.GetProperty("name").GetString());
        Assert.Equal("Europe/Paris", cleared.GetProperty("timezone").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, cleared.GetProperty("notes").ValueKind);
        Assert.Equal("Samuel", cleared.GetProperty("name").GetString());
        Assert.Equal(user.UserId, IdOf(bootstrap));
        Assert.Equal(user.Email, bootstrap.GetProperty("email").GetString());
        Assert.Equal("Sam", (await RefreshAsync(user)).Principal.Name);
        await (await user.Client.PatchAsJsonAsync("/api/v1/users/me", new { name = " " })).ProblemAsync(HttpStatusCode.UnprocessableEntity);
        await (await Host.ClientFor(TestTokens.Owner(user.OrgId)).GetAsync("/api/v1/users/me")).ProblemAsync(HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Host.Anonymous().GetAsync("/api/v1/users/me")).StatusCode);
    }

    [Fact]
    public async Task Deleting_yourself_removes_your_keys_memberships_and_organizations_only_you_belong_to()
    {
        var user = await NewUserAsync();
        var personal = user.OrgId;
        var shared = await NewOwnerAsync();
        var member = await JoinAsync(shared);
        var key = (await JsonAsync(await member.Client.PostAsJsonAsync("/api/v1/users/me/api-keys", new { name = "ci" }), HttpStatusCode.Created))
            .GetProperty("key").GetString();
        var memberPersonal = await Host.WithDbAsync(db => db.Members.Where(m => m.UserId == member.UserId && m.OrganizationId != shared.OrgId)
            .Select(m => m.OrganizationId).SingleAsync());

        Assert.Equal(HttpStatusCode.OK, (await member.Client.DeleteAsync("/api/v1/users/me")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await user.Client.DeleteAsync("/api/v1/users/me")).StatusCode);

        await Bus.WaitForAsync<CredentialRevoked>(e => e.UserId == member.UserId && e.ApiKeyId == null);
        await Bus.WaitForAsync<OrganizationDeleted>(e => e.OrganizationId == personal);
        await Bus.WaitForAsync<OrganizationDeleted>(e => e.OrganizationId == memberPersonal);
        await Bus.WaitForAsync<MemberChanged>(e => e.UserId == member.UserId && e.OrganizationId == shared.OrgId && e.Change == "user_deleted");
        Assert.Equal(HttpStatusCode.NotFound, (await Host.Edge().PostAsJsonAsync("/internal/v1/principals/resolve-api-key", new { key })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await shared.Client.GetAsync("/api/v1/organizations/me")).StatusCode);
        Assert.False(await Host.WithDbAsync(db => db.Organizations.AnyAsync(o => o.Id == personal)));
        Assert.False(await Host.WithDbAsync(db => db.Members.AnyAsync(m => m.UserId == member.UserId)));
        await (await member.Client.GetAsync("/api/v1/users/me")).ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task The_last_owner_of_an_organization_others_belong_to_cannot_delete_themselves()
    {
        var owner = await NewOwnerAsync();
        await JoinAsync(owner);

        var problem = await (await owner.Client.DeleteAsync("/api/v1/users/me")).ProblemAsync(HttpStatusCode.UnprocessableEntity);

        Assert.Equal("last_owner", problem.GetProperty("code").GetString());
        Assert.Equal(owner.OrgId, problem.GetProperty("organization_id").GetGuid());
        Assert.Equal(HttpStatusCode.OK, (await owner.Client.GetAsync("/api/v1/users/me")).StatusCode);
    }
}

[Collection(InfrastructureCollection.Collection)]
public sealed class UsersApiOnSqliteTests(BrokerFixture broker, OrgsHost host) : UsersApiTests(broker, host), IClassFixture<OrgsHost>
{
    protected override string NewDatabase() => Databases.NewSqlite();
}

[Collection(InfrastructureCollection.Collection)]
public sealed class UsersApiOnPostgresTests(BrokerFixture broker, PostgresFixture postgres, OrgsHost host) : UsersApiTests(broker, host), IClassFixture<OrgsHost>
{
    protected override string NewDatabase() => postgres.ConnectionStringForNewDatabase("orgs");
}
