using Microsoft.EntityFrameworkCore;
using MissionControl.Messaging;

namespace MissionControl.GatewayBridge.Data;

/// <summary>gateway-bridge's own database. So far only the outbox and inbox; its tables arrive with its features.</summary>
public abstract class GatewayBridgeDbContext(DbContextOptions options) : DbContext(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configuration) => configuration.UseUtcDateTimes();

    protected override void OnModelCreating(ModelBuilder model) => model.AddOutboxAndInbox();
}

public sealed class SqliteGatewayBridgeDbContext(DbContextOptions<SqliteGatewayBridgeDbContext> options) : GatewayBridgeDbContext(options);

public sealed class PostgresGatewayBridgeDbContext(DbContextOptions<PostgresGatewayBridgeDbContext> options) : GatewayBridgeDbContext(options);

internal sealed class SqliteGatewayBridgeDesignFactory : SqliteDesignTimeFactory<SqliteGatewayBridgeDbContext>;

internal sealed class PostgresGatewayBridgeDesignFactory : PostgresDesignTimeFactory<PostgresGatewayBridgeDbContext>;
