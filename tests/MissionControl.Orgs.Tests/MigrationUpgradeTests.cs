using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.Hosting;
using MissionControl.InternalAuth;
using MissionControl.Orgs.Data;
using MissionControl.Orgs.Tests.Infrastructure;

namespace MissionControl.Orgs.Tests;

/// <summary>
/// A database made by the first release of orgs (its Initial migration only) upgrades when the current
/// service starts: its users, memberships, grants and boards keep working, and new columns are back-filled.
/// </summary>
public abstract class MigrationUpgradeTests(BrokerFixture broker)
{
    protected abstract string DatabaseConnectionString();
    protected abstract OrgsDbContext Open(string connectionString);

    [Fact]
    public async Task A_database_from_the_first_release_upgrades_without_losing_data()
    {
        var cs = DatabaseConnectionString();
        var (user, org, member, board, access) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var created = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        await using (var old = Open(cs))
        {
            var initial = old.Database.GetMigrations().First();
            Assert.EndsWith("_Initial", initial);
            await old.GetService<IMigrator>().MigrateAsync(initial);
            await old.Database.ExecuteSqlAsync($"INSERT INTO organizations (id, name, normalized_name, created_at, updated_at) VALUES ({org}, {"Old Org"}, {"old org"}, {created}, {created})");
            await old.Database.ExecuteSqlAsync($"INSERT INTO users (id, external_id, email, name, active_organization_id, created_at, updated_at) VALUES ({user}, {"oidc:old|1"}, {"Old.User@Example.test"}, {"Old User"}, {org}, {created}, {created})");
            await old.Database.ExecuteSqlAsync($"INSERT INTO members (id, organization_id, user_id, role, all_boards_read, all_boards_write, created_at, updated_at) VALUES ({member}, {org}, {user}, {"owner"}, {false}, {false}, {created}, {created})");
            await old.Database.ExecuteSqlAsync($"INSERT INTO boards (id, organization_id, name, slug, description, board_type, require_approval_for_done, require_review_before_done, comment_required_for_review, block_status_changes_with_pending_approval, only_lead_can_change_status, max_agents, created_at, updated_at) VALUES ({board}, {org}, {"Old board"}, {"old-board"}, {"d"}, {"goal"}, {true}, {false}, {false}, {false}, {false}, {1}, {created}, {created})");
            await old.Database.ExecuteSqlAsync($"INSERT INTO board_access (id, organization_member_id, board_id, can_read, can_write) VALUES ({access}, {member}, {board}, {true}, {true})");
        }

        await using var service = new ServiceFactory<Program>(new Dictionary<string, string?>
        {
            ["ConnectionStrings:messaging"] = broker.ConnectionString,
            ["ConnectionStrings:orgsdb"] = cs,
        });
        var edge = service.ClientFor(TestTokens.Service());
        var resolved = await (await edge.PostAsJsonAsync("/internal/v1/principals/resolve", new { external_id = "oidc:old|1" }))
            .Content.ReadFromJsonAsync<ResolvedUser>(JsonDefaults.Api);

        Assert.Equal(user, resolved!.UserId);
        Assert.Equal(org, resolved.OrganizationId);
        Assert.Equal([new BoardGrant(board, true, true)], resolved.Boards);
        var owner = service.ClientFor(resolved.ToPrincipal());
        var me = await owner.GetFromJsonAsync<JsonElement>("/api/v1/organizations/me/member");
        Assert.Equal(created, me.GetProperty("board_access")[0].GetProperty("created_at").GetDateTime().ToUniversalTime());
        var read = await owner.GetFromJsonAsync<JsonElement>($"/api/v1/boards/{board}");
        Assert.False(read.GetProperty("goal_confirmed").GetBoolean());
        Assert.False((await owner.GetFromJsonAsync<JsonElement>("/api/v1/organizations/me")).GetProperty("is_personal").GetBoolean());
        // Emails of existing users were normalized: the same address in other case is taken.
        var admin = await (await edge.PostAsJsonAsync("/internal/v1/principals/resolve", new { external_id = "local-admin" }))
            .Content.ReadFromJsonAsync<ResolvedUser>(JsonDefaults.Api);
        var duplicate = await service.ClientFor(admin!.ToPrincipal()).PostAsJsonAsync("/api/v1/users", new { email = "old.user@example.test", name = "Again" });
        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await owner.PostAsJsonAsync("/api/v1/organizations", new { name = "OLD ORG" })).StatusCode);
        await using var upgraded = Open(cs);
        Assert.Empty(await upgraded.Database.GetPendingMigrationsAsync());
    }
}

[Collection(InfrastructureCollection.Collection)]
public sealed class MigrationUpgradeOnSqliteTests(BrokerFixture broker) : MigrationUpgradeTests(broker)
{
    protected override string DatabaseConnectionString() => Databases.NewSqlite("orgs-upgrade");

    protected override OrgsDbContext Open(string cs) =>
        new SqliteOrgsDbContext(new DbContextOptionsBuilder<SqliteOrgsDbContext>().UseSqlite(cs).UseSnakeCaseNamingConvention().Options);
}

[Collection(InfrastructureCollection.Collection)]
public sealed class MigrationUpgradeOnPostgresTests(BrokerFixture broker, PostgresFixture postgres) : MigrationUpgradeTests(broker)
{
    protected override string DatabaseConnectionString() => postgres.ConnectionStringForNewDatabase("orgs_upgrade");

    protected override OrgsDbContext Open(string cs) =>
        new PostgresOrgsDbContext(new DbContextOptionsBuilder<PostgresOrgsDbContext>().UseNpgsql(cs).UseSnakeCaseNamingConvention().Options);
}
