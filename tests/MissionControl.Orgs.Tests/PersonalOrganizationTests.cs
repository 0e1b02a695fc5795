using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Orgs;
using MissionControl.Orgs.Tests.Infrastructure;

namespace MissionControl.Orgs.Tests;

/// <summary>A user's first call gives it a "Personal" organization it owns; every user may have one.</summary>
public abstract class PersonalOrganizationTests(BrokerFixture broker, OrgsHost host) : OrgsTestBase(broker, host)
{
    [Fact]
    public async Task The_first_call_makes_a_personal_organization_owned_by_the_user()
    {
        var user = await NewUserAsync();

        Assert.Equal("owner", user.Principal.Role);
        Assert.True(user.Principal.AllBoardsRead && user.Principal.AllBoardsWrite);
        var org = await JsonAsync(await user.Client.GetAsync("/api/v1/organizations/me"));
        Assert.Equal("Personal", org.GetProperty("name").GetString());
        Assert.True(org.GetProperty("is_personal").GetBoolean());
        var (_, created) = await Bus.WaitForAsync<OrganizationCreated>(e => e.OrganizationId == user.OrgId);
        Assert.Equal(user.UserId, created.CreatedByUserId);
        await Bus.WaitForAsync<MemberChanged>(e => e.OrganizationId == user.OrgId && e.UserId == user.UserId && e.Change == "added");
        Assert.Equal(user.OrgId, (await RefreshAsync(user)).OrgId);
    }

    [Fact]
    public async Task Personal_organizations_share_a_name_without_taking_it_from_others()
    {
        var (first, second) = (await NewUserAsync(), await NewUserAsync());
        Assert.NotEqual(first.OrgId, second.OrgId);

        var named = await first.Client.PostAsJsonAsync("/api/v1/organizations", new { name = "personal" });
        var again = await second.Client.PostAsJsonAsync("/api/v1/organizations", new { name = "PERSONAL" });

        Assert.Equal(HttpStatusCode.Created, named.StatusCode);
        await again.ProblemAsync(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Concurrent_first_calls_make_one_user_and_one_organization()
    {
        var external = Unique("oidc:test|racer");
        var email = $"{Unique("racer")}@example.test";

        var answers = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Host.ResolveAsync(external, email, "Racer")));

        Assert.Single(answers.Select(a => a.UserId).Distinct());
        Assert.Single(answers.Select(a => a.OrganizationId).Distinct());
        Assert.NotNull(answers[0].OrganizationId);
        Assert.Equal(1, await Host.WithDbAsync(db => db.Members.CountAsync(m => m.UserId == answers[0].UserId)));
    }

    [Fact]
    public async Task A_user_left_without_any_organization_gets_a_new_personal_one()
    {
        var user = await NewUserAsync();
        Assert.Equal(HttpStatusCode.OK, (await user.Client.DeleteAsync("/api/v1/organizations/me")).StatusCode);

        var after = (await RefreshAsync(user)).Principal;

        Assert.NotNull(after.OrganizationId);
        Assert.NotEqual(user.OrgId, after.OrganizationId);
        Assert.Equal("owner", after.Role);
    }
}

[Collection(InfrastructureCollection.Collection)]
public sealed class PersonalOrganizationOnSqliteTests(BrokerFixture broker, OrgsHost host) : PersonalOrganizationTests(broker, host), IClassFixture<OrgsHost>
{
    protected override string NewDatabase() => Databases.NewSqlite();
}

[Collection(InfrastructureCollection.Collection)]
public sealed class PersonalOrganizationOnPostgresTests(BrokerFixture broker, PostgresFixture postgres, OrgsHost host) : PersonalOrganizationTests(broker, host), IClassFixture<OrgsHost>
{
    protected override string NewDatabase() => postgres.ConnectionStringForNewDatabase("orgs");
}
