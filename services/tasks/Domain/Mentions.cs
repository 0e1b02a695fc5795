using System.Text.RegularExpressions;

namespace MissionControl.Tasks.Domain;

/// <summary>@mentions in comments and chat (reference §3.7): @name, @first-name, @lead, case-insensitive.</summary>
public static partial class Mentions
{
    [GeneratedRegex(@"@([A-Za-z][\w-]{0,31})", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    /// <summary>The lower-cased names mentioned in <paramref name="text"/>.</summary>
    public static IReadOnlySet<string> Extract(string? text)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        if (string.IsNullOrEmpty(text)) return names;
        foreach (Match m in Pattern().Matches(text)) names.Add(m.Groups[1].Value.ToLowerInvariant());
        return names;
    }

    /// <summary>An agent is mentioned by its whole name, its first name, or (a lead) by @lead.</summary>
    public static bool Matches(IReadOnlySet<string> mentions, string agentName, bool isLead)
    {
        if (mentions.Count == 0) return false;
        if (isLead && mentions.Contains("lead")) return true;
        var name = agentName.Trim().ToLowerInvariant();
        if (name.Length == 0) return false;
        if (mentions.Contains(name)) return true;
        var first = name.Split((char[]?)null, 2, StringSplitOptions.RemoveEmptyEntries)[0];
        return mentions.Contains(first);
    }
}
