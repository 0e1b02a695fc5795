using Microsoft.EntityFrameworkCore;
using MissionControl.Messaging;

namespace MissionControl.Tasks.Data;

public abstract class TasksDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<TaskItem> Tasks => Set<TaskItem>();
    public DbSet<BoardCopy> Boards => Set<BoardCopy>();

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
        model.AddOutboxAndInbox();
    }
}

public sealed class SqliteTasksDbContext(DbContextOptions<SqliteTasksDbContext> options) : TasksDbContext(options);

public sealed class PostgresTasksDbContext(DbContextOptions<PostgresTasksDbContext> options) : TasksDbContext(options);

internal sealed class SqliteTasksDesignFactory : Microsoft.Extensions.Hosting.SqliteDesignTimeFactory<SqliteTasksDbContext>;

internal sealed class PostgresTasksDesignFactory : Microsoft.Extensions.Hosting.PostgresDesignTimeFactory<PostgresTasksDbContext>;
