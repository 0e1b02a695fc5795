using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MissionControl.Metrics.Data;

namespace MissionControl.Metrics.Tests;

/// <summary>
/// A service on SQLite copies its write-ahead log back on a thread of its own (SqliteCheckpointer), so the
/// event log's commits never carry a checkpoint's fsyncs; its own connections checkpoint only as a fallback.
/// </summary>
[Collection(InfrastructureCollection.Collection)]
public sealed class SqliteCheckpointTests(BrokerFixture broker) : MetricsServiceTest(broker)
{
    protected override string DatabaseConnectionString() => OnSqlite.NewDatabase();

    [Fact]
    public async Task The_log_is_checkpointed_beside_the_writers_whose_own_checkpoint_is_only_a_fallback()
    {
        await PublishAndWaitLoggedAsync(TaskCreatedEvent(Guid.NewGuid(), Guid.NewGuid(), DateTimeOffset.UtcNow));

        var checkpointer = Assert.Single(Metrics.Services.GetServices<IHostedService>().OfType<SqliteCheckpointer>());
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (checkpointer.Counts.Looked == 0 && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.True(checkpointer.Counts.Looked > 0, "the service's checkpointer never ran");

        await using var scope = Metrics.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<MetricsDbContext>();
        await db.Database.OpenConnectionAsync();
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = "PRAGMA wal_autocheckpoint";
        Assert.Equal((long)SqliteCheckpointer.WriterFallbackPages, Convert.ToInt64(await command.ExecuteScalarAsync()));
    }
}
