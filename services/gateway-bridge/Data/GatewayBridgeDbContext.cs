using Microsoft.EntityFrameworkCore;
using MissionControl.Messaging;

namespace MissionControl.GatewayBridge.Data;

/// <summary>
/// gateway-bridge's own database: gateways (tokens encrypted), the live-connection lease per gateway,
/// event-fed copies of agents and boards, and one row per message sent into an agent's session.
/// </summary>
public abstract class GatewayBridgeDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<Gateway> Gateways => Set<Gateway>();
    public DbSet<GatewayLease> GatewayLeases => Set<GatewayLease>();
    public DbSet<AgentCopy> Agents => Set<AgentCopy>();
    public DbSet<BoardCopy> Boards => Set<BoardCopy>();
    public DbSet<Dispatch> Dispatches => Set<Dispatch>();

    protected override void ConfigureConventions(ModelConfigurationBuilder configuration) => configuration.UseUtcDateTimes();

    protected override void OnModelCreating(ModelBuilder model)
    {
        model.AddOutboxAndInbox();
        model.Entity<Gateway>(e =>
        {
            e.ToTable("gateways");
            e.HasIndex(g => new { g.OrganizationId, g.CreatedAt });
            e.Property(g => g.Name).HasMaxLength(256);
            e.Property(g => g.Url).HasMaxLength(2048);
            e.Property(g => g.WorkspaceRoot).HasMaxLength(1024);
            e.Property(g => g.ConnectionState).HasMaxLength(32);
        });
        model.Entity<GatewayLease>(e =>
        {
            e.ToTable("gateway_leases");
            e.HasKey(l => l.GatewayId);
            e.Property(l => l.Owner).HasMaxLength(128);
        });
        model.Entity<AgentCopy>(e =>
        {
            e.ToTable("agent_copies");
            e.HasKey(a => a.Id);
            e.HasIndex(a => a.SessionKey);
            e.HasIndex(a => a.GatewayId);
        });
        model.Entity<BoardCopy>(e =>
        {
            e.ToTable("board_copies");
            e.HasKey(b => b.Id);
        });
        model.Entity<Dispatch>(e =>
        {
            e.ToTable("dispatches");
            e.HasKey(d => d.Id);
            e.HasIndex(d => new { d.GatewayId, d.State, d.SentAt });
            // An agent's messages that wait for it to be on its gateway, found when it is provisioned (the
            // table keeps every message ever sent: without it each provisioning read them all).
            e.HasIndex(d => new { d.AgentId, d.State, d.SentAt });
        });
    }
}

public sealed class SqliteGatewayBridgeDbContext(DbContextOptions<SqliteGatewayBridgeDbContext> options) : GatewayBridgeDbContext(options);

public sealed class PostgresGatewayBridgeDbContext(DbContextOptions<PostgresGatewayBridgeDbContext> options) : GatewayBridgeDbContext(options);

internal sealed class SqliteGatewayBridgeDesignFactory : SqliteDesignTimeFactory<SqliteGatewayBridgeDbContext>;

internal sealed class PostgresGatewayBridgeDesignFactory : PostgresDesignTimeFactory<PostgresGatewayBridgeDbContext>;
