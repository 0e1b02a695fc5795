using MissionControl.Outbound;

namespace MissionControl.Metrics.Webhooks;

/// <summary>
/// Webhooks:* settings. RetrySchedule: the waits after each failed attempt ("30s,5m,30m,2h,8h"; ms, s,
/// m, h); after the last one fails the circuit opens. AllowedHosts: hosts or addresses a webhook may
/// reach although they are private, loopback or local (comma-separated).
/// </summary>
public sealed record WebhookOptions
{
    public const string DefaultRetrySchedule = "30s,5m,30m,2h,8h";

    public IReadOnlyList<TimeSpan> RetrySchedule { get; init; } = RetryScheduleParser.Parse(DefaultRetrySchedule);
    public IReadOnlySet<string> AllowedHosts { get; init; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
    /// <summary>Per attempt, redirects included.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);
    public int MaxRedirects { get; init; } = 3;
    /// <summary>How often the dispatcher looks for due retries and events other instances logged.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>How long a claim on a subscription lasts without renewal.</summary>
    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>Deliveries kept per webhook (the newest).</summary>
    public int KeepDeliveries { get; init; } = 500;

    public OutboundHttpOptions Http => new(Timeout, MaxRedirects);

    public static WebhookOptions From(IConfiguration configuration)
    {
        var section = configuration.GetSection("Webhooks");
        var hosts = AddressGuard.ParseHosts(section["AllowedHosts"]);
        var options = new WebhookOptions
        {
            RetrySchedule = RetryScheduleParser.Parse(section["RetrySchedule"] is { Length: > 0 } s ? s : DefaultRetrySchedule),
            AllowedHosts = hosts,
        };
        return options with
        {
            Timeout = section["Timeout"] is { Length: > 0 } t ? RetryScheduleParser.ParseOne(t) : options.Timeout,
            PollInterval = section["PollInterval"] is { Length: > 0 } p ? RetryScheduleParser.ParseOne(p) : options.PollInterval,
            LeaseDuration = section["LeaseDuration"] is { Length: > 0 } l ? RetryScheduleParser.ParseOne(l) : options.LeaseDuration,
            KeepDeliveries = int.TryParse(section["KeepDeliveries"], out var keep) && keep > 0 ? keep : options.KeepDeliveries,
        };
    }
}

/// <summary>Event filters: "*" (everything), an exact type ("approval.resolved") or a prefix ("task.*").</summary>
public static class WebhookEvents
{
    public static IReadOnlyList<string> Split(string stored) => stored.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public static string Join(IEnumerable<string> patterns) => string.Join('\n', patterns);

    public static bool IsValidPattern(string pattern) =>
        pattern == "*" || (pattern.Length is > 0 and <= 80 && pattern.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '*')
            && (pattern.IndexOf('*') < 0 || (pattern.EndsWith(".*", StringComparison.Ordinal) && pattern.IndexOf('*') == pattern.Length - 1 && pattern.Length > 2)));

    public static bool Matches(IEnumerable<string> patterns, string type) => patterns.Any(p => Matches(p, type));

    public static bool Matches(string pattern, string type) =>
        pattern == "*" || pattern == type
        || pattern.EndsWith(".*", StringComparison.Ordinal) && type.StartsWith(pattern[..^1], StringComparison.Ordinal);
}
