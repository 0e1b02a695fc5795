using System.Text;

namespace MissionControl.Orgs.Domain;

public static class Slugs
{
    /// <summary>Lower-case ASCII letters and digits joined by single hyphens: "Launch Plan!" → "launch-plan".</summary>
    public static string From(string text, string fallback)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var c in text.ToLowerInvariant())
        {
            if (char.IsAsciiLetterOrDigit(c)) sb.Append(c);
            else if (sb.Length > 0 && sb[^1] != '-') sb.Append('-');
        }
        return sb.ToString().Trim('-') is { Length: > 0 } s ? s : fallback;
    }
}
