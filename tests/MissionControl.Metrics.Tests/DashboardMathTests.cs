using MissionControl.Metrics.Dashboard;
using MissionControl.Metrics.Tokens;

namespace MissionControl.Metrics.Tests;

/// <summary>Bucket arithmetic, the cycle-time rule, prices and CSV quoting, without a service.</summary>
public sealed class DashboardMathTests
{
    private static DateTime U(int y, int m, int d, int h = 0, int min = 0) => new(y, m, d, h, min, 0, DateTimeKind.Utc);

    [Theory]
    [InlineData(2026, 11, 16, 2026, 11, 16)] // a Monday is its own week
    [InlineData(2026, 11, 22, 2026, 11, 16)] // Sunday belongs to the week that began on Monday
    [InlineData(2026, 11, 18, 2026, 11, 16)]
    [InlineData(2027, 1, 1, 2026, 12, 28)] // ISO week 53 of 2026 crosses the year
    [InlineData(2024, 3, 3, 2024, 2, 26)] // across a leap day
    public void Weeks_start_on_the_iso_monday(int y, int m, int d, int wy, int wm, int wd)
    {
        Assert.Equal(U(wy, wm, wd), Buckets.Start(U(y, m, d, 13, 45), BucketSize.Week));
        Assert.Equal(U(wy, wm, wd).AddDays(7), Buckets.Next(U(wy, wm, wd), BucketSize.Week));
    }

    [Fact]
    public void Months_hours_and_days_truncate_and_step()
    {
        Assert.Equal(U(2026, 1, 1), Buckets.Start(U(2026, 1, 31, 23, 59), BucketSize.Month));
        Assert.Equal(U(2026, 2, 1), Buckets.Next(U(2026, 1, 1), BucketSize.Month));
        Assert.Equal(U(2027, 1, 1), Buckets.Next(U(2026, 12, 1), BucketSize.Month));
        Assert.Equal(U(2026, 11, 18, 12), Buckets.Start(U(2026, 11, 18, 12, 30), BucketSize.Hour));
        Assert.Equal(U(2026, 11, 18), Buckets.Start(U(2026, 11, 18, 12, 30), BucketSize.Day));
        // A year of months: 13 buckets from the month holding the start to the month holding now.
        var months = Buckets.Periods(U(2025, 11, 18, 12, 30), U(2026, 11, 18, 12, 30), BucketSize.Month);
        Assert.Equal(13, months.Count);
        Assert.Equal(U(2025, 11, 1), months[0]);
        Assert.Equal(U(2026, 11, 1), months[^1]);
        // 24 hours in hour buckets: 25 (the first and last partial).
        Assert.Equal(25, Buckets.Periods(U(2026, 11, 17, 12, 30), U(2026, 11, 18, 12, 30), BucketSize.Hour).Count);
        // Starting on a boundary: exactly one bucket per hour plus the one holding the end.
        Assert.Equal(25, Buckets.Periods(U(2026, 11, 17, 12), U(2026, 11, 18, 12), BucketSize.Hour).Count);
    }

    [Fact]
    public void Ranges_use_the_reference_buckets()
    {
        Assert.Equal(
            ["24h:hour:24", "3d:day:72", "7d:day:168", "14d:day:336", "1m:day:720", "3m:week:2160", "6m:week:4320", "1y:month:8760"],
            DashboardRange.All.Select(r => $"{r.Key}:{Buckets.Name(r.Bucket)}:{r.Duration.TotalHours}"));
        Assert.Null(DashboardRange.Find("2w"));
    }

    private static Transition T(string? from, string to, int day, int hour) => new(from, to, U(2026, 11, day, hour));

    [Fact]
    public void Cycle_time_runs_from_the_first_in_progress_after_leaving_the_inbox_to_done()
    {
        // Straight through: 10:00 → next day 10:00.
        List<Transition> straight = [T(null, "inbox", 1, 9), T("inbox", "in_progress", 1, 10), T("in_progress", "review", 2, 8), T("review", "done", 2, 10)];
        Assert.Equal(24, CycleTime.Hours(straight, 3));

        // Rework from review keeps the start: the first in_progress after leaving the inbox.
        List<Transition> rework =
        [
            T(null, "inbox", 1, 0), T("inbox", "in_progress", 1, 2), T("in_progress", "review", 1, 4), T("review", "in_progress", 1, 6), T("in_progress", "done", 1, 8),
        ];
        Assert.Equal(6, CycleTime.Hours(rework, 4));

        // Reopened from done back to in_progress (not via the inbox): still from the original start.
        List<Transition> reopened = [.. rework, T("done", "in_progress", 2, 0), T("in_progress", "done", 2, 2)];
        Assert.Equal(24, CycleTime.Hours(reopened, 6));

        // Back to the inbox starts over; leaving the inbox for review first, the in_progress after it counts.
        List<Transition> restarted = [.. rework, T("done", "inbox", 3, 0), T("inbox", "review", 3, 1), T("review", "in_progress", 3, 3), T("in_progress", "done", 3, 7)];
        Assert.Equal(4, CycleTime.Hours(restarted, 8));

        // Created straight into in_progress.
        List<Transition> direct = [T(null, "in_progress", 1, 0), T("in_progress", "done", 1, 5)];
        Assert.Equal(5, CycleTime.Hours(direct, 1));

        // Inbox to done without in_progress: no cycle time, even if it was in progress before the inbox.
        List<Transition> skipped = [T(null, "inbox", 1, 0), T("inbox", "in_progress", 1, 1), T("in_progress", "inbox", 1, 2), T("inbox", "done", 1, 3)];
        Assert.Null(CycleTime.Hours(skipped, 3));
        Assert.Null(CycleTime.Hours([T(null, "done", 1, 0)], 0));
    }

    [Fact]
    public void Wip_counts_of_one_sweep_are_each_tasks_last_status_before_each_end_unless_deleted_by_then()
    {
        // Random histories (ties in time included), deletions, and tasks that kept one status all along.
        var random = new Random(7);
        var statuses = new[] { "inbox", "in_progress", "review", "done" };
        var start = U(2026, 11, 1);
        var histories = new Dictionary<Guid, List<Transition>>();
        var deletedAt = new Dictionary<Guid, DateTime>();
        for (var task = 0; task < 300; task++)
        {
            var id = Guid.NewGuid();
            var at = start.AddHours(random.Next(0, 200));
            string? from = null;
            var history = new List<Transition>();
            for (var move = random.Next(1, 6); move > 0; move--)
            {
                var to = statuses[random.Next(statuses.Length)];
                history.Add(new Transition(from, to, at));
                from = to;
                at = at.AddHours(random.Next(0, 3));
            }
            histories[id] = history;
            if (random.Next(4) == 0) deletedAt[id] = start.AddHours(random.Next(0, 220));
        }
        var unchanged = new Dictionary<string, int> { ["done"] = 5, ["inbox"] = 2 };
        var data = new DashboardData { Histories = histories, DeletedAt = deletedAt, Unchanged = unchanged };
        var ends = Enumerable.Range(0, 60).Select(i => start.AddHours(220 - i * 4)).ToList(); // out of order on purpose

        var swept = data.StatusCountsBefore(ends);
        for (var i = 0; i < ends.Count; i++)
        {
            var expected = new Dictionary<string, int>(unchanged);
            foreach (var (id, history) in histories)
            {
                if (deletedAt.TryGetValue(id, out var deleted) && deleted < ends[i]) continue;
                var last = history.LastOrDefault(t => t.At < ends[i]);
                if (last != default) expected[last.To] = expected.GetValueOrDefault(last.To) + 1;
            }
            Assert.Equal(expected.Where(e => e.Value != 0).OrderBy(e => e.Key), swept[i].OrderBy(e => e.Key));
        }
    }

    [Fact]
    public void The_median_is_the_middle_or_the_mean_of_the_two_middles()
    {
        Assert.Null(CycleTime.Median([]));
        Assert.Equal(3, CycleTime.Median([5, 3, 1]));
        Assert.Equal(4.5, CycleTime.Median([24, 1, 6, 3]));
    }

    [Fact]
    public void Prices_are_per_million_tokens_input_and_output_apart()
    {
        var prices = new PriceTable(new Dictionary<string, ModelPrice>
        {
            ["claude-sonnet-4"] = new(3, 15), ["claude-sonnet-4-5"] = new(3.5m, 16), ["gpt-4o"] = new(2.5m, 10), ["gpt-4o-mini"] = new(0.15m, 0.6m),
        });
        Assert.Equal(new Cost(0.0035m, 0.016m, true), prices.Price("claude-sonnet-4-5", 1000, 1000));
        // Not per thousand, and not the same price for both directions (the reference's #164).
        Assert.Equal(3.5m + 16m, prices.Price("claude-sonnet-4-5", 1_000_000, 1_000_000).Total);
        // Any case; a provider prefix; a dated snapshot takes the longest name it extends.
        Assert.Equal(new ModelPrice(3.5m, 16), prices.Find("Claude-Sonnet-4-5"));
        Assert.Equal(new ModelPrice(3.5m, 16), prices.Find("anthropic/claude-sonnet-4-5"));
        Assert.Equal(new ModelPrice(3.5m, 16), prices.Find("claude-sonnet-4-5-20250929"));
        Assert.Equal(new ModelPrice(3, 15), prices.Find("claude-sonnet-4-20250514"));
        Assert.Equal(new ModelPrice(0.15m, 0.6m), prices.Find("gpt-4o-mini-2024-07-18"));
        // Unknown: free and flagged, never a guess.
        Assert.Null(prices.Find("gpt-4"));
        Assert.Null(prices.Find("claude-sonnet-45"));
        Assert.Equal(new Cost(0, 0, false), prices.Price("mystery", 1000, 1000));
    }

    [Fact]
    public void Csv_quotes_fields_as_rfc_4180_says()
    {
        var table = new Table(["model", "records", "when"],
        [
            ["plain", 1, new DateTimeOffset(2026, 11, 10, 10, 0, 0, TimeSpan.Zero)],
            ["a,b", 2, null],
            ["say \"hi\"", 3.5m, null],
            ["two\nlines", true, null],
        ]);
        Assert.Equal(
            "model,records,when\r\n" +
            "plain,1,2026-11-10T10:00:00.000000Z\r\n" +
            "\"a,b\",2,\r\n" +
            "\"say \"\"hi\"\"\",3.5,\r\n" +
            "\"two\nlines\",true,\r\n",
            table.ToCsv());
    }
}
