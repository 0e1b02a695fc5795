using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace MissionControl.Orgs.Domain;

/// <summary>
/// API keys and invite tokens: full-entropy random secrets, shown once, stored only as SHA-256. A fast
/// hash is right here: nobody can guess 256 (or 192) random bits, so a slow KDF would only slow every
/// lookup, and a deterministic hash lets the unique index find a key without scanning.
/// </summary>
public static class Secrets
{
    public const string ApiKeyScheme = "mc_";
    public const int DisplayPrefixLength = 10;
    /// <summary>Longer inputs cannot be ours; refusing them early keeps hashing cheap.</summary>
    public const int MaxPresentedLength = 200;

    /// <summary>mc_ + base64url of 32 random bytes (256 bits).</summary>
    public static string NewApiKey() => ApiKeyScheme + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    /// <summary>base64url of 24 random bytes (192 bits).</summary>
    public static string NewInviteToken() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(24));

    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    /// <summary>What lists show so a person can tell keys apart: "mc_" and the first 7 characters.</summary>
    public static string DisplayPrefix(string key) => key[..Math.Min(DisplayPrefixLength, key.Length)];
}
