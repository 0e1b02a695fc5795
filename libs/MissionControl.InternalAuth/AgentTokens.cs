using System.Security.Cryptography;
using System.Text;

namespace MissionControl.InternalAuth;

/// <summary>
/// Agent tokens: "mca_" plus 32 random bytes (base64url). Minted by whoever writes them where the agent
/// reads them (the gateway-bridge into the workspace, agents for custom agents); only the SHA-256 is kept.
/// </summary>
public static class AgentTokens
{
    public const string Scheme = "mca_";

    public static string New() => Scheme + Base64Url(RandomNumberGenerator.GetBytes(32));

    /// <summary>Lowercase hex SHA-256 of the token as presented.</summary>
    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
