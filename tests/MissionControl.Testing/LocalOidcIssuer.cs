using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace MissionControl.Testing;

/// <summary>
/// An OIDC issuer of the test's own: an RSA key, its JWKS, and tokens signed with it. Nothing on the
/// network: the edge is given the JWKS through configuration.
/// </summary>
public sealed class LocalOidcIssuer : IDisposable
{
    public const string Audience = "mission-control";
    private readonly RSA _rsa = RSA.Create(2048);
    private readonly RsaSecurityKey _key;

    public LocalOidcIssuer(string issuer = "https://issuer.invalid")
    {
        Issuer = issuer;
        _key = new RsaSecurityKey(_rsa) { KeyId = Guid.NewGuid().ToString("N") };
    }

    public string Issuer { get; }

    /// <summary>{"keys":[…]} with the public key only.</summary>
    public string Jwks
    {
        get
        {
            var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(_rsa.ExportParameters(false)) { KeyId = _key.KeyId });
            jwk.Use = "sig";
            jwk.Alg = SecurityAlgorithms.RsaSha256;
            return JsonSerializer.Serialize(new { keys = new[] { new { kty = jwk.Kty, kid = jwk.Kid, use = jwk.Use, alg = jwk.Alg, n = jwk.N, e = jwk.E } } });
        }
    }

    public string Token(string subject, string? email = null, string? name = null, string? audience = Audience, string? issuer = null,
        TimeSpan? lifetime = null, DateTime? now = null)
    {
        var issued = now ?? DateTime.UtcNow;
        var claims = new Dictionary<string, object> { ["sub"] = subject };
        if (email is not null) claims["email"] = email;
        if (name is not null) claims["name"] = name;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer ?? Issuer,
            Audience = audience,
            Claims = claims,
            IssuedAt = issued,
            NotBefore = issued.AddSeconds(-1),
            Expires = issued + (lifetime ?? TimeSpan.FromMinutes(10)),
            SigningCredentials = new SigningCredentials(_key, SecurityAlgorithms.RsaSha256),
        });
    }

    public void Dispose() => _rsa.Dispose();
}
