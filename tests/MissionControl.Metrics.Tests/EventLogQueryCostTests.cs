using System.Data.Common;
using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace MissionControl.Metrics.Tests;

/// <summary>
/// What logging an event costs metrics beyond the log itself: a live feed reads the events this
/// instance logged from memory, with no webhook anywhere a logged batch starts no webhook scan, and
/// the retention sweep never reads the whole log.
/// </summary>
[Collection(InfrastructureCollection.Collection)]
public sealed class EventLogQueryCostTests(BrokerFixture broker) : MetricsServiceTest(broker)
{
    private readonly CommandCounter _commands = new();
    private readonly RetentionPlans _plans = new();

    protected override string DatabaseConnectionString() => OnSqlite.NewDatabase();

    protected override void ConfigureServices(IServiceCollection services) => services.AddSingleton<IInterceptor>(_commands).AddSingleton<IInterceptor>(_plans);

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

        var plan = Assert.Single(_plans.Recorded);
        Assert.Contains(plan, step => step.Contains("USING COVERING INDEX ix_events_logged_at (logged_at<?)", StringComparison.Ordinal));
        Assert.DoesNotContain(plan, step => step.StartsWith("SCAN", StringComparison.Ordinal));
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

    /// <summary>SQLite's query plan of each read of the events by their logged_at bound (the retention's lookup).</summary>
    private sealed class RetentionPlans : DbCommandInterceptor
    {
        public List<List<string>> Recorded { get; } = [];

        public override async ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(
            DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken ct = default)
        {
            if (!command.CommandText.Contains("FROM \"events\"", StringComparison.Ordinal) || !command.CommandText.Contains("\"logged_at\" < @", StringComparison.Ordinal))
                return result;
            await using var explain = command.Connection!.CreateCommand();
            explain.Transaction = command.Transaction;
            explain.CommandText = "EXPLAIN QUERY PLAN " + command.CommandText;
            foreach (DbParameter p in command.Parameters)
            {
                var copy = explain.CreateParameter();
                copy.ParameterName = p.ParameterName;
                copy.Value = p.Value;
                explain.Parameters.Add(copy);
            }
            var plan = new List<string>();
            await using (var reader = await explain.ExecuteReaderAsync(ct))
                while (await reader.ReadAsync(ct)) plan.Add(reader.GetString(reader.GetOrdinal("detail")));
            lock (Recorded) Recorded.Add(plan);
            return result;
        }
    }
}
