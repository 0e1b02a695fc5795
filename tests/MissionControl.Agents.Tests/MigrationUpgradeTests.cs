using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using MissionControl.Agents.Data;

namespace MissionControl.Agents.Tests;

/// <summary>
/// A database made by the first release of agents (the platform only: its Initial migration) upgrades
/// when the current service starts. Replacing that Initial migration made such a database fail to start.
/// </summary>
public abstract class MigrationUpgradeTests(BrokerFixture broker)
{
    protected abstract string DatabaseConnectionString();
    protected abstract AgentsDbContext Open(string connectionString);
    protected abstract string FirstReleaseInitial { get; }

    [Fact]
    public async Task A_database_from_the_first_release_upgrades_when_the_service_starts()
    {
        var cs = DatabaseConnectionString();
        await using (var old = Open(cs))
        {
            var initial = old.Database.GetMigrations().First();
            Assert.Equal(FirstReleaseInitial, initial); // released migrations are never replaced, only added to
            await old.GetService<IMigrator>().MigrateAsync(initial);
        }

        await using var service = new ServiceFactory<Program>(new Dictionary<string, string?>
        {
            ["ConnectionStrings:messaging"] = broker.ConnectionString,
            ["ConnectionStrings:agentsdb"] = cs,
            ["services:orgs:http:0"] = "http://127.0.0.1:9",
        });
        await service.CreateClient().WaitHealthyAsync();
        var page = await service.ClientFor(TestTokens.Owner(Guid.NewGuid())).GetFromJsonAsync<JsonElement>("/api/v1/agents");
        Assert.Equal(0, page.GetProperty("total").GetInt32());
        await using var upgraded = Open(cs);
        Assert.Empty(await upgraded.Database.GetPendingMigrationsAsync());
    }
}

[Collection(InfrastructureCollection.Collection)]
public sealed class MigrationUpgradeOnSqliteTests(BrokerFixture broker) : MigrationUpgradeTests(broker)
{
    protected override string DatabaseConnectionString() =>
        $"Data Source={Path.Combine(Path.GetTempPath(), $"mc-agents-upgrade-{Guid.NewGuid():N}.db")}";

    protected override string FirstReleaseInitial => "20261122224654_Initial";

    protected override AgentsDbContext Open(string cs) =>
        new SqliteAgentsDbContext(new DbContextOptionsBuilder<SqliteAgentsDbContext>().UseSqlite(cs).UseSnakeCaseNamingConvention().Options);
}

[Collection(InfrastructureCollection.Collection)]
public sealed class MigrationUpgradeOnPostgresTests(BrokerFixture broker, PostgresFixture postgres) : MigrationUpgradeTests(broker)
{
    protected override string DatabaseConnectionString() => postgres.ConnectionStringForNewDatabase("agents_upgrade");

    protected override string FirstReleaseInitial => "20261122224703_Initial";

    protected override AgentsDbContext Open(string cs) =>
        new PostgresAgentsDbContext(new DbContextOptionsBuilder<PostgresAgentsDbContext>().UseNpgsql(cs).UseSnakeCaseNamingConvention().Options);
}
