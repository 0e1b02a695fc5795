using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using MissionControl.Tasks.Data;

namespace MissionControl.Tasks.Tests;

/// <summary>
/// A database made by the first release of tasks (only its Initial migration) upgrades through the
/// later migrations when the current service starts, and keeps its data.
/// </summary>
public abstract class MigrationUpgradeTests(BrokerFixture broker)
{
    protected abstract string DatabaseConnectionString();
    protected abstract TasksDbContext OpenAtFirstRelease(string connectionString);

    [Fact]
    public async Task A_database_from_the_first_release_upgrades_without_losing_data()
    {
        var cs = DatabaseConnectionString();
        var org = Guid.NewGuid();
        var board = Guid.NewGuid();
        var task = Guid.NewGuid();
        await using (var old = OpenAtFirstRelease(cs))
        {
            var migrator = old.GetService<IMigrator>();
            var initial = old.Database.GetMigrations().First();
            Assert.EndsWith("_Initial", initial);
            await migrator.MigrateAsync(initial);
            Assert.Equal([initial], await old.Database.GetAppliedMigrationsAsync());

            // Rows as the first release wrote them: its columns only (today's model has more).
            var now = DateTime.UtcNow;
            await old.Database.ExecuteSqlAsync(
                $"INSERT INTO boards (id, organization_id, name, require_approval_for_done, require_review_before_done, comment_required_for_review, block_status_changes_with_pending_approval, only_lead_can_change_status, max_agents, updated_at) VALUES ({board}, {org}, {"Old board"}, {true}, {false}, {false}, {false}, {false}, {1}, {now})");
            await old.Database.ExecuteSqlAsync(
                $"INSERT INTO tasks (id, organization_id, board_id, title, status, priority, created_at, updated_at) VALUES ({task}, {org}, {board}, {"Made before the upgrade"}, {"inbox"}, {"low"}, {now}, {now})");
        }

        await using var service = new ServiceFactory<Program>(new Dictionary<string, string?>
        {
            ["ConnectionStrings:messaging"] = broker.ConnectionString,
            ["ConnectionStrings:tasksdb"] = cs,
            ["services:orgs:http:0"] = "http://127.0.0.1:9",
        });
        // Let the bus finish starting: a host stopped halfway through starting its consumers can leave them
        // running on the shared queues, taking (and failing) the next tests' messages.
        await service.CreateClient().WaitHealthyAsync();
        var page = await service.ClientFor(TestTokens.Owner(org)).GetFromJsonAsync<JsonElement>($"/api/v1/boards/{board}/tasks?status=inbox");

        var item = Assert.Single(page.GetProperty("items").EnumerateArray());
        // The total comes from counters a later migration created and back-filled from existing tasks.
        Assert.Equal(1, page.GetProperty("total").GetInt32());
        Assert.Equal(task, item.GetProperty("id").GetGuid());
        Assert.Equal("Made before the upgrade", item.GetProperty("title").GetString());
        Assert.Empty(item.GetProperty("depends_on_task_ids").EnumerateArray());
        Assert.False(item.GetProperty("is_blocked").GetBoolean());
        await using var upgraded = OpenAtFirstRelease(cs);
        Assert.Empty(await upgraded.Database.GetPendingMigrationsAsync());
        Assert.True((await upgraded.Database.GetAppliedMigrationsAsync()).Count() >= 4);
    }
}

[Collection(InfrastructureCollection.Collection)]
public sealed class MigrationUpgradeOnSqliteTests(BrokerFixture broker) : MigrationUpgradeTests(broker)
{
    protected override string DatabaseConnectionString() =>
        $"Data Source={Path.Combine(Path.GetTempPath(), $"mc-tasks-upgrade-{Guid.NewGuid():N}.db")}";

    protected override TasksDbContext OpenAtFirstRelease(string cs) =>
        new SqliteTasksDbContext(new DbContextOptionsBuilder<SqliteTasksDbContext>().UseSqlite(cs).UseSnakeCaseNamingConvention().Options);
}

[Collection(InfrastructureCollection.Collection)]
public sealed class MigrationUpgradeOnPostgresTests(BrokerFixture broker, PostgresFixture postgres) : MigrationUpgradeTests(broker)
{
    protected override string DatabaseConnectionString() => postgres.ConnectionStringForNewDatabase("tasks_upgrade");

    protected override TasksDbContext OpenAtFirstRelease(string cs) =>
        new PostgresTasksDbContext(new DbContextOptionsBuilder<PostgresTasksDbContext>().UseNpgsql(cs).UseSnakeCaseNamingConvention().Options);
}
