using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using MissionControl.LocalServers;

namespace MissionControl.EndToEnd.Tests;

/// <summary>
/// With Database__MigrateInChildProcess (as the AppHost starts the services), a service whose database has
/// pending migrations has them applied by a short-lived copy of itself, so what migrating loads does not stay in
/// the serving process; a start that finds nothing pending starts no copy, and a copy that fails stops the start.
/// </summary>
[Collection(SystemCollection.Collection)]
public sealed partial class MigrationProcessTests(BrokerFixture broker)
{
    [Fact]
    public async Task A_new_database_is_migrated_by_a_child_process_and_the_next_start_runs_none()
    {
        await using var system = new SystemProcesses();
        var orgs = await system.StartAsync("orgs", "MissionControl.Orgs", Settings(system));
        var log = Path.Combine(system.WorkDir, "orgs.log");

        var firstStart = File.ReadAllText(log);
        var applied = AppliedIn().Matches(firstStart).Single();
        var reported = AppliedBy().Matches(firstStart).Single();
        var child = int.Parse(applied.Groups["pid"].Value);
        Assert.Equal(child, int.Parse(reported.Groups["pid"].Value));
        Assert.True(int.Parse(applied.Groups["count"].Value) > 0);
        Assert.False(ProcessTree.IsAlive(child), "the migration process is gone");
        // The serving process has the schema: resolving a principal writes to the identity tables.
        using var service = new HttpClient { BaseAddress = new Uri(orgs) };
        service.DefaultRequestHeaders.Authorization = new("Bearer", TestTokens.Sign(TestTokens.Service()));
        using var resolved = await service.PostAsJsonAsync("/internal/v1/principals/resolve", new { external_id = "migrated" });
        Assert.Equal(HttpStatusCode.OK, resolved.StatusCode);

        await system.KillAsync("orgs");
        await system.RestartAsync("orgs");
        var text = File.ReadAllText(log);
        Assert.Single(AppliedIn().Matches(text));
        Assert.Single(AppliedBy().Matches(text));
    }

    [Fact]
    public async Task A_failed_migration_process_stops_the_service_from_starting()
    {
        await using var system = new SystemProcesses();
        // A table the first migration creates is already there, unknown to the history: its CREATE TABLE fails.
        await using (var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(system.WorkDir, "orgs.db")};Pooling=false"))
        {
            await db.OpenAsync();
            await using var create = db.CreateCommand();
            create.CommandText = "CREATE TABLE boards (x INTEGER)";
            await create.ExecuteNonQueryAsync();
        }

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => system.StartAsync("orgs", "MissionControl.Orgs", Settings(system)));
        Assert.Matches(@"The migration process \d+ exited with code [1-9]", refused.Message);
        Assert.Empty(AppliedBy().Matches(File.ReadAllText(Path.Combine(system.WorkDir, "orgs.log"))));
    }

    private Dictionary<string, string?> Settings(SystemProcesses system) => new()
    {
        ["InternalAuth__VerificationKey"] = TestTokens.VerificationKey,
        ["ConnectionStrings__messaging"] = broker.ConnectionString,
        ["ConnectionStrings__orgsdb"] = $"Data Source={Path.Combine(system.WorkDir, "orgs.db")}",
        ["Database__MigrateInChildProcess"] = "true",
    };

    [GeneratedRegex(@"Applied (?<count>\d+) migrations in process (?<pid>\d+)")]
    private static partial Regex AppliedIn();

    [GeneratedRegex(@"Migrations applied by process (?<pid>\d+)")]
    private static partial Regex AppliedBy();
}
