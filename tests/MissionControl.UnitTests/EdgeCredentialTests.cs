using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using MissionControl.Edge.Auth;
using MissionControl.InternalAuth;
using MissionControl.Testing;

namespace MissionControl.UnitTests;

public sealed class EdgeCredentialTests
{
    private static readonly AdminToken Admin = new("admin-token-for-unit-tests");

    private static HttpRequest Request(string? bearer = null, string? agentToken = null, string method = "GET", string path = "/api/v1/boards")
    {
        var http = new DefaultHttpContext();
        http.Request.Method = method;
        http.Request.Path = path;
        if (bearer is not null) http.Request.Headers.Authorization = "Bearer " + bearer;
        if (agentToken is not null) http.Request.Headers[Credential.AgentTokenHeader] = agentToken;
        return http.Request;
    }

    [Fact]
    public void Credentials_are_classified_by_their_shape()
    {
        using var issuer = new LocalOidcIssuer();
        Assert.Null(Credential.From(Request(), Admin));
        Assert.Equal(CredentialKind.AdminToken, Credential.From(Request("admin-token-for-unit-tests"), Admin)!.Kind);
        Assert.Equal(CredentialKind.ApiKey, Credential.From(Request("mc_abcdef"), Admin)!.Kind);
        Assert.Equal(CredentialKind.AgentToken, Credential.From(Request("mca_abcdef"), Admin)!.Kind);
        Assert.Equal(CredentialKind.OidcJwt, Credential.From(Request(issuer.Token("alice")), Admin)!.Kind);
        // X-Agent-Token wins over a Bearer, whatever the token looks like.
        var agent = Credential.From(Request("mc_abcdef", agentToken: "anything"), Admin)!;
        Assert.Equal(CredentialKind.AgentToken, agent.Kind);
        Assert.Equal("anything", agent.Secret);
    }

    [Fact]
    public void A_credential_never_prints_or_keys_its_secret()
    {
        var credential = new Credential(CredentialKind.ApiKey, "mc_supersecretvalue");

        Assert.DoesNotContain("supersecret", credential.ToString());
        Assert.DoesNotContain("supersecret", credential.Fingerprint);
        Assert.NotEqual(new Credential(CredentialKind.AgentToken, "mc_supersecretvalue").Fingerprint, credential.Fingerprint);
    }

    [Fact]
    public void Only_the_inbound_webhook_ingest_is_public()
    {
        var board = Guid.NewGuid();
        var hook = Guid.NewGuid();
        Assert.True(PublicRoutes.IsPublic(Request(method: "POST", path: $"/api/v1/boards/{board}/webhooks/{hook}")));
        Assert.False(PublicRoutes.IsPublic(Request(method: "GET", path: $"/api/v1/boards/{board}/webhooks/{hook}")));
        Assert.False(PublicRoutes.IsPublic(Request(method: "POST", path: $"/api/v1/boards/{board}/webhooks")));
        Assert.False(PublicRoutes.IsPublic(Request(method: "POST", path: $"/api/v1/boards/{board}/webhooks/{hook}/payloads")));
        Assert.False(PublicRoutes.IsPublic(Request(method: "POST", path: $"/api/v1/boards/{board}/tasks/{hook}")));
        Assert.False(PublicRoutes.IsPublic(Request(method: "POST", path: $"/api/v1/boards/not-a-guid/webhooks/{hook}")));
    }

    private static OidcValidator Validator(LocalOidcIssuer issuer, TimeProvider? time = null, string? audience = LocalOidcIssuer.Audience) =>
        new(new OidcOptions { Issuer = issuer.Issuer, Audience = audience, Jwks = issuer.Jwks }, null, time ?? TimeProvider.System, NullLogger<OidcValidator>.Instance);

    [Fact]
    public async Task A_valid_OIDC_token_names_the_user_by_issuer_and_subject()
    {
        using var issuer = new LocalOidcIssuer();

        var identity = await Validator(issuer).ValidateAsync(issuer.Token("alice-123", "alice@example.test", "Alice"), CancellationToken.None);

        Assert.NotNull(identity);
        Assert.Equal($"oidc:{issuer.Issuer}|alice-123", identity.ExternalId);
        Assert.Equal("alice@example.test", identity.Email);
        Assert.Equal("Alice", identity.Name);
    }

    [Fact]
    public async Task OIDC_tokens_from_another_issuer_audience_or_key_or_expired_are_refused()
    {
        using var issuer = new LocalOidcIssuer();
        using var stranger = new LocalOidcIssuer(issuer.Issuer);
        var validator = Validator(issuer);

        Assert.Null(await validator.ValidateAsync(issuer.Token("a", audience: "someone-else"), CancellationToken.None));
        Assert.Null(await validator.ValidateAsync(issuer.Token("a", issuer: "https://other.invalid"), CancellationToken.None));
        Assert.Null(await validator.ValidateAsync(stranger.Token("a"), CancellationToken.None));
        Assert.Null(await validator.ValidateAsync(issuer.Token("a", now: DateTime.UtcNow.AddHours(-2), lifetime: TimeSpan.FromMinutes(5)), CancellationToken.None));
        var tampered = issuer.Token("a");
        Assert.Null(await validator.ValidateAsync(tampered[..^4] + (tampered[^4] == 'A' ? "BBBB" : "AAAA"), CancellationToken.None));
        Assert.Null(await new OidcValidator(new OidcOptions(), null, TimeProvider.System, NullLogger<OidcValidator>.Instance)
            .ValidateAsync(issuer.Token("a"), CancellationToken.None));
    }

    [Fact]
    public async Task OIDC_expiry_follows_the_clock()
    {
        using var issuer = new LocalOidcIssuer();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var validator = Validator(issuer, time);
        var token = issuer.Token("a", lifetime: TimeSpan.FromMinutes(5));

        Assert.NotNull(await validator.ValidateAsync(token, CancellationToken.None));
        time.Advance(TimeSpan.FromMinutes(6));
        Assert.Null(await validator.ValidateAsync(token, CancellationToken.None));
    }

    /// <summary>orgs and agents as the resolver sees them: counts calls, answers what the test says.</summary>
    private sealed class FakeServices : DelegatingHandler, IHttpClientFactory
    {
        public int Calls;
        public Func<HttpRequestMessage, Task<HttpResponseMessage>> Answer { get; set; } = _ => Task.FromResult(new HttpResponseMessage(HttpStatusCode.NotFound));

        public HttpClient CreateClient(string name) => new(this, disposeHandler: false) { BaseAddress = new Uri($"http://{name}") };

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            Interlocked.Increment(ref Calls);
            return Answer(request);
        }
    }

    private static readonly Guid UserId = Guid.NewGuid(), OrgId = Guid.NewGuid();

    private static Task<HttpResponseMessage> UserAnswer(HttpRequestMessage _) => Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK)
    {
        Content = JsonContent.Create(new ResolvedUser(UserId, OrgId, Roles.Member, false, false, [], "Bob"), options: JsonDefaults.Api),
    });

    private static PrincipalResolver Resolver(FakeServices services, TimeProvider? time = null)
    {
        var keys = InternalKeys.Generate();
        var oidc = new OidcValidator(new OidcOptions(), null, TimeProvider.System, NullLogger<OidcValidator>.Instance);
        return new PrincipalResolver(services, new InternalTokenSigner(keys.SigningKey), oidc, time ?? TimeProvider.System);
    }

    [Fact]
    public async Task An_API_key_is_resolved_once_then_served_from_the_cache_until_its_user_changes()
    {
        var services = new FakeServices { Answer = UserAnswer };
        var resolver = Resolver(services);
        var key = new Credential(CredentialKind.ApiKey, "mc_key");

        var first = await resolver.ResolveAsync(key, CancellationToken.None);
        var second = await resolver.ResolveAsync(key, CancellationToken.None);
        Assert.Equal(1, services.Calls);
        Assert.Equal(UserId, first!.UserId);
        Assert.Same(first, second);

        resolver.InvalidateSubject(UserId.ToString());
        await resolver.ResolveAsync(key, CancellationToken.None);
        Assert.Equal(2, services.Calls);

        resolver.InvalidateOrganization(OrgId);
        await resolver.ResolveAsync(key, CancellationToken.None);
        Assert.Equal(3, services.Calls);
    }

    [Fact]
    public async Task Cached_principals_expire_after_the_cache_lifetime()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var services = new FakeServices { Answer = UserAnswer };
        var resolver = Resolver(services, time);
        var key = new Credential(CredentialKind.ApiKey, "mc_key");

        await resolver.ResolveAsync(key, CancellationToken.None);
        time.Advance(PrincipalResolver.CacheLifetime + TimeSpan.FromSeconds(1));
        await resolver.ResolveAsync(key, CancellationToken.None);

        Assert.Equal(2, services.Calls);
    }

    [Fact]
    public async Task Unknown_credentials_are_refused_and_remembered_briefly()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var services = new FakeServices();
        var resolver = Resolver(services, time);
        var key = new Credential(CredentialKind.ApiKey, "mc_unknown");

        Assert.Null(await resolver.ResolveAsync(key, CancellationToken.None));
        Assert.Null(await resolver.ResolveAsync(key, CancellationToken.None));
        Assert.Equal(1, services.Calls);
        time.Advance(PrincipalResolver.RejectionLifetime + TimeSpan.FromSeconds(1));
        Assert.Null(await resolver.ResolveAsync(key, CancellationToken.None));
        Assert.Equal(2, services.Calls);

        // Not shaped like an API key: refused without asking orgs.
        Assert.Null(await resolver.ResolveAsync(new Credential(CredentialKind.ApiKey, "garbage"), CancellationToken.None));
        Assert.Equal(2, services.Calls);
    }

    [Fact]
    public async Task A_resolution_overtaken_by_an_invalidation_is_not_cached()
    {
        var release = new TaskCompletionSource();
        var services = new FakeServices();
        services.Answer = async request =>
        {
            await release.Task;
            return await UserAnswer(request);
        };
        var resolver = Resolver(services);
        var key = new Credential(CredentialKind.ApiKey, "mc_key");

        var pending = resolver.ResolveAsync(key, CancellationToken.None).AsTask();
        resolver.InvalidateSubject(UserId.ToString()); // e.g. MemberChanged arrives while orgs is answering
        release.SetResult();
        Assert.NotNull(await pending);

        services.Answer = UserAnswer;
        await resolver.ResolveAsync(key, CancellationToken.None);
        Assert.Equal(2, services.Calls);
    }

    [Fact]
    public async Task An_agent_token_is_resolved_by_the_agents_service_into_an_agent_principal()
    {
        var agent = Guid.NewGuid();
        var board = Guid.NewGuid();
        string? asked = null;
        var services = new FakeServices
        {
            Answer = async request =>
            {
                asked = request.RequestUri!.ToString() + " " + await request.Content!.ReadAsStringAsync();
                return new HttpResponseMessage(HttpStatusCode.OK)
                {
                    Content = JsonContent.Create(new ResolvedAgent(agent, OrgId, board, null, "Lead Agent", true, false), options: JsonDefaults.Api),
                };
            },
        };

        var principal = await Resolver(services).ResolveAsync(new Credential(CredentialKind.AgentToken, "mca_token"), CancellationToken.None);

        Assert.StartsWith("http://agents/internal/v1/agents/resolve-token", asked);
        Assert.Contains("mca_token", asked);
        Assert.Equal(PrincipalKind.Agent, principal!.Kind);
        Assert.Equal(agent, principal.AgentId);
        Assert.Equal(AgentRoles.Lead, principal.Role);
        Assert.True(principal.CanWriteBoard(board));
        Assert.False(principal.CanReadBoard(Guid.NewGuid()));
    }
}
