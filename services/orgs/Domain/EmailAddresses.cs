using System.Net.Mail;

namespace MissionControl.Orgs.Domain;

public static class EmailAddresses
{
    public const int MaxLength = 320;

    /// <summary>A single plain address (no display name), lower-cased for matching.</summary>
    public static bool TryNormalize(string? email, out string normalized)
    {
        normalized = "";
        var trimmed = email?.Trim();
        if (string.IsNullOrEmpty(trimmed) || trimmed.Length > MaxLength || trimmed.Any(char.IsWhiteSpace)) return false;
        if (!MailAddress.TryCreate(trimmed, out var address) || address.Address != trimmed) return false;
        normalized = trimmed.ToLowerInvariant();
        return true;
    }

    /// <summary>For identities the edge vouches for: lower-cased, or null when absent or not an address.</summary>
    public static string? NormalizeOrNull(string? email) => TryNormalize(email, out var normalized) ? normalized : null;
}
