using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace MissionControl.InternalAuth;

/// <summary>
/// Compact signed token: base64url(JSON payload) "." base64url(ECDSA P-256 / SHA-256 signature).
/// Only the edge holds the private key, so a service can verify a token but never mint one.
/// </summary>
internal sealed record TokenPayload
{
    [JsonPropertyName("k")] public PrincipalKind Kind { get; init; }
    [JsonPropertyName("sub")] public string Subject { get; init; } = "";
    [JsonPropertyName("org")] public Guid? OrganizationId { get; init; }
    [JsonPropertyName("role")] public string? Role { get; init; }
    [JsonPropertyName("name")] public string? Name { get; init; }
    [JsonPropertyName("sa")] public bool IsInstanceAdmin { get; init; }
    [JsonPropertyName("abr")] public bool AllBoardsRead { get; init; }
    [JsonPropertyName("abw")] public bool AllBoardsWrite { get; init; }
    [JsonPropertyName("boards")] public BoardGrant[]? Boards { get; init; }
    [JsonPropertyName("agb")] public Guid? AgentBoardId { get; init; }
    [JsonPropertyName("aud")] public string Audience { get; init; } = "";
    [JsonPropertyName("exp")] public long ExpiresAt { get; init; }

    public static TokenPayload From(McPrincipal p, long expiresAt) => new()
    {
        Kind = p.Kind, Subject = p.Subject, OrganizationId = p.OrganizationId, Role = p.Role,
        Name = p.Name is { Length: > 200 } n ? n[..200] : p.Name, IsInstanceAdmin = p.IsInstanceAdmin,
        AllBoardsRead = p.AllBoardsRead, AllBoardsWrite = p.AllBoardsWrite,
        Boards = p.Boards.Count == 0 ? null : [.. p.Boards], AgentBoardId = p.AgentBoardId,
        Audience = InternalTokenSigner.Audience, ExpiresAt = expiresAt,
    };

    public McPrincipal ToPrincipal() => new()
    {
        Kind = Kind, Subject = Subject, OrganizationId = OrganizationId, Role = Role,
        Name = Name, IsInstanceAdmin = IsInstanceAdmin,
        AllBoardsRead = AllBoardsRead, AllBoardsWrite = AllBoardsWrite,
        Boards = Boards ?? [], AgentBoardId = AgentBoardId,
    };
}

public sealed class InternalTokenSigner : IDisposable
{
    public const string Audience = "mission-control-internal";
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(60);

    private readonly ECDsa _key;
    private readonly TimeProvider _time;
    // Signing costs ~50 µs; the same principal within half a token lifetime reuses its token.
    private readonly ConcurrentDictionary<McPrincipalKey, (string Token, long ExpiresAt)> _cache = new();

    public InternalTokenSigner(string pkcs8Base64, TimeProvider? time = null)
    {
        _key = ECDsa.Create();
        _key.ImportPkcs8PrivateKey(Convert.FromBase64String(pkcs8Base64), out _);
        _time = time ?? TimeProvider.System;
    }

    public string Sign(McPrincipal principal)
    {
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        var key = new McPrincipalKey(principal);
        if (_cache.TryGetValue(key, out var cached) && cached.ExpiresAt - now > Lifetime.TotalSeconds / 2)
            return cached.Token;

        var expiresAt = now + (long)Lifetime.TotalSeconds;
        var payload = JsonSerializer.SerializeToUtf8Bytes(TokenPayload.From(principal, expiresAt));
        var signature = _key.SignData(payload, HashAlgorithmName.SHA256);
        var token = Base64Url.EncodeToString(payload) + "." + Base64Url.EncodeToString(signature);
        if (_cache.Count > 10_000) _cache.Clear();
        _cache[key] = (token, expiresAt);
        return token;
    }

    public void Dispose() => _key.Dispose();

    /// <summary>Value equality over the grant list too (records compare lists by reference).</summary>
    private readonly record struct McPrincipalKey(McPrincipal P)
    {
        public bool Equals(McPrincipalKey other) =>
            P with { Boards = [] } == other.P with { Boards = [] } && P.Boards.SequenceEqual(other.P.Boards);

        public override int GetHashCode() => HashCode.Combine(P.Kind, P.Subject, P.OrganizationId, P.Role, P.Boards.Count);
    }
}

public sealed class InternalTokenValidator : IDisposable
{
    private readonly ECDsa _key;
    private readonly TimeProvider _time;
    // Tokens are reused by the edge for ~30 s, so caching verified ones saves an ECDSA verify per request.
    private readonly ConcurrentDictionary<string, (McPrincipal Principal, long ExpiresAt)> _verified = new();

    public InternalTokenValidator(string spkiBase64, TimeProvider? time = null)
    {
        _key = ECDsa.Create();
        _key.ImportSubjectPublicKeyInfo(Convert.FromBase64String(spkiBase64), out _);
        _time = time ?? TimeProvider.System;
    }

    public McPrincipal? Validate(string token)
    {
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        if (_verified.TryGetValue(token, out var hit))
            return hit.ExpiresAt > now ? hit.Principal : null;

        var dot = token.IndexOf('.');
        if (dot <= 0 || token.Length > 16_384) return null;
        byte[] payload, signature;
        try
        {
            payload = Base64Url.DecodeFromChars(token.AsSpan(0, dot));
            signature = Base64Url.DecodeFromChars(token.AsSpan(dot + 1));
        }
        catch (FormatException) { return null; }

        if (!_key.VerifyData(payload, signature, HashAlgorithmName.SHA256)) return null;
        TokenPayload? parsed;
        try { parsed = JsonSerializer.Deserialize<TokenPayload>(payload); }
        catch (JsonException) { return null; }
        if (parsed is null || parsed.Audience != InternalTokenSigner.Audience || parsed.ExpiresAt <= now) return null;

        var principal = parsed.ToPrincipal();
        if (_verified.Count > 10_000) _verified.Clear();
        _verified[token] = (principal, parsed.ExpiresAt);
        return principal;
    }

    public void Dispose() => _key.Dispose();
}

/// <summary>Key material helpers (the AppHost and test fixtures generate a pair per run).</summary>
public static class InternalKeys
{
    public static (string SigningKey, string VerificationKey) Generate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return (Convert.ToBase64String(key.ExportPkcs8PrivateKey()), Convert.ToBase64String(key.ExportSubjectPublicKeyInfo()));
    }
}
