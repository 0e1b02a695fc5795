using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace MissionControl.Edge.Auth;

/// <summary>
/// OIDC bearer JWTs from one configured issuer (section "Oidc"): Issuer (required to switch it on),
/// Audience, and the signing keys from Jwks (inline JSON), JwksFile, or JwksUri / the issuer's
/// discovery document (fetched on first use and again, at most every 5 minutes, when a token names
/// an unknown key id).
/// </summary>
public sealed class OidcValidator
{
    public sealed record Identity(string ExternalId, string? Email, string? Name, DateTimeOffset ExpiresAt);

    private static readonly TimeSpan RefreshAtMostEvery = TimeSpan.FromMinutes(5);
    private readonly OidcOptions _options;
    private readonly IHttpClientFactory? _clients;
    private readonly TimeProvider _time;
    private readonly ILogger<OidcValidator> _log;
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private IReadOnlyList<SecurityKey> _keys = [];
    private DateTimeOffset _fetchedAt = DateTimeOffset.MinValue;

    public OidcValidator(OidcOptions options, IHttpClientFactory? clients, TimeProvider time, ILogger<OidcValidator> log)
    {
        _options = options;
        _clients = clients;
        _time = time;
        _log = log;
        if (!string.IsNullOrWhiteSpace(options.Jwks)) _keys = new JsonWebKeySet(options.Jwks).GetSigningKeys().ToList();
        else if (!string.IsNullOrWhiteSpace(options.JwksFile)) _keys = new JsonWebKeySet(File.ReadAllText(options.JwksFile)).GetSigningKeys().ToList();
    }

    public bool Enabled => !string.IsNullOrWhiteSpace(_options.Issuer);

    /// <summary>The identity in a valid token, or null (bad signature, wrong issuer or audience, expired, no sub).</summary>
    public async Task<Identity?> ValidateAsync(string token, CancellationToken ct)
    {
        if (!Enabled) return null;
        if (_keys.Count == 0) await RefreshKeysAsync(force: true, ct);
        var result = await _handler.ValidateTokenAsync(token, Parameters());
        if (!result.IsValid && result.Exception is SecurityTokenSignatureKeyNotFoundException && await RefreshKeysAsync(force: false, ct))
            result = await _handler.ValidateTokenAsync(token, Parameters());
        if (!result.IsValid)
        {
            _log.LogDebug("OIDC token refused: {Reason}", result.Exception?.GetType().Name);
            return null;
        }

        var claims = result.ClaimsIdentity;
        var sub = claims.FindFirst("sub")?.Value;
        if (string.IsNullOrEmpty(sub)) return null;
        var expires = result.SecurityToken is JsonWebToken jwt ? new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero) : _time.GetUtcNow();
        return new Identity($"oidc:{_options.Issuer}|{sub}", claims.FindFirst(_options.EmailClaim)?.Value,
            claims.FindFirst(_options.NameClaim)?.Value ?? claims.FindFirst("preferred_username")?.Value, expires);
    }

    private TokenValidationParameters Parameters() => new()
    {
        ValidIssuer = _options.Issuer,
        ValidAudience = _options.Audience,
        ValidateAudience = !string.IsNullOrWhiteSpace(_options.Audience),
        IssuerSigningKeys = _keys,
        ClockSkew = TimeSpan.FromSeconds(30),
        LifetimeValidator = (notBefore, expires, _, _) =>
        {
            var now = _time.GetUtcNow().UtcDateTime;
            return expires is { } exp && exp.ToUniversalTime() > now.AddSeconds(-30) && (notBefore is not { } nbf || nbf.ToUniversalTime() <= now.AddSeconds(30));
        },
        RequireExpirationTime = true,
    };

    /// <summary>Fetches the key set from JwksUri or discovery; returns whether new keys were loaded.</summary>
    private async Task<bool> RefreshKeysAsync(bool force, CancellationToken ct)
    {
        if (_clients is null || (string.IsNullOrWhiteSpace(_options.JwksUri) && string.IsNullOrWhiteSpace(_options.Issuer))) return false;
        if (!string.IsNullOrWhiteSpace(_options.Jwks) || !string.IsNullOrWhiteSpace(_options.JwksFile)) return false;
        await _refresh.WaitAsync(ct);
        try
        {
            if (!force && _time.GetUtcNow() - _fetchedAt < RefreshAtMostEvery) return false;
            _fetchedAt = _time.GetUtcNow();
            var http = _clients.CreateClient(nameof(OidcValidator));
            var jwksUri = _options.JwksUri;
            if (string.IsNullOrWhiteSpace(jwksUri))
            {
                var discovery = await http.GetFromJsonAsync<System.Text.Json.JsonElement>(
                    _options.Issuer!.TrimEnd('/') + "/.well-known/openid-configuration", ct);
                jwksUri = discovery.GetProperty("jwks_uri").GetString();
            }
            _keys = new JsonWebKeySet(await http.GetStringAsync(jwksUri, ct)).GetSigningKeys().ToList();
            return true;
        }
        catch (Exception ex) when (ex is HttpRequestException or System.Text.Json.JsonException or KeyNotFoundException or ArgumentException)
        {
            _log.LogWarning("Could not load the OIDC signing keys: {Error}", ex.Message);
            return false;
        }
        finally
        {
            _refresh.Release();
        }
    }
}

public sealed class OidcOptions
{
    public string? Issuer { get; set; }
    public string? Audience { get; set; }
    public string? Jwks { get; set; }
    public string? JwksFile { get; set; }
    public string? JwksUri { get; set; }
    public string EmailClaim { get; set; } = "email";
    public string NameClaim { get; set; } = "name";
}
