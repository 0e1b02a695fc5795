using Microsoft.EntityFrameworkCore;
using MissionControl.GatewayBridge.Connections;
using MissionControl.GatewayBridge.Data;

namespace MissionControl.GatewayBridge.Tests;

/// <summary>
/// The messages waiting for an agent are found through an index (SQLite's plan on the migrated schema):
/// the dispatches table keeps every message ever sent, and each provisioning run reads this.
/// </summary>
public sealed class DispatchQueryPlanTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"mc-bridge-plan-{Guid.NewGuid():N}.db");

    [Fact]
    public async Task An_agents_waiting_messages_are_one_range_of_an_index()
    {
        var plans = new SqliteQueryPlans(sql => sql.Contains("FROM \"dispatches\"", StringComparison.Ordinal));
        var options = new DbContextOptionsBuilder<SqliteGatewayBridgeDbContext>()
            .UseSqlite($"Data Source={_path}").UseSnakeCaseNamingConvention().AddInterceptors(plans).Options;
        await using var db = new SqliteGatewayBridgeDbContext(options);
        await db.Database.MigrateAsync();

        Assert.Empty(await Dispatching.AwaitingAgentOf(db, Guid.NewGuid()).ToListAsync());

        // Before, the plan was a scan of every dispatch and a sort of what it found.
        var plan = Assert.Single(plans.Recorded).Plan;
        Assert.Equal("SEARCH d USING INDEX ix_dispatches_agent_id_state_sent_at (agent_id=? AND state=?)", Assert.Single(plan));
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var file in new[] { _path, _path + "-wal", _path + "-shm" }) File.Delete(file);
    }
}
