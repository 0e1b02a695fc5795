using Microsoft.EntityFrameworkCore;
using MissionControl.Messaging;

namespace MissionControl.Agents.Data;

/// <summary>agents's own database. So far only the outbox and inbox; its tables arrive with its features.</summary>
public abstract class AgentsDbContext(DbContextOptions options) : DbContext(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configuration) => configuration.UseUtcDateTimes();

    protected override void OnModelCreating(ModelBuilder model) => model.AddOutboxAndInbox();
}

public sealed class SqliteAgentsDbContext(DbContextOptions<SqliteAgentsDbContext> options) : AgentsDbContext(options);

public sealed class PostgresAgentsDbContext(DbContextOptions<PostgresAgentsDbContext> options) : AgentsDbContext(options);

internal sealed class SqliteAgentsDesignFactory : SqliteDesignTimeFactory<SqliteAgentsDbContext>;

internal sealed class PostgresAgentsDesignFactory : PostgresDesignTimeFactory<PostgresAgentsDbContext>;
