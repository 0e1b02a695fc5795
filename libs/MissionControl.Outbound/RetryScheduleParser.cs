using System.Globalization;

namespace MissionControl.Outbound;

/// <summary>Retry schedules as settings give them (Webhooks:RetrySchedule, Agents:CallbackRetrySchedule).</summary>
public static class RetryScheduleParser
{
    /// <summary>
    /// "30s,5m,30m,2h,8h" → the waits; a number needs a unit (ms, s, m, h), or is a TimeSpan ("00:00:30");
    /// an empty list is allowed ("": no retries).
    /// </summary>
    public static IReadOnlyList<TimeSpan> Parse(string schedule) =>
        schedule.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ParseOne).ToList();

    public static TimeSpan ParseOne(string value)
    {
        var v = value.Trim().ToLowerInvariant();
        if (v.Contains(':'))
            return TimeSpan.TryParse(v, CultureInfo.InvariantCulture, out var span) && span >= TimeSpan.Zero
                ? span : throw new FormatException($"'{value}' is not a duration (e.g. 00:00:30).");
        var (number, unit) = v.EndsWith("ms", StringComparison.Ordinal) ? (v[..^2], 1d)
            : v.EndsWith('s') ? (v[..^1], 1000d)
            : v.EndsWith('m') ? (v[..^1], 60_000d)
            : v.EndsWith('h') ? (v[..^1], 3_600_000d)
            : throw new FormatException($"'{value}' needs a unit: ms, s, m or h (e.g. 30s).");
        if (!double.TryParse(number.Trim(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n) || n < 0 || double.IsInfinity(n))
            throw new FormatException($"'{value}' is not a duration (e.g. 500ms, 30s, 5m, 2h).");
        return TimeSpan.FromMilliseconds(n * unit);
    }

    /// <summary>The wait with ±20 % jitter.</summary>
    public static TimeSpan Jitter(TimeSpan wait, Random? random = null) =>
        TimeSpan.FromMilliseconds(wait.TotalMilliseconds * (0.8 + 0.4 * (random ?? Random.Shared).NextDouble()));
}
