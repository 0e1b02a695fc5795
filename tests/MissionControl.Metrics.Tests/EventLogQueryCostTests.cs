using System.Data.Common;
using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace MissionControl.Metrics.Tests;

/// <summary>
/// What logging an event costs metrics beyond the log itself: a live feed reads the events this
/// instance logged from memory, and with no webhook anywhere a logged batch starts no webhook scan.
/// </summary>
[Collection(InfrastructureCollection.Collection)]
public sealed class EventLogQueryCostTests(BrokerFixture broker) : MetricsServiceTest(broker)
{
    private readonly CommandCounter _commands = new();

    protected override string DatabaseConnectionString() => OnSqlite.NewDatabase();

    protected override void ConfigureServices(IServiceCollection services) => services.AddSingleton<IInterceptor>(_commands);

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
