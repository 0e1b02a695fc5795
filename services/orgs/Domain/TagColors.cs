namespace MissionControl.Orgs.Domain;

public static class TagColors
{
    public const string Default = "9e9e9e";

    /// <summary>Six hex digits, lower case, without '#' ("#FFAA00" → "ffaa00"); null when not a color.</summary>
    public static string? Normalize(string? color)
    {
        var c = color?.Trim().TrimStart('#').ToLowerInvariant();
        return c is { Length: 6 } && c.All(char.IsAsciiHexDigitLower) ? c : null;
    }
}
