using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MissionControl.Contracts.Agents;
using MissionControl.InternalAuth;

namespace MissionControl.EndToEnd.Tests;

/// <summary>
/// Every way in, through the edge process: the admin token, OIDC JWTs from a local issuer (its JWKS
/// given by configuration, no network), agent tokens resolved by (a stand-in of) the agents service,
/// and the one public route.
/// </summary>
[Collection(SystemCollection.Collection)]
public sealed class CredentialsThroughEdgeTests(BrokerFixture broker) : IAsyncLifetime
{
    private readonly LocalOidcIssuer _issuer = new();
    private FakeAgentsService _agents = null!;
    private EdgeSystem _system = null!;

    public async Task InitializeAsync()
    {
        _agents = await FakeAgentsService.StartAsync();
        _system = await EdgeSystem.StartAsync(broker, new Dictionary<string, string?>
        {
            ["Oidc__Issuer"] = _issuer.Issuer,
            ["Oidc__Audience"] = LocalOidcIssuer.Audience,
            ["Oidc__Jwks"] = _issuer.Jwks,
            ["services__agents__http__0"] = _agents.Url,
        });
    }

    public async Task DisposeAsync()
    {
        await _system.DisposeAsync();
        await _agents.DisposeAsync();
        _issuer.Dispose();
    }

    [Fact]
    public async Task An_OIDC_user_is_created_on_first_use_and_works_like_any_user()
    {
        var subject = Guid.NewGuid().ToString("N");
        using var alice = _system.Client(_issuer.Token(subject, $"{subject}@example.test", "Alice"));

        var board = await EdgeSystem.BoardAsync(alice);
        await EdgeSystem.CreateAsync(alice, $"/api/v1/boards/{board}/tasks", new { title = "from an OIDC user" });

        var me = await alice.GetFromJsonAsync<JsonElement>("/api/v1/organizations/me/list");
        Assert.Contains(me.EnumerateArray(), o => o.GetProperty("is_active").GetBoolean());
        // The same person again (a fresh token, same subject) is the same user: the board is theirs.
        using var again = _system.Client(_issuer.Token(subject));
        Assert.Equal(HttpStatusCode.OK, (await again.GetAsync($"/api/v1/boards/{board}")).StatusCode);
        // Someone else is not.
        using var bob = _system.Client(_issuer.Token(Guid.NewGuid().ToString("N")));
        Assert.Equal(HttpStatusCode.NotFound, (await bob.GetAsync($"/api/v1/boards/{board}")).StatusCode);
    }

    [Fact]
    public async Task OIDC_tokens_that_do_not_verify_are_401()
    {
        using var stranger = new LocalOidcIssuer(_issuer.Issuer);
        foreach (var token in new[]
                 {
                     stranger.Token("x"), _issuer.Token("x", audience: "other"), _issuer.Token("x", issuer: "https://elsewhere.invalid"),
                     _issuer.Token("x", now: DateTime.UtcNow.AddHours(-1), lifetime: TimeSpan.FromMinutes(1)),
                 })
        {
            using var client = _system.Client(token);
            var response = await client.GetAsync("/api/v1/boards");
            await response.ProblemAsync(HttpStatusCode.Unauthorized);
        }
    }

    [Fact]
    public async Task An_agent_token_acts_as_its_agent_on_its_board_only_and_stops_working_when_the_agent_is_deleted()
    {
        var board = await EdgeSystem.BoardAsync(_system.Admin);
        var other = await EdgeSystem.CreateAsync(_system.Admin, "/api/v1/boards", new { name = "Other", description = "not the agent's" });
        var org = (await _system.Admin.GetFromJsonAsync<JsonElement>("/api/v1/organizations/me")).GetProperty("id").GetGuid();
        var agentId = Guid.NewGuid();
        var token = "mca_" + Guid.NewGuid().ToString("N");
        _agents.Tokens[token] = new ResolvedAgent(agentId, org, board, null, "Worker One", false, false);

        using var asHeader = _system.Client();
        asHeader.DefaultRequestHeaders.Add("X-Agent-Token", token);
        using var asBearer = _system.Client(token);
        Assert.Equal(HttpStatusCode.OK, (await asHeader.GetAsync($"/api/v1/boards/{board}/tasks")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await asBearer.GetAsync($"/api/v1/boards/{board}/tasks")).StatusCode);
        Assert.NotEqual(HttpStatusCode.OK, (await asHeader.GetAsync($"/api/v1/boards/{other}/tasks")).StatusCode);
        // Agents do not create tasks on the user route.
        Assert.Equal(HttpStatusCode.Forbidden, (await asHeader.PostAsJsonAsync($"/api/v1/boards/{board}/tasks", new { title = "x" })).StatusCode);
        Assert.Contains(token, _agents.Lookups);

        // The agents service deletes the agent: its token no longer resolves and every edge forgets it at once.
        _agents.Tokens.TryRemove(token, out _);
        await using var bus = await BusProbe.StartAsync(broker.ConnectionString);
        var deletedAt = DateTime.UtcNow;
        await bus.PublishAsync(new AgentDeleted { OrganizationId = org, AgentId = agentId, BoardId = board, OccurredAt = DateTimeOffset.UtcNow });
        await EdgeSystem.EventuallyAsync(async () => (await asHeader.GetAsync($"/api/v1/boards/{board}/tasks")).StatusCode == HttpStatusCode.Unauthorized,
            TimeSpan.FromSeconds(2), "a deleted agent's token is refused");
        Assert.True(DateTime.UtcNow - deletedAt < TimeSpan.FromSeconds(2));
        // The agent token was never written to a log.
        foreach (var process in new[] { "edge", "orgs", "tasks" }) Assert.DoesNotContain(token, _system.Log(process));
    }

    [Fact]
    public async Task An_API_key_works_as_its_user_until_it_is_deleted_then_every_edge_refuses_it_within_2_seconds()
    {
        var otherEdge = await _system.StartAnotherEdgeAsync("edge-2");
        var (user, key, keyId) = await _system.UserWithApiKeyAsync("Carol");
        using var carol = _system.Client(key);
        using var carolElsewhere = _system.Client(key, otherEdge);

        var board = await EdgeSystem.BoardAsync(carol);
        await EdgeSystem.CreateAsync(carol, $"/api/v1/boards/{board}/tasks", new { title = "scripted" });
        var me = await carol.GetFromJsonAsync<JsonElement>("/api/v1/users/me");
        Assert.Equal(user, me.GetProperty("id").GetGuid());
        var listed = await carol.GetStringAsync("/api/v1/users/me/api-keys");
        Assert.Contains(keyId.ToString(), listed);
        Assert.DoesNotContain(key, listed);
        // Both edges have the key's principal cached now.
        Assert.Equal(HttpStatusCode.OK, (await carolElsewhere.GetAsync($"/api/v1/boards/{board}")).StatusCode);

        Assert.True((await carol.DeleteAsync($"/api/v1/users/me/api-keys/{keyId}")).IsSuccessStatusCode);
        var revoked = DateTime.UtcNow;
        await EdgeSystem.EventuallyAsync(async () => (await carolElsewhere.GetAsync($"/api/v1/boards/{board}")).StatusCode == HttpStatusCode.Unauthorized,
            TimeSpan.FromSeconds(2), "the other edge refuses the deleted key");
        Assert.True(DateTime.UtcNow - revoked < TimeSpan.FromSeconds(2));
        await (await carol.GetAsync($"/api/v1/boards/{board}")).ProblemAsync(HttpStatusCode.Unauthorized);

        // Nobody wrote the key down.
        foreach (var process in new[] { "edge", "edge-2", "orgs", "tasks" }) Assert.DoesNotContain(key, _system.Log(process));
    }

    [Fact]
    public async Task A_changed_role_and_a_removed_member_take_effect_at_every_edge_within_2_seconds()
    {
        var otherEdge = await _system.StartAnotherEdgeAsync("edge-3");
        var (_, ownerKey, _) = await _system.UserWithApiKeyAsync("Owner");
        var (_, memberKey, _) = await _system.UserWithApiKeyAsync("Member");
        using var owner = _system.Client(ownerKey);
        using var member = _system.Client(memberKey, otherEdge);
        var board = await EdgeSystem.BoardAsync(owner);
        var org = (await owner.GetFromJsonAsync<JsonElement>("/api/v1/organizations/me")).GetProperty("id").GetGuid();
        var memberEmail = (await member.GetFromJsonAsync<JsonElement>("/api/v1/users/me")).GetProperty("email").GetString();

        var invite = await owner.PostAsJsonAsync("/api/v1/organizations/me/invites", new { invited_email = memberEmail, role = "member", all_boards_read = true });
        Assert.Equal(HttpStatusCode.Created, invite.StatusCode);
        var token = (await invite.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString();
        var accepted = await member.PostAsJsonAsync("/api/v1/organizations/invites/accept", new { token });
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        var memberId = (await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.OK, (await member.PatchAsJsonAsync("/api/v1/organizations/me/active", new { organization_id = org })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await member.GetAsync($"/api/v1/boards/{board}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await member.PostAsJsonAsync("/api/v1/boards", new { name = "Mine", description = "x" })).StatusCode);

        // Promoted on one edge: the member may create boards through the other within 2 s.
        Assert.Equal(HttpStatusCode.OK, (await owner.PatchAsJsonAsync($"/api/v1/organizations/me/members/{memberId}", new { role = "admin" })).StatusCode);
        var started = DateTime.UtcNow;
        await EdgeSystem.EventuallyAsync(async () => (await member.GetFromJsonAsync<JsonElement>("/api/v1/organizations/me/member"))
            .GetProperty("role").GetString() == "admin", TimeSpan.FromSeconds(2), "the role change reaches the other edge");
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(2));
        await EdgeSystem.CreateAsync(member, "/api/v1/boards", new { name = "Now allowed", description = "as admin" });

        // Removed: the board is gone for them within 2 s.
        Assert.True((await owner.DeleteAsync($"/api/v1/organizations/me/members/{memberId}")).IsSuccessStatusCode);
        started = DateTime.UtcNow;
        await EdgeSystem.EventuallyAsync(async () => (await member.GetAsync($"/api/v1/boards/{board}")).StatusCode == HttpStatusCode.NotFound,
            TimeSpan.FromSeconds(2), "the removed member loses the board at the other edge");
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(2));
        foreach (var process in new[] { "edge", "edge-3", "orgs" }) Assert.DoesNotContain(token!, _system.Log(process));
    }

    [Fact]
    public async Task Only_the_inbound_webhook_route_is_reachable_without_a_credential_and_it_checks_its_signature()
    {
        var board = await EdgeSystem.BoardAsync(_system.Admin);
        const string secret = "hook-secret-for-the-test";
        var hook = await EdgeSystem.CreateAsync(_system.Admin, $"/api/v1/boards/{board}/webhooks", new { description = "CI results", secret });
        using var anonymous = _system.Client();
        var body = "{\"build\":\"green\"}";
        var signature = Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes(secret), System.Text.Encoding.UTF8.GetBytes(body)));

        using var signed = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/boards/{board}/webhooks/{hook}")
        {
            Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json"),
        };
        signed.Headers.Add("X-Hub-Signature-256", "sha256=" + signature);
        Assert.Equal(HttpStatusCode.Accepted, (await anonymous.SendAsync(signed)).StatusCode);
        var unsigned = await anonymous.PostAsync($"/api/v1/boards/{board}/webhooks/{hook}", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        await unsigned.ProblemAsync(HttpStatusCode.Forbidden);
        await (await anonymous.PostAsync($"/api/v1/boards/{board}/webhooks/{Guid.NewGuid()}", JsonContent.Create(new { x = 1 }))).ProblemAsync(HttpStatusCode.NotFound);

        // Nothing else opens without a credential: not the webhook's other routes, not the board's tasks.
        await (await anonymous.GetAsync($"/api/v1/boards/{board}/webhooks/{hook}")).ProblemAsync(HttpStatusCode.Unauthorized);
        await (await anonymous.GetAsync($"/api/v1/boards/{board}/webhooks/{hook}/payloads")).ProblemAsync(HttpStatusCode.Unauthorized);
        await (await anonymous.PostAsync($"/api/v1/boards/{board}/tasks", JsonContent.Create(new { title = "x" }))).ProblemAsync(HttpStatusCode.Unauthorized);
        var payloads = await _system.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/boards/{board}/webhooks/{hook}/payloads");
        Assert.Equal(1, payloads.GetProperty("total").GetInt32());
        foreach (var process in new[] { "edge", "tasks" }) Assert.DoesNotContain(secret, _system.Log(process));
    }
}
