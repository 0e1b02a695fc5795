using Microsoft.EntityFrameworkCore;
using MissionControl.Messaging;

namespace MissionControl.Agents.Data;

/// <summary>agents' own database: agents (with token hashes and lifecycle state) and event-fed copies of boards and gateways.</summary>
public abstract class AgentsDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<Agent> Agents => Set<Agent>();
    public DbSet<BoardCopy> Boards => Set<BoardCopy>();
    public DbSet<GatewayCopy> Gateways => Set<GatewayCopy>();
    public DbSet<CallbackDelivery> CallbackDeliveries => Set<CallbackDelivery>();

    protected override void ConfigureConventions(ModelConfigurationBuilder configuration) => configuration.UseUtcDateTimes();

    protected override void OnModelCreating(ModelBuilder model)
    {
        model.Entity<Agent>(e =>
        {
            e.ToTable("agents");
            e.Property(a => a.Name).HasMaxLength(256);
            e.Property(a => a.Status).HasMaxLength(32);
            e.Property(a => a.GatewayAgentId).HasMaxLength(100);
            e.Property(a => a.SessionKey).HasMaxLength(200);
            e.Property(a => a.TokenHash).HasMaxLength(64);
            e.Property(a => a.ProvisionAction).HasMaxLength(16);
            e.Property(a => a.PublishedStatus).HasMaxLength(32);
            e.Property(a => a.Role).HasMaxLength(100);
            e.Property(a => a.CallbackUrl).HasMaxLength(2048);
            e.HasIndex(a => a.TokenHash).IsUnique();
            e.HasIndex(a => new { a.OrganizationId, a.BoardId });
            e.HasIndex(a => a.BoardId);
            e.HasIndex(a => a.GatewayId);
            e.HasIndex(a => a.Status);
            e.HasIndex(a => a.PresenceExpiresAt);
            // Answers, retries and user actions race on a run: the generation decides who wins.
            e.Property(a => a.ProvisionGeneration).IsConcurrencyToken();
        });
        model.Entity<BoardCopy>(e =>
        {
            e.ToTable("boards");
            e.Property(b => b.Id).ValueGeneratedNever();
            e.Property(b => b.Name).HasMaxLength(256);
            e.HasIndex(b => b.OrganizationId);
        });
        model.Entity<GatewayCopy>(e =>
        {
            e.ToTable("gateways");
            e.Property(g => g.Id).ValueGeneratedNever();
            e.Property(g => g.Name).HasMaxLength(256);
            e.HasIndex(g => g.OrganizationId);
        });
        model.Entity<CallbackDelivery>(e =>
        {
            e.ToTable("callback_deliveries");
            e.Property(d => d.Id).ValueGeneratedNever();
            e.Property(d => d.Event).HasMaxLength(64);
            e.Property(d => d.Status).HasMaxLength(16);
            e.Property(d => d.LastError).HasMaxLength(500);
            // The sender's scan: pending heads in creation order.
            e.HasIndex(d => new { d.Status, d.CreatedAt });
            e.HasIndex(d => new { d.AgentId, d.CreatedAt });
        });
        model.AddOutboxAndInbox();
    }
}

public sealed class SqliteAgentsDbContext(DbContextOptions<SqliteAgentsDbContext> options) : AgentsDbContext(options);

public sealed class PostgresAgentsDbContext(DbContextOptions<PostgresAgentsDbContext> options) : AgentsDbContext(options);

internal sealed class SqliteAgentsDesignFactory : SqliteDesignTimeFactory<SqliteAgentsDbContext>;

internal sealed class PostgresAgentsDesignFactory : PostgresDesignTimeFactory<PostgresAgentsDbContext>;
