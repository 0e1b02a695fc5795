namespace MissionControl.Metrics.Dashboard;

public enum BucketSize { Hour, Day, Week, Month }

/// <summary>A dashboard range (reference §1.3/§6): its length and the bucket its series use.</summary>
public sealed record DashboardRange(string Key, TimeSpan Duration, BucketSize Bucket)
{
    public static readonly IReadOnlyList<DashboardRange> All =
    [
        new("24h", TimeSpan.FromHours(24), BucketSize.Hour),
        new("3d", TimeSpan.FromDays(3), BucketSize.Day),
        new("7d", TimeSpan.FromDays(7), BucketSize.Day),
        new("14d", TimeSpan.FromDays(14), BucketSize.Day),
        new("1m", TimeSpan.FromDays(30), BucketSize.Day),
        new("3m", TimeSpan.FromDays(90), BucketSize.Week),
        new("6m", TimeSpan.FromDays(180), BucketSize.Week),
        new("1y", TimeSpan.FromDays(365), BucketSize.Month),
    ];

    public static DashboardRange? Find(string key) => All.FirstOrDefault(r => r.Key == key);
}

/// <summary>
/// UTC bucket arithmetic, as PostgreSQL's date_trunc: an hour, a day, an ISO week (from Monday), a
/// calendar month.
/// </summary>
public static class Buckets
{
    public static string Name(BucketSize size) => size.ToString().ToLowerInvariant();

    /// <summary>The start of the bucket holding <paramref name="t"/>.</summary>
    public static DateTime Start(DateTime t, BucketSize size)
    {
        t = DateTime.SpecifyKind(t, DateTimeKind.Utc);
        return size switch
        {
            BucketSize.Hour => new DateTime(t.Year, t.Month, t.Day, t.Hour, 0, 0, DateTimeKind.Utc),
            BucketSize.Day => t.Date,
            // DayOfWeek: Sunday = 0; an ISO week starts on Monday, so Sunday is 6 days into it.
            BucketSize.Week => t.Date.AddDays(-(((int)t.DayOfWeek + 6) % 7)),
            _ => new DateTime(t.Year, t.Month, 1, 0, 0, 0, DateTimeKind.Utc),
        };
    }

    /// <summary>The start of the bucket after the one starting at <paramref name="start"/>.</summary>
    public static DateTime Next(DateTime start, BucketSize size) => size switch
    {
        BucketSize.Hour => start.AddHours(1),
        BucketSize.Day => start.AddDays(1),
        BucketSize.Week => start.AddDays(7),
        _ => start.AddMonths(1),
    };

    /// <summary>Every bucket from the one holding <paramref name="from"/> to the one holding <paramref name="to"/>, both included.</summary>
    public static List<DateTime> Periods(DateTime from, DateTime to, BucketSize size)
    {
        var periods = new List<DateTime>();
        var last = Start(to, size);
        for (var p = Start(from, size); p <= last; p = Next(p, size)) periods.Add(p);
        return periods;
    }
}
