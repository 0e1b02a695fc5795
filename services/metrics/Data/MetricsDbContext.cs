using Microsoft.EntityFrameworkCore;
using MissionControl.Messaging;

namespace MissionControl.Metrics.Data;

/// <summary>metrics's own database. So far only the outbox and inbox; its tables arrive with its features.</summary>
public abstract class MetricsDbContext(DbContextOptions options) : DbContext(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configuration) => configuration.UseUtcDateTimes();

    protected override void OnModelCreating(ModelBuilder model) => model.AddOutboxAndInbox();
}

public sealed class SqliteMetricsDbContext(DbContextOptions<SqliteMetricsDbContext> options) : MetricsDbContext(options);

public sealed class PostgresMetricsDbContext(DbContextOptions<PostgresMetricsDbContext> options) : MetricsDbContext(options);

internal sealed class SqliteMetricsDesignFactory : SqliteDesignTimeFactory<SqliteMetricsDbContext>;

internal sealed class PostgresMetricsDesignFactory : PostgresDesignTimeFactory<PostgresMetricsDbContext>;
