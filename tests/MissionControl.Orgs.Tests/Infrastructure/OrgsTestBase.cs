using Microsoft.Extensions.Hosting;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MissionControl.InternalAuth;

namespace MissionControl.Orgs.Tests.Infrastructure;

/// <summary>A user as the edge would forward it: its principal and a client that calls with it.</summary>
public sealed record Actor(HttpClient Client, ResolvedUser Principal, string ExternalId, string Email)
{
    public Guid UserId => Principal.UserId;
    public Guid OrgId => Principal.OrganizationId!.Value;
}

/// <summary>Helpers every orgs test uses; the shared service comes from <see cref="OrgsHost"/>.</summary>
public abstract class OrgsTestBase(BrokerFixture broker, OrgsHost host) : IAsyncLifetime
{
    protected OrgsHost Host => host;
    protected BusProbe Bus => host.Bus;

    /// <summary>A connection string for a database nobody uses yet (called once per class).</summary>
    protected abstract string NewDatabase();

    protected virtual IReadOnlyDictionary<string, string?>? Settings => null;

    public Task InitializeAsync() => host.StartAsync(broker.ConnectionString, NewDatabase, Settings);

    public Task DisposeAsync() => Task.CompletedTask;

    protected static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    /// <summary>A new identity's first call: a user with its Personal organization.</summary>
    protected async Task<Actor> NewUserAsync(string? email = null)
    {
        var external = Unique("oidc:test|user");
        email ??= $"{Unique("user")}@example.test";
        var principal = await host.ResolveAsync(external, email, "Test User");
        return new Actor(host.ClientFor(principal.ToPrincipal()), principal, external, email);
    }

    /// <summary>The caller's principal as the edge would resolve it now (after role or access changes).</summary>
    protected async Task<Actor> RefreshAsync(Actor actor)
    {
        var principal = await host.ResolveAsync(actor.ExternalId, actor.Email);
        return actor with { Client = host.ClientFor(principal.ToPrincipal()), Principal = principal };
    }

    /// <summary>A new user that owns a new (non-personal) organization, which is its active one.</summary>
    protected async Task<Actor> NewOwnerAsync()
    {
        var user = await NewUserAsync();
        var response = await user.Client.PostAsJsonAsync("/api/v1/organizations", new { name = Unique("Org") });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await RefreshAsync(user);
    }

    /// <summary>The local admin token's user: the instance admin.</summary>
    protected async Task<Actor> InstanceAdminAsync()
    {
        var principal = await host.ResolveAsync("local-admin", "admin@localhost", "Local Admin");
        return new Actor(host.ClientFor(principal.ToPrincipal()), principal, "local-admin", "admin@localhost");
    }

    /// <summary>Invites a new user into the owner's organization with <paramref name="invite"/> and has them accept.</summary>
    protected async Task<Actor> JoinAsync(Actor owner, object? invite = null)
    {
        var joiner = await NewUserAsync();
        var body = JsonSerializer.SerializeToElement(invite ?? new { role = "member" }, JsonDefaults.Api);
        var fields = body.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value);
        fields["invited_email"] = joiner.Email;
        var created = await owner.Client.PostAsJsonAsync("/api/v1/organizations/me/invites", fields);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var token = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString();
        var accepted = await joiner.Client.PostAsJsonAsync("/api/v1/organizations/invites/accept", new { token });
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        return await RefreshAsync(joiner);
    }

    protected static async Task<JsonElement> JsonAsync(HttpResponseMessage response, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"Expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    protected static Guid IdOf(JsonElement json) => json.GetProperty("id").GetGuid();

    protected static async Task<Guid> CreateBoardAsync(Actor owner, string? name = null, object? extra = null)
    {
        var fields = extra is null ? new Dictionary<string, object?>()
            : JsonSerializer.SerializeToElement(extra, JsonDefaults.Api).EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value);
        fields.TryAdd("name", name ?? Unique("Board"));
        fields.TryAdd("description", "A board for tests");
        fields.TryAdd("board_type", "general");
        return IdOf(await JsonAsync(await owner.Client.PostAsJsonAsync("/api/v1/boards", fields), HttpStatusCode.Created));
    }
}
