using Microsoft.EntityFrameworkCore;
using MissionControl.Messaging;
using MissionControl.Metrics.Activity;
using MissionControl.Metrics.EventLog;
using MissionControl.Metrics.ReadModels;
using MissionControl.Metrics.Tokens;
using MissionControl.Metrics.Webhooks;

namespace MissionControl.Metrics.Data;

/// <summary>metrics's own database: the event log and what is derived from it.</summary>
public abstract class MetricsDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<LogEntry> Events => Set<LogEntry>();
    public DbSet<LogHead> LogHead => Set<LogHead>();
    public DbSet<WebhookSubscription> WebhookSubscriptions => Set<WebhookSubscription>();
    public DbSet<WebhookDelivery> WebhookDeliveries => Set<WebhookDelivery>();
    public DbSet<WebhookAttempt> WebhookAttempts => Set<WebhookAttempt>();
    public DbSet<ActivityCount> ActivityCounts => Set<ActivityCount>();

    // Read models (ReadModels/)
    public DbSet<BoardCopy> BoardCopies => Set<BoardCopy>();
    public DbSet<AgentCopy> AgentCopies => Set<AgentCopy>();
    public DbSet<TaskState> TaskStates => Set<TaskState>();
    public DbSet<TaskStatusChange> TaskStatusHistory => Set<TaskStatusChange>();
    public DbSet<ApprovalCopy> ApprovalStates => Set<ApprovalCopy>();

    // Token usage (Tokens/)
    public DbSet<TokenUsageRecord> TokenUsage => Set<TokenUsageRecord>();

    protected override void ConfigureConventions(ModelConfigurationBuilder configuration) => configuration.UseUtcDateTimes();

    protected override void OnModelCreating(ModelBuilder model)
    {
        model.AddOutboxAndInbox();

        model.Entity<LogEntry>(e =>
        {
            e.ToTable("events");
            e.HasKey(x => x.Seq);
            e.Property(x => x.Seq).ValueGeneratedNever();
            e.HasIndex(x => x.EventId).IsUnique();
            // Replays and pages seek by (organization, seq) or (organization, board, seq): their cost does not grow
            // with the log. Every board read names its organization too; with a (board, seq) index SQLite (which has
            // no statistics here) took the organization's and walked all its boards' events. No read seeks by task.
            e.HasIndex(x => new { x.OrganizationId, x.Seq });
            e.HasIndex(x => new { x.OrganizationId, x.BoardId, x.Seq });
            e.HasIndex(x => x.LoggedAt);
            e.Property(x => x.Topic).HasMaxLength(32);
            e.Property(x => x.Name).HasMaxLength(32);
            e.Property(x => x.Type).HasMaxLength(80);
            e.Property(x => x.Audience).HasMaxLength(16);
        });
        model.Entity<LogHead>(e =>
        {
            e.ToTable("event_log_head");
            e.Property(x => x.Id).ValueGeneratedNever();
            e.HasData(new LogHead { Id = 1, LastSeq = 0 });
        });
        ActivityCount.Configure(model);
        ReadModelsModel.Configure(model);
        TokenUsageRecord.Configure(model);
        WebhookModel.Configure(model);
    }
}

public sealed class SqliteMetricsDbContext(DbContextOptions<SqliteMetricsDbContext> options) : MetricsDbContext(options);

public sealed class PostgresMetricsDbContext(DbContextOptions<PostgresMetricsDbContext> options) : MetricsDbContext(options);

internal sealed class SqliteMetricsDesignFactory : SqliteDesignTimeFactory<SqliteMetricsDbContext>;

internal sealed class PostgresMetricsDesignFactory : PostgresDesignTimeFactory<PostgresMetricsDbContext>;
