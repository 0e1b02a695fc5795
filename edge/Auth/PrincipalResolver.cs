using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using MissionControl.InternalAuth;

namespace MissionControl.Edge.Auth;

/// <summary>
/// Turns a credential into a principal: the admin token and OIDC identities through orgs' resolve,
/// API keys through orgs' resolve-api-key, agent tokens through agents' resolve-token. Answers are
/// cached for <see cref="CacheLifetime"/> under the credential's fingerprint and dropped as soon as
/// an event says the subject changed (membership, role, access, a revoked key, a deleted agent), so a
/// revocation takes effect in milliseconds at every edge instance, not at the cache's expiry.
/// </summary>
public sealed class PrincipalResolver(IHttpClientFactory clients, InternalTokenSigner signer, OidcValidator oidc, TimeProvider time)
{
    public static readonly TimeSpan CacheLifetime = TimeSpan.FromSeconds(30);
    /// <summary>Unknown credentials are remembered briefly so a stream of bad ones does not reach orgs each time.</summary>
    public static readonly TimeSpan RejectionLifetime = TimeSpan.FromSeconds(10);
    private const int MaxEntries = 20_000;
    public static readonly McPrincipal EdgeService = new() { Kind = PrincipalKind.Service, Subject = "edge" };

    private readonly ConcurrentDictionary<string, (McPrincipal Principal, DateTimeOffset Expires)> _cache = new();
    private readonly ConcurrentDictionary<string, DateTimeOffset> _rejected = new();
    // Bumped by every invalidation: a resolution that started before one is not cached (it may be stale).
    private long _epoch;

    /// <summary>The principal, or null when the credential is not valid (the caller answers 401).</summary>
    public async ValueTask<McPrincipal?> ResolveAsync(Credential credential, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var key = credential.Fingerprint;
        if (_cache.TryGetValue(key, out var hit) && hit.Expires > now) return hit.Principal;
        if (_rejected.TryGetValue(key, out var until) && until > now) return null;

        var epoch = Interlocked.Read(ref _epoch);
        var expires = now + CacheLifetime;
        McPrincipal? principal;
        switch (credential.Kind)
        {
            case CredentialKind.AdminToken:
                principal = await ResolveUserAsync(new ResolvePrincipalRequest(AdminToken.ExternalId, "admin@localhost", "Local Admin"), ct);
                break;
            case CredentialKind.ApiKey:
                principal = credential.Secret.StartsWith(Credential.ApiKeyPrefix, StringComparison.Ordinal)
                    ? await PostAsync<ResolvedUser>("orgs", "/internal/v1/principals/resolve-api-key", new ResolveApiKeyRequest(credential.Secret), ct) is { } user
                        ? user.ToPrincipal() : null
                    : null;
                break;
            case CredentialKind.AgentToken:
                principal = (await PostAsync<ResolvedAgent>("agents", "/internal/v1/agents/resolve-token", new ResolveAgentTokenRequest(credential.Secret), ct))?.ToPrincipal();
                break;
            case CredentialKind.OidcJwt:
                var identity = await oidc.ValidateAsync(credential.Secret, ct);
                principal = identity is null ? null : await ResolveUserAsync(new ResolvePrincipalRequest(identity.ExternalId, identity.Email, identity.Name), ct);
                if (identity is not null && identity.ExpiresAt < expires) expires = identity.ExpiresAt;
                break;
            default:
                principal = null;
                break;
        }

        if (_cache.Count + _rejected.Count > MaxEntries) Trim(now);
        if (principal is null) _rejected[key] = now + RejectionLifetime;
        else if (Interlocked.Read(ref _epoch) == epoch) _cache[key] = (principal, expires);
        return principal;
    }

    /// <summary>Whether the credential resolved to a principal recently (cached, unexpired): known good without a lookup.</summary>
    public bool IsKnownValid(Credential credential) =>
        _cache.TryGetValue(credential.Fingerprint, out var hit) && hit.Expires > time.GetUtcNow();

    private async Task<McPrincipal?> ResolveUserAsync(ResolvePrincipalRequest request, CancellationToken ct) =>
        (await PostAsync<ResolvedUser>("orgs", "/internal/v1/principals/resolve", request, ct))?.ToPrincipal();

    /// <summary>POSTs as the edge service; 404 means "no such credential". Any other failure throws (the caller answers 502).</summary>
    private async Task<T?> PostAsync<T>(string service, string path, object body, CancellationToken ct) where T : class
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body, options: JsonDefaults.Api) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", signer.Sign(EdgeService));
        using var response = await clients.CreateClient(service).SendAsync(request, ct);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<T>(JsonDefaults.Api, ct)
               ?? throw new InvalidOperationException($"{service} answered an empty principal");
    }

    /// <summary>Forgets every cached principal of a user or agent (by its subject id).</summary>
    public void InvalidateSubject(string subject)
    {
        Interlocked.Increment(ref _epoch);
        foreach (var (key, entry) in _cache)
            if (entry.Principal.Subject == subject) _cache.TryRemove(key, out _);
    }

    public void InvalidateOrganization(Guid organizationId)
    {
        Interlocked.Increment(ref _epoch);
        foreach (var (key, entry) in _cache)
            if (entry.Principal.OrganizationId == organizationId) _cache.TryRemove(key, out _);
    }

    public void InvalidateAll()
    {
        Interlocked.Increment(ref _epoch);
        _cache.Clear();
    }

    private void Trim(DateTimeOffset now)
    {
        foreach (var (key, entry) in _cache)
            if (entry.Expires <= now) _cache.TryRemove(key, out _);
        foreach (var (key, until) in _rejected)
            if (until <= now) _rejected.TryRemove(key, out _);
        if (_cache.Count + _rejected.Count > MaxEntries)
        {
            _rejected.Clear();
            _cache.Clear();
        }
    }
}
