using System.Security.Cryptography;
using System.Text;
using MissionControl.InternalAuth;

namespace MissionControl.Edge.Auth;

public enum CredentialKind
{
    /// <summary>MC_ADMIN_TOKEN: the instance admin.</summary>
    AdminToken,
    /// <summary>A user's API key (mc_…), resolved by orgs.</summary>
    ApiKey,
    /// <summary>An agent's token (X-Agent-Token, or a Bearer mca_…), resolved by agents.</summary>
    AgentToken,
    /// <summary>A bearer JWT from the configured OIDC issuer.</summary>
    OidcJwt,
}

/// <summary>
/// A credential as presented, classified by its shape. Only its SHA-256 fingerprint is kept beyond
/// the request (cache keys), never the secret itself.
/// </summary>
public sealed class Credential
{
    public Credential(CredentialKind kind, string secret) : this(kind, secret, Hash(secret)) { }

    private Credential(CredentialKind kind, string secret, byte[] hash)
    {
        Kind = kind;
        Secret = secret;
        Fingerprint = kind + ":" + Convert.ToHexString(hash);
    }

    public CredentialKind Kind { get; }

    public string Secret { get; }

    public const string ApiKeyPrefix = "mc_";
    public const string AgentTokenPrefix = "mca_";
    public const string AgentTokenHeader = "X-Agent-Token";

    /// <summary>Cache key: kind and hash, so two kinds never collide and no secret sits in memory.</summary>
    public string Fingerprint { get; }

    /// <summary>The SHA-256 of a presented secret, computed once per request for the admin check and the cache key.</summary>
    private static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    /// <summary>
    /// The request's credential, or null when it carries none. X-Agent-Token wins (agents may also
    /// send a Bearer); a Bearer is the admin token, an API key, an agent token or a JWT by its shape.
    /// An unrecognisable Bearer is returned as an API key so it is refused like any unknown key.
    /// </summary>
    public static Credential? From(HttpRequest request, AdminToken admin)
    {
        var agentToken = request.Headers[AgentTokenHeader].ToString().Trim();
        if (agentToken.Length > 0) return new Credential(CredentialKind.AgentToken, agentToken, Hash(agentToken));

        var bearer = request.GetBearerToken();
        if (string.IsNullOrEmpty(bearer)) return null;
        var hash = Hash(bearer);
        if (admin.MatchesHash(hash)) return new Credential(CredentialKind.AdminToken, bearer, hash);
        if (bearer.StartsWith(AgentTokenPrefix, StringComparison.Ordinal)) return new Credential(CredentialKind.AgentToken, bearer, hash);
        if (LooksLikeJwt(bearer)) return new Credential(CredentialKind.OidcJwt, bearer, hash);
        return new Credential(CredentialKind.ApiKey, bearer, hash);
    }

    /// <summary>header.payload.signature, each base64url.</summary>
    public static bool LooksLikeJwt(string token)
    {
        var parts = token.Split('.');
        return parts.Length == 3 && parts[0].StartsWith("eyJ", StringComparison.Ordinal) && parts.All(p => p.Length > 0 && p.All(IsBase64Url));
    }

    private static bool IsBase64Url(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_';

    // Never print the secret.
    public override string ToString() => $"{Kind} credential";
}
