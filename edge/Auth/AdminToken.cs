using System.Security.Cryptography;
using System.Text;

namespace MissionControl.Edge.Auth;

/// <summary>The local admin credential (MC_ADMIN_TOKEN). Only its SHA-256 is kept in memory.</summary>
public sealed class AdminToken
{
    public const string ExternalId = "local-admin";
    private readonly byte[] _hash;

    public AdminToken(string token) => _hash = SHA256.HashData(Encoding.UTF8.GetBytes(token));

    public bool Matches(string presented) => MatchesHash(SHA256.HashData(Encoding.UTF8.GetBytes(presented)));

    /// <summary>Compares the SHA-256 of a presented token in fixed time.</summary>
    public bool MatchesHash(ReadOnlySpan<byte> presentedSha256) => CryptographicOperations.FixedTimeEquals(_hash, presentedSha256);

    /// <summary>MC_ADMIN_TOKEN, or a new random one printed once to the console (never to the log pipeline).</summary>
    public static AdminToken FromConfiguration(IConfiguration configuration)
    {
        var token = configuration["MC_ADMIN_TOKEN"];
        if (string.IsNullOrWhiteSpace(token))
        {
            token = "mc_admin_" + Base64Url(RandomNumberGenerator.GetBytes(32));
            Console.Error.WriteLine($"MC_ADMIN_TOKEN was not set; this run's admin token is: {token}");
        }
        else if (token.Length < 16)
        {
            throw new InvalidOperationException("MC_ADMIN_TOKEN must be at least 16 characters.");
        }
        return new AdminToken(token);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
