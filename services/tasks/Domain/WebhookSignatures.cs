using System.Security.Cryptography;
using System.Text;

namespace MissionControl.Tasks.Domain;

/// <summary>Inbound webhook signatures: HMAC-SHA256 of the raw body, hex, with an optional "sha256=" prefix.</summary>
public static class WebhookSignatures
{
    public const string GitHubHeader = "X-Hub-Signature-256";
    public const string GenericHeader = "X-Webhook-Signature";

    public static string Sign(string secret, ReadOnlySpan<byte> body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    /// <summary>Whether <paramref name="signature"/> is the body's HMAC under <paramref name="secret"/>, compared in fixed time.</summary>
    public static bool IsValid(string secret, ReadOnlySpan<byte> body, string? signature)
    {
        if (string.IsNullOrWhiteSpace(signature)) return false;
        var hex = signature.Trim();
        if (hex.StartsWith("sha256=", StringComparison.OrdinalIgnoreCase)) hex = hex[7..];
        byte[] given;
        try
        {
            given = Convert.FromHexString(hex);
        }
        catch (FormatException)
        {
            return false;
        }
        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body);
        return CryptographicOperations.FixedTimeEquals(expected, given);
    }
}
