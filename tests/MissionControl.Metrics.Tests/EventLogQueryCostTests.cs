using System.Data.Common;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace MissionControl.Metrics.Tests;

/// <summary>
/// What logging an event costs metrics beyond the log itself: a live feed reads the events this
/// instance logged from memory, with no webhook anywhere a logged batch starts no webhook scan, and
/// neither the retention sweep nor a read from a time walks the log: both seek the logged_at index.
/// </summary>
[Collection(InfrastructureCollection.Collection)]
public sealed class EventLogQueryCostTests(BrokerFixture broker) : MetricsServiceTest(broker)
{
    private readonly CommandCounter _commands = new();
    /// <summary>The plans of the reads of the events bounded by their log time.</summary>
    private readonly SqliteQueryPlans _loggedAtPlans = new(sql => sql.Contains("FROM \"events\"", StringComparison.Ordinal)
        && (sql.Contains("\"logged_at\" <", StringComparison.Ordinal) || sql.Contains("\"logged_at\" >=", StringComparison.Ordinal)));

    protected override string DatabaseConnectionString() => OnSqlite.NewDatabase();

    protected override void ConfigureServices(IServiceCollection services) => services.AddSingleton<IInterceptor>(_commands).AddSingleton<IInterceptor>(_loggedAtPlans);

    [Fact]
    public async Task Events_logged_here_reach_a_live_feed_without_a_database_read_each_and_start_no_webhook_scan()
    {
        var board = Guid.NewGuid();
        var first = await PublishAndWaitLoggedAsync(TaskCreatedEvent(board, Guid.NewGuid(), DateTimeOffset.UtcNow));
        var from = first.GetProperty("seq").GetInt64();
        using var feed = await Edge.GetAsync($"/internal/events/feed?after={from}", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, feed.StatusCode);
        using var reader = new StreamReader(await feed.Content.ReadAsStreamAsync());
        await Task.Delay(300); // the feed has caught up from the database and waits for the next event

        var feedReads = _commands.Count(FeedRead);
        var webhookScans = _commands.Count(WebhookScan);
        const int events = 30;
        for (var i = 0; i < events; i++)
        {
            await PublishAndWaitLoggedAsync(TaskCreatedEvent(board, Guid.NewGuid(), DateTimeOffset.UtcNow));
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            string? line;
            do line = await reader.ReadLineAsync(timeout.Token);
            while (string.IsNullOrEmpty(line));
            Assert.Equal(from + 1 + i, JsonDocument.Parse(line).RootElement.GetProperty("seq").GetInt64());
        }

        // Only the poll (every 250 ms when nothing arrives) may read; before, each logged event was a read.
        Assert.InRange(_commands.Count(FeedRead) - feedReads, 0, 10);
        Assert.Equal(webhookScans, _commands.Count(WebhookScan));
    }

    [Fact]
    public async Task The_retention_sweep_finds_expired_events_through_the_logged_at_index()
    {
        await PublishAndWaitLoggedAsync(TaskCreatedEvent(Guid.NewGuid(), Guid.NewGuid(), DateTimeOffset.UtcNow));

        // Nothing is 30 days old: the usual sweep. Ordered by position, SQLite's plan was "SCAN events",
        // every page of the log, to find that nothing had expired.
        Assert.Equal(0, await Service<MissionControl.Metrics.EventLog.EventLogRetention>().SweepAsync(retentionDays: 30, CancellationToken.None));

        var plan = Assert.Single(_loggedAtPlans.Recorded).Plan;
        Assert.Contains(plan, step => step.Contains("USING COVERING INDEX ix_events_logged_at (logged_at<?)", StringComparison.Ordinal));
        Assert.DoesNotContain(plan, step => step.StartsWith("SCAN", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_read_from_a_time_finds_its_first_event_with_one_seek_of_the_logged_at_index()
    {
        var board = Guid.NewGuid();
        await PublishAndWaitLoggedAsync(TaskCreatedEvent(board, Guid.NewGuid(), DateTimeOffset.UtcNow));
        var since = DateTime.UtcNow;
        await Task.Delay(20);
        var later = Guid.NewGuid();
        await PublishAndWaitLoggedAsync(TaskCreatedEvent(board, Guid.NewGuid(), DateTimeOffset.UtcNow), later);
        var at = Uri.EscapeDataString(since.ToString("O"));

        // The event log's own read (the edge's replay) and the public one: each returns the later event only.
        var page = await Edge.GetFromJsonAsync<JsonElement>($"/internal/events?organization_id={Org}&since={at}");
        Assert.Equal([later], page.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("id").GetGuid()));
        var pub = await Owner.GetFromJsonAsync<JsonElement>($"/api/v1/events?since={at}");
        Assert.Equal([later], pub.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("id").GetGuid()));

        // Before, the organization's lookup walked its events in position order (SQLite's plan: the
        // organization index, every event of it before the time) and the public one sorted every event
        // after the time (a temporary B-tree).
        var plans = _loggedAtPlans.Of("\"logged_at\" >= @");
        Assert.Equal(2, plans.Count);
        Assert.All(plans, plan => Assert.EndsWith(" USING COVERING INDEX ix_events_logged_at (logged_at>?)", Assert.Single(plan), StringComparison.Ordinal));
    }

    /// <summary>The feed's read: every event after a position (a webhook's read also filters by organization).</summary>
    private static bool FeedRead(string sql) => sql.Contains("FROM \"events\"", StringComparison.Ordinal) && sql.Contains("\"e\".\"seq\" > @cursor", StringComparison.Ordinal)
        && !sql.Contains("\"organization_id\" = @", StringComparison.Ordinal);

    private static bool WebhookScan(string sql) => sql.Contains("lease_owner", StringComparison.Ordinal) && sql.Contains("webhook_deliveries", StringComparison.Ordinal);

    private sealed class CommandCounter : DbCommandInterceptor
    {
        private readonly List<string> _texts = [];

        public int Count(Func<string, bool> match)
        {
            lock (_texts) return _texts.Count(match);
        }

        public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(
            DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken ct = default)
        {
            lock (_texts) _texts.Add(command.CommandText);
            return ValueTask.FromResult(result);
        }
    }
}
