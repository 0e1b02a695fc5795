using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MissionControl.GatewayBridge.Connections;
using MissionControl.GatewayBridge.Data;
using MissionControl.Messaging;

namespace MissionControl.GatewayBridge.Tests;

/// <summary>
/// Finished dispatches go after the retention (a deleted gateway's too); those still waiting stay whatever their
/// age. Each chunk is one range of the (gateway, state, sent_at) index (SQLite's plan on the migrated schema).
/// </summary>
public sealed class DispatchRetentionTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"mc-bridge-retention-{Guid.NewGuid():N}.db");

    [Fact]
    public async Task Finished_dispatches_older_than_the_retention_are_deleted_and_waiting_ones_kept()
    {
        var plans = new SqliteQueryPlans(sql => sql.Contains("FROM \"dispatches\"", StringComparison.Ordinal));
        var options = new DbContextOptionsBuilder<SqliteGatewayBridgeDbContext>()
            .UseSqlite($"Data Source={_path}").UseSnakeCaseNamingConvention().AddInterceptors(plans).Options;
        var services = new ServiceCollection().AddScoped<GatewayBridgeDbContext>(_ => new SqliteGatewayBridgeDbContext(options)).BuildServiceProvider();
        var now = DateTime.UtcNow;
        var (gateway, deletedGateway) = (Guid.NewGuid(), Guid.NewGuid());
        Dispatch Sent(Guid on, string state, int daysAgo) => new()
        {
            Id = Guid.NewGuid(), OrganizationId = Guid.NewGuid(), GatewayId = on, SessionKey = "agent:mc-x:main", Kind = "prompt", Message = "Do it",
            State = state, SentAt = now.AddDays(-daysAgo),
        };
        var gone = new[] { Sent(gateway, "sent", 31), Sent(gateway, "replied", 40), Sent(gateway, "failed", 31), Sent(deletedGateway, "replied", 90) };
        var kept = new[] { Sent(gateway, "pending", 31), Sent(gateway, "awaiting_agent", 60), Sent(gateway, "replied", 29), Sent(deletedGateway, "sent", 1) };
        await using (var db = new SqliteGatewayBridgeDbContext(options))
        {
            await db.Database.MigrateAsync();
            db.Dispatches.AddRange([.. gone, .. kept]);
            await db.SaveChangesAsync();
        }

        var retention = new DispatchRetention(services.GetRequiredService<IServiceScopeFactory>(), new DatabaseWriteGate(serialize: true),
            Options.Create(new BridgeOptions()), TimeProvider.System, NullLogger<DispatchRetention>.Instance);
        Assert.Equal(gone.Length, await retention.SweepAsync(CancellationToken.None));

        await using (var db = new SqliteGatewayBridgeDbContext(options))
            Assert.Equal(kept.Select(d => d.Id).Order(), (await db.Dispatches.Select(d => d.Id).ToListAsync()).Order());
        var chunks = plans.Recorded.Where(r => r.Sql.Contains("\"sent_at\" <", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(chunks);
        Assert.All(chunks, r => Assert.Contains(r.Plan, step => step.Contains("ix_dispatches_gateway_id_state_sent_at (gateway_id=? AND state=? AND sent_at<?)", StringComparison.Ordinal)));
        Assert.Equal(0, await retention.SweepAsync(CancellationToken.None));
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var file in new[] { _path, _path + "-wal", _path + "-shm" }) File.Delete(file);
    }
}
