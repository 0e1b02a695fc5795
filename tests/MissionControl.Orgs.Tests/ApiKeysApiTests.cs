using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Orgs;
using MissionControl.InternalAuth;
using MissionControl.Orgs.Tests.Infrastructure;

namespace MissionControl.Orgs.Tests;

/// <summary>API keys and their resolution by the edge.</summary>
public abstract class ApiKeysApiTests(BrokerFixture broker, OrgsHost host) : OrgsTestBase(broker, host)
{
    private Task<HttpResponseMessage> ResolveKeyAsync(string? key) =>
        Host.Edge().PostAsJsonAsync("/internal/v1/principals/resolve-api-key", new { key });

    private static async Task<JsonElement> CreateKeyAsync(Actor user, object? body = null) =>
        await JsonAsync(await user.Client.PostAsJsonAsync("/api/v1/users/me/api-keys", body ?? new { name = "ci" }), HttpStatusCode.Created);

    [Fact]
    public async Task A_new_key_is_shown_once_and_resolves_to_its_owner()
    {
        var owner = await NewOwnerAsync();

        var created = await CreateKeyAsync(owner, new { name = "  deploy bot ", expires_at = DateTimeOffset.UtcNow.AddDays(30) });
        var key = created.GetProperty("key").GetString()!;
        var resolved = await JsonAsync(await ResolveKeyAsync(key));

        Assert.Matches("^mc_[A-Za-z0-9_-]{43}$", key);
        Assert.Equal(key[..10], created.GetProperty("prefix").GetString());
        Assert.Equal("deploy bot", created.GetProperty("name").GetString());
        Assert.Equal(owner.UserId, resolved.GetProperty("user_id").GetGuid());
        Assert.Equal(owner.OrgId, resolved.GetProperty("organization_id").GetGuid());
        Assert.Equal("owner", resolved.GetProperty("role").GetString());
        Assert.Equal("Test User", resolved.GetProperty("name").GetString());
        Assert.False(resolved.GetProperty("is_instance_admin").GetBoolean());
        var listed = Assert.Single((await JsonAsync(await owner.Client.GetAsync("/api/v1/users/me/api-keys"))).GetProperty("items").EnumerateArray());
        Assert.False(listed.TryGetProperty("key", out _));
        Assert.Equal(created.GetProperty("prefix").GetString(), listed.GetProperty("prefix").GetString());
        Assert.NotEqual(JsonValueKind.Null, listed.GetProperty("last_used_at").ValueKind);
        Assert.NotEqual(JsonValueKind.Null, listed.GetProperty("expires_at").ValueKind);
    }

    [Fact]
    public async Task Last_use_is_recorded_at_most_once_a_minute()
    {
        var user = await NewUserAsync();
        var created = await CreateKeyAsync(user);
        var key = created.GetProperty("key").GetString();
        var id = IdOf(created);

        await JsonAsync(await ResolveKeyAsync(key));
        var first = await Host.WithDbAsync(db => db.ApiKeys.Where(k => k.Id == id).Select(k => k.LastUsedAt).SingleAsync());
        await JsonAsync(await ResolveKeyAsync(key));
        var second = await Host.WithDbAsync(db => db.ApiKeys.Where(k => k.Id == id).Select(k => k.LastUsedAt).SingleAsync());
        var old = DateTime.UtcNow.AddMinutes(-5);
        await Host.WithDbAsync(db => db.ApiKeys.Where(k => k.Id == id).ExecuteUpdateAsync(s => s.SetProperty(k => k.LastUsedAt, old)));
        await JsonAsync(await ResolveKeyAsync(key));
        var third = await Host.WithDbAsync(db => db.ApiKeys.Where(k => k.Id == id).Select(k => k.LastUsedAt).SingleAsync());

        Assert.NotNull(first);
        Assert.Equal(first, second);
        Assert.True(third > old.AddMinutes(4));
    }

    [Fact]
    public async Task A_deleted_key_no_longer_resolves_and_its_revocation_is_published()
    {
        var user = await NewUserAsync();
        var created = await CreateKeyAsync(user);
        var key = created.GetProperty("key").GetString();
        await JsonAsync(await ResolveKeyAsync(key));

        Assert.Equal(HttpStatusCode.OK, (await user.Client.DeleteAsync($"/api/v1/users/me/api-keys/{IdOf(created)}")).StatusCode);

        var (_, revoked) = await Bus.WaitForAsync<CredentialRevoked>(e => e.ApiKeyId == IdOf(created));
        Assert.Equal(user.UserId, revoked.UserId);
        Assert.Equal(Guid.Empty, revoked.OrganizationId);
        var problem = await (await ResolveKeyAsync(key)).ProblemAsync(HttpStatusCode.NotFound);
        Assert.Equal("unknown_api_key", problem.GetProperty("code").GetString());
        await (await user.Client.DeleteAsync($"/api/v1/users/me/api-keys/{IdOf(created)}")).ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task An_expired_or_unknown_key_does_not_resolve()
    {
        var user = await NewUserAsync();
        var created = await CreateKeyAsync(user, new { name = "short", expires_at = DateTimeOffset.UtcNow.AddMinutes(5) });
        var id = IdOf(created);
        await Host.WithDbAsync(db => db.ApiKeys.Where(k => k.Id == id).ExecuteUpdateAsync(s => s.SetProperty(k => k.ExpiresAt, DateTime.UtcNow.AddSeconds(-1))));

        await (await ResolveKeyAsync(created.GetProperty("key").GetString())).ProblemAsync(HttpStatusCode.NotFound);
        await (await ResolveKeyAsync("mc_" + new string('A', 43))).ProblemAsync(HttpStatusCode.NotFound);
        await (await ResolveKeyAsync("")).ProblemAsync(HttpStatusCode.NotFound);
        await (await ResolveKeyAsync(new string('x', 5000))).ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Keys_need_a_name_a_future_expiry_and_a_user_caller()
    {
        var user = await NewUserAsync();
        var agent = Host.ClientFor(new McPrincipal { Kind = PrincipalKind.Agent, Subject = Guid.NewGuid().ToString(), OrganizationId = user.OrgId });

        var invalid = await (await user.Client.PostAsJsonAsync("/api/v1/users/me/api-keys",
            new { name = " ", expires_at = DateTimeOffset.UtcNow.AddMinutes(-1) })).ProblemAsync(HttpStatusCode.UnprocessableEntity);

        Assert.Equal(["expires_at", "name"], invalid.GetProperty("errors").EnumerateObject().Select(p => p.Name).Order());
        await (await agent.PostAsJsonAsync("/api/v1/users/me/api-keys", new { name = "x" })).ProblemAsync(HttpStatusCode.Forbidden);
        await (await agent.GetAsync("/api/v1/users/me/api-keys")).ProblemAsync(HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Host.Anonymous().PostAsJsonAsync("/api/v1/users/me/api-keys", new { name = "x" })).StatusCode);
    }

    [Fact]
    public async Task Nobody_deletes_or_sees_another_users_key()
    {
        var alice = await NewUserAsync();
        var bob = await NewUserAsync();
        var key = await CreateKeyAsync(alice);

        await (await bob.Client.DeleteAsync($"/api/v1/users/me/api-keys/{IdOf(key)}")).ProblemAsync(HttpStatusCode.NotFound);

        Assert.Equal(0, (await JsonAsync(await bob.Client.GetAsync("/api/v1/users/me/api-keys"))).GetProperty("total").GetInt32());
        await JsonAsync(await ResolveKeyAsync(key.GetProperty("key").GetString()));
    }

    [Fact]
    public async Task The_instance_admin_creates_keys_for_users_it_created()
    {
        var admin = await InstanceAdminAsync();
        var someone = await NewOwnerAsync();
        var created = await JsonAsync(await admin.Client.PostAsJsonAsync("/api/v1/users",
            new { email = $"{Unique("robot")}@example.test", name = "Robot" }), HttpStatusCode.Created);

        var key = await JsonAsync(await admin.Client.PostAsJsonAsync($"/api/v1/users/{IdOf(created)}/api-keys", new { name = "robot key" }), HttpStatusCode.Created);
        var resolved = await JsonAsync(await ResolveKeyAsync(key.GetProperty("key").GetString()));

        Assert.Equal(IdOf(created), resolved.GetProperty("user_id").GetGuid());
        // A user with no membership gets its Personal organization on its first call.
        Assert.Equal("owner", resolved.GetProperty("role").GetString());
        await (await someone.Client.PostAsJsonAsync($"/api/v1/users/{IdOf(created)}/api-keys", new { name = "x" })).ProblemAsync(HttpStatusCode.Forbidden);
        await (await admin.Client.PostAsJsonAsync($"/api/v1/users/{Guid.NewGuid()}/api-keys", new { name = "x" })).ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Only_services_resolve_keys()
    {
        var user = await NewUserAsync();
        var key = (await CreateKeyAsync(user)).GetProperty("key").GetString();

        await (await user.Client.PostAsJsonAsync("/internal/v1/principals/resolve-api-key", new { key })).ProblemAsync(HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Host.Anonymous().PostAsJsonAsync("/internal/v1/principals/resolve-api-key", new { key })).StatusCode);
    }
}

[Collection(InfrastructureCollection.Collection)]
public sealed class ApiKeysApiOnSqliteTests(BrokerFixture broker, OrgsHost host) : ApiKeysApiTests(broker, host), IClassFixture<OrgsHost>
{
    protected override string NewDatabase() => Databases.NewSqlite();
}

[Collection(InfrastructureCollection.Collection)]
public sealed class ApiKeysApiOnPostgresTests(BrokerFixture broker, PostgresFixture postgres, OrgsHost host) : ApiKeysApiTests(broker, host), IClassFixture<OrgsHost>
{
    protected override string NewDatabase() => postgres.ConnectionStringForNewDatabase("orgs");
}
