using Microsoft.EntityFrameworkCore;
using MissionControl.Messaging;

namespace MissionControl.Tasks.Data;

public abstract class TasksDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<TaskItem> Tasks => Set<TaskItem>();
    public DbSet<BoardCopy> Boards => Set<BoardCopy>();
    public DbSet<BoardTaskCount> TaskCounts => Set<BoardTaskCount>();

    protected override void ConfigureConventions(ModelConfigurationBuilder configuration) => configuration.UseUtcDateTimes();

    protected override void OnModelCreating(ModelBuilder model)
    {
        model.Entity<TaskItem>(e =>
        {
            e.ToTable("tasks");
            e.Property(t => t.Title).HasMaxLength(500);
            e.Property(t => t.Status).HasMaxLength(32);
            e.Property(t => t.Priority).HasMaxLength(32);
            e.HasIndex(t => new { t.BoardId, t.CreatedAt });
            // Added in the second migration: the board list filtered by status.
            e.HasIndex(t => new { t.BoardId, t.Status, t.CreatedAt });
        });
        model.Entity<BoardCopy>(e =>
        {
            e.ToTable("boards");
            e.Property(b => b.Id).ValueGeneratedNever();
            e.Property(b => b.Name).HasMaxLength(200);
        });
        model.Entity<BoardTaskCount>(e =>
        {
            e.ToTable("board_task_counts");
            e.HasKey(c => new { c.BoardId, c.Status });
            e.Property(c => c.Status).HasMaxLength(32);
        });
        model.AddOutboxAndInbox();
    }
}

public static class TaskCounts
{
    /// <summary>Adds <paramref name="delta"/> to a board's count for a status; an atomic upsert, the same SQL on SQLite and PostgreSQL.</summary>
    public static Task AddAsync(TasksDbContext db, Guid boardId, string status, int delta, CancellationToken ct) =>
        db.Database.ExecuteSqlAsync(
            $"INSERT INTO board_task_counts (board_id, status, task_count) VALUES ({boardId}, {status}, {delta}) ON CONFLICT (board_id, status) DO UPDATE SET task_count = board_task_counts.task_count + {delta}",
            ct);

    /// <summary>Migration step: counts for the tasks that exist already.</summary>
    public const string BackfillSql =
        "INSERT INTO board_task_counts (board_id, status, task_count) SELECT board_id, status, COUNT(*) FROM tasks GROUP BY board_id, status";
}

public sealed class SqliteTasksDbContext(DbContextOptions<SqliteTasksDbContext> options) : TasksDbContext(options);

public sealed class PostgresTasksDbContext(DbContextOptions<PostgresTasksDbContext> options) : TasksDbContext(options);

internal sealed class SqliteTasksDesignFactory : Microsoft.Extensions.Hosting.SqliteDesignTimeFactory<SqliteTasksDbContext>;

internal sealed class PostgresTasksDesignFactory : Microsoft.Extensions.Hosting.PostgresDesignTimeFactory<PostgresTasksDbContext>;
