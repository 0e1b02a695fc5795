using System.Collections.Concurrent;
using System.Net.Http.Headers;
using MissionControl.InternalAuth;

namespace MissionControl.Edge.Auth;

/// <summary>
/// Turns an authenticated user identity into a principal (active org, role, board grants) by asking
/// orgs, and caches the answer briefly. Membership events and the caller's own writes to
/// /api/v1/organizations drop cached entries, so a fresh organization is usable on the next request.
/// </summary>
public sealed class PrincipalResolver(IHttpClientFactory clients, InternalTokenSigner signer, TimeProvider time)
{
    public static readonly TimeSpan CacheLifetime = TimeSpan.FromSeconds(30);
    private static readonly McPrincipal EdgeService = new() { Kind = PrincipalKind.Service, Subject = "edge" };
    private readonly ConcurrentDictionary<string, (McPrincipal Principal, DateTimeOffset Expires)> _cache = new();

    public async ValueTask<McPrincipal> ResolveUserAsync(string externalId, string? email, string? name, CancellationToken ct)
    {
        if (_cache.TryGetValue(externalId, out var hit) && hit.Expires > time.GetUtcNow()) return hit.Principal;

        using var request = new HttpRequestMessage(HttpMethod.Post, "/internal/v1/principals/resolve")
        {
            Content = JsonContent.Create(new ResolvePrincipalRequest(externalId, email, name), options: JsonDefaults.Api),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", signer.Sign(EdgeService));
        using var response = await clients.CreateClient("orgs").SendAsync(request, ct);
        response.EnsureSuccessStatusCode();
        var resolved = await response.Content.ReadFromJsonAsync<ResolvedUser>(JsonDefaults.Api, ct)
                       ?? throw new InvalidOperationException("orgs answered an empty principal");
        var principal = resolved.ToPrincipal();
        _cache[externalId] = (principal, time.GetUtcNow() + CacheLifetime);
        return principal;
    }

    public void Invalidate(string externalId) => _cache.TryRemove(externalId, out _);

    public void InvalidateAll() => _cache.Clear();
}
