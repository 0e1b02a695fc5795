using Microsoft.EntityFrameworkCore;
using MissionControl.Messaging;

namespace MissionControl.Tasks.Data;

public abstract class TasksDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<TaskItem> Tasks => Set<TaskItem>();
    public DbSet<TaskDependency> TaskDependencies => Set<TaskDependency>();
    public DbSet<TaskTag> TaskTags => Set<TaskTag>();
    public DbSet<TaskCustomFieldValue> TaskCustomFieldValues => Set<TaskCustomFieldValue>();
    public DbSet<TaskComment> TaskComments => Set<TaskComment>();
    public DbSet<BoardTaskCount> TaskCounts => Set<BoardTaskCount>();
    public DbSet<Approval> Approvals => Set<Approval>();
    public DbSet<ApprovalTaskLink> ApprovalTaskLinks => Set<ApprovalTaskLink>();
    public DbSet<BoardMemory> BoardMemory => Set<BoardMemory>();
    public DbSet<BoardGroupMemory> BoardGroupMemory => Set<BoardGroupMemory>();
    public DbSet<OnboardingSession> OnboardingSessions => Set<OnboardingSession>();
    public DbSet<BoardWebhook> Webhooks => Set<BoardWebhook>();
    public DbSet<BoardWebhookPayload> WebhookPayloads => Set<BoardWebhookPayload>();

    public DbSet<BoardCopy> Boards => Set<BoardCopy>();
    public DbSet<BoardGroupCopy> BoardGroups => Set<BoardGroupCopy>();
    public DbSet<TagCopy> Tags => Set<TagCopy>();
    public DbSet<CustomFieldDefinitionCopy> CustomFieldDefinitions => Set<CustomFieldDefinitionCopy>();
    public DbSet<CustomFieldBinding> CustomFieldBindings => Set<CustomFieldBinding>();
    public DbSet<AgentCopy> Agents => Set<AgentCopy>();

    protected override void ConfigureConventions(ModelConfigurationBuilder configuration) => configuration.UseUtcDateTimes();

    protected override void OnModelCreating(ModelBuilder model)
    {
        model.Entity<TaskItem>(e =>
        {
            e.ToTable("tasks");
            e.Property(t => t.Title).HasMaxLength(500);
            e.Property(t => t.Status).HasMaxLength(32);
            e.Property(t => t.Priority).HasMaxLength(32);
            e.Property(t => t.AutoReason).HasMaxLength(100);
            e.Property(t => t.Kind).HasMaxLength(16);
            e.HasIndex(t => new { t.BoardId, t.CreatedAt });
            e.HasIndex(t => new { t.BoardId, t.Status, t.CreatedAt });
            e.HasIndex(t => new { t.BoardId, t.AssignedAgentId, t.CreatedAt });
            e.HasIndex(t => t.AssignedAgentId);
            // The organization-wide lists (/api/tasks, /api/mission-control/tasks), newest first, and an
            // organization's deletion: without it each was a scan of every task of every organization.
            e.HasIndex(t => new { t.OrganizationId, t.CreatedAt, t.Id });
        });
        model.Entity<TaskDependency>(e =>
        {
            e.ToTable("task_dependencies");
            e.HasKey(d => new { d.TaskId, d.DependsOnTaskId });
            e.HasIndex(d => d.DependsOnTaskId);
            e.HasIndex(d => d.BoardId);
        });
        model.Entity<TaskTag>(e =>
        {
            e.ToTable("task_tags");
            e.HasKey(t => new { t.TaskId, t.TagId });
            e.HasIndex(t => t.TagId);
        });
        model.Entity<TaskCustomFieldValue>(e =>
        {
            e.ToTable("task_custom_field_values");
            e.HasKey(v => new { v.TaskId, v.DefinitionId });
            e.HasIndex(v => v.DefinitionId);
        });
        model.Entity<TaskComment>(e =>
        {
            e.ToTable("task_comments");
            e.Property(c => c.AuthorName).HasMaxLength(200);
            e.HasIndex(c => new { c.TaskId, c.CreatedAt });
            e.HasIndex(c => c.BoardId);
        });
        model.Entity<BoardTaskCount>(e =>
        {
            e.ToTable("board_task_counts");
            e.HasKey(c => new { c.BoardId, c.Status, c.Shard });
            e.Property(c => c.Status).HasMaxLength(32);
        });
        model.Entity<Approval>(e =>
        {
            e.ToTable("approvals");
            e.Property(a => a.ActionType).HasMaxLength(200);
            e.Property(a => a.Status).HasMaxLength(32);
            e.HasIndex(a => new { a.BoardId, a.CreatedAt });
            // Lists by status, newest first (a board's, and an organization's pending ones), seek instead of
            // walking every approval; a task's or an agent's deletion finds its approvals without a scan.
            e.HasIndex(a => new { a.BoardId, a.Status, a.CreatedAt });
            e.HasIndex(a => new { a.OrganizationId, a.Status, a.CreatedAt });
            e.HasIndex(a => a.TaskId);
            e.HasIndex(a => a.AgentId);
        });
        model.Entity<ApprovalTaskLink>(e =>
        {
            e.ToTable("approval_task_links");
            e.HasKey(l => new { l.ApprovalId, l.TaskId });
            e.HasIndex(l => l.TaskId);
        });
        model.Entity<BoardMemory>(e =>
        {
            e.ToTable("board_memory");
            e.Property(m => m.Source).HasMaxLength(200);
            e.HasIndex(m => new { m.BoardId, m.CreatedAt });
            e.HasIndex(m => new { m.BoardId, m.IsChat, m.CreatedAt });
        });
        model.Entity<BoardGroupMemory>(e =>
        {
            e.ToTable("board_group_memory");
            e.Property(m => m.Source).HasMaxLength(200);
            e.HasIndex(m => new { m.BoardGroupId, m.CreatedAt });
            e.HasIndex(m => new { m.BoardGroupId, m.IsChat, m.CreatedAt });
        });
        model.Entity<OnboardingSession>(e =>
        {
            e.ToTable("board_onboarding_sessions");
            e.Property(s => s.SessionKey).HasMaxLength(300);
            e.Property(s => s.Status).HasMaxLength(32);
            e.HasIndex(s => new { s.BoardId, s.UpdatedAt });
        });
        model.Entity<BoardWebhook>(e =>
        {
            e.ToTable("board_webhooks");
            e.Property(w => w.SignatureHeader).HasMaxLength(200);
            e.HasIndex(w => w.BoardId);
        });
        model.Entity<BoardWebhookPayload>(e =>
        {
            e.ToTable("board_webhook_payloads");
            e.Property(p => p.SourceIp).HasMaxLength(100);
            e.Property(p => p.ContentType).HasMaxLength(200);
            e.HasIndex(p => new { p.WebhookId, p.ReceivedAt });
            e.HasIndex(p => p.BoardId);
        });

        model.Entity<BoardCopy>(e =>
        {
            e.ToTable("boards");
            e.Property(b => b.Id).ValueGeneratedNever();
            e.Property(b => b.Name).HasMaxLength(200);
            e.Property(b => b.Slug).HasMaxLength(200);
            e.Property(b => b.BoardType).HasMaxLength(32);
            e.Property(b => b.GoalSource).HasMaxLength(100);
            e.HasIndex(b => b.OrganizationId);
            e.HasIndex(b => b.BoardGroupId);
        });
        model.Entity<BoardGroupCopy>(e =>
        {
            e.ToTable("board_groups");
            e.Property(g => g.Id).ValueGeneratedNever();
            e.Property(g => g.Name).HasMaxLength(200);
            e.Property(g => g.Slug).HasMaxLength(200);
            e.HasIndex(g => g.OrganizationId);
        });
        model.Entity<TagCopy>(e =>
        {
            e.ToTable("tags");
            e.Property(t => t.Id).ValueGeneratedNever();
            e.Property(t => t.Name).HasMaxLength(200);
            e.Property(t => t.Slug).HasMaxLength(200);
            e.Property(t => t.Color).HasMaxLength(16);
            e.HasIndex(t => t.OrganizationId);
        });
        model.Entity<CustomFieldDefinitionCopy>(e =>
        {
            e.ToTable("custom_field_definitions");
            e.Property(d => d.Id).ValueGeneratedNever();
            e.Property(d => d.FieldKey).HasMaxLength(200);
            e.Property(d => d.Label).HasMaxLength(200);
            e.Property(d => d.FieldType).HasMaxLength(32);
            e.Property(d => d.UiVisibility).HasMaxLength(32);
            e.HasIndex(d => d.OrganizationId);
        });
        model.Entity<CustomFieldBinding>(e =>
        {
            e.ToTable("custom_field_bindings");
            e.HasKey(b => new { b.DefinitionId, b.BoardId });
            e.HasIndex(b => b.BoardId);
        });
        model.Entity<AgentCopy>(e =>
        {
            e.ToTable("agents");
            e.Property(a => a.Id).ValueGeneratedNever();
            e.Property(a => a.Name).HasMaxLength(200);
            e.Property(a => a.Status).HasMaxLength(64);
            e.Property(a => a.SessionKey).HasMaxLength(300);
            e.HasIndex(a => a.BoardId);
            e.HasIndex(a => new { a.OrganizationId, a.GatewayId });
        });
        model.AddOutboxAndInbox();
    }
}

public static class TaskCounts
{
    public const int Shards = 8;

    /// <summary>
    /// Adds <paramref name="delta"/> to a board's count for a status, on one of its shards (random unless
    /// given); an atomic upsert, the same SQL on SQLite and PostgreSQL.
    /// </summary>
    public static Task AddAsync(TasksDbContext db, Guid boardId, string status, int delta, CancellationToken ct, int? shard = null)
    {
        var row = shard ?? Random.Shared.Next(Shards);
        return db.Database.ExecuteSqlAsync(
            $"INSERT INTO board_task_counts (board_id, status, shard, task_count) VALUES ({boardId}, {status}, {row}, {delta}) ON CONFLICT (board_id, status, shard) DO UPDATE SET task_count = board_task_counts.task_count + {delta}",
            ct);
    }

    /// <summary>A task moved from one status to another.</summary>
    public static async Task MoveAsync(TasksDbContext db, Guid boardId, string from, string to, CancellationToken ct)
    {
        if (from == to) return;
        // The two rows of one shard, in one order whatever the direction: on PostgreSQL, inbox -> in_progress
        // beside in_progress -> inbox taking them in opposite orders deadlocked under load (bench/).
        // One statement for both rows (half the statements of a status change).
        var shard = Random.Shared.Next(Shards);
        var ((first, firstDelta), (second, secondDelta)) = string.CompareOrdinal(from, to) < 0 ? ((from, -1), (to, 1)) : ((to, 1), (from, -1));
        await db.Database.ExecuteSqlAsync(
            $"INSERT INTO board_task_counts (board_id, status, shard, task_count) VALUES ({boardId}, {first}, {shard}, {firstDelta}), ({boardId}, {second}, {shard}, {secondDelta}) ON CONFLICT (board_id, status, shard) DO UPDATE SET task_count = board_task_counts.task_count + excluded.task_count",
            ct);
    }

    /// <summary>Migration step: counts for the tasks that exist already.</summary>
    public const string BackfillSql =
        "INSERT INTO board_task_counts (board_id, status, task_count) SELECT board_id, status, COUNT(*) FROM tasks GROUP BY board_id, status";
}

public sealed class SqliteTasksDbContext(DbContextOptions<SqliteTasksDbContext> options) : TasksDbContext(options);

public sealed class PostgresTasksDbContext(DbContextOptions<PostgresTasksDbContext> options) : TasksDbContext(options);

internal sealed class SqliteTasksDesignFactory : Microsoft.Extensions.Hosting.SqliteDesignTimeFactory<SqliteTasksDbContext>;

internal sealed class PostgresTasksDesignFactory : Microsoft.Extensions.Hosting.PostgresDesignTimeFactory<PostgresTasksDbContext>;
