using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using MissionControl.Contracts.Tasks;
using MissionControl.Messaging;
using MissionControl.Tasks.Data;

namespace MissionControl.Tasks.Tests;

/// <summary>
/// InsertBatch writes the new rows of a group commit as one INSERT per table: the rows must read back
/// exactly as SaveChanges would have stored them, on both providers, and the outbox relay must still
/// be woken by the commit.
/// </summary>
public abstract class InsertBatchTests : IAsyncLifetime
{
    protected abstract TasksDbContext Open(params IInterceptor[] interceptors);

    public async Task InitializeAsync()
    {
        await using var db = Open();
        await db.Database.MigrateAsync();
    }

    public virtual Task DisposeAsync() => Task.CompletedTask;

    private static TaskItem NewTask(Guid board, string title, bool full) => new()
    {
        Id = Guid.CreateVersion7(), OrganizationId = Guid.NewGuid(), BoardId = board, Title = title,
        Description = full ? "with every optional field" : null, Status = "inbox", Priority = full ? "critical" : "low",
        DueAt = full ? new DateTime(2027, 1, 2, 3, 4, 5, 678, DateTimeKind.Utc) : null, AssignedAgentId = full ? Guid.NewGuid() : null,
        AutoCreated = full, AutoReason = full ? "lead_agent:x" : null, RequiresApproval = full ? true : null, HasTags = full,
        // Whole microseconds: PostgreSQL keeps no finer.
        CreatedAt = new DateTime(2026, 12, 4, 10, 0, 0, DateTimeKind.Utc).AddTicks(1234560), UpdatedAt = new DateTime(2026, 12, 4, 11, 0, 0, DateTimeKind.Utc),
    };

    private static TaskCreated Created(TaskItem task) => new()
    {
        OrganizationId = task.OrganizationId, BoardId = task.BoardId, OccurredAt = DateTimeOffset.UtcNow,
        Task = new TaskSnapshot
        {
            Id = task.Id, BoardId = task.BoardId, Title = task.Title, Status = task.Status, Priority = task.Priority,
            CreatedAt = task.CreatedAt, UpdatedAt = task.UpdatedAt,
        },
        Activity = new ActivityInfo { Id = Guid.NewGuid(), EventType = "task.created", CreatedAt = DateTimeOffset.UtcNow },
    };

    [Fact]
    public async Task New_rows_are_written_before_SaveChanges_and_read_back_as_saved()
    {
        var statements = new StatementCounter();
        var board = Guid.NewGuid();
        var tasks = new[] { NewTask(board, "full", full: true), NewTask(board, "bare", full: false), NewTask(board, "third", full: false) };
        await using (var db = Open(statements))
        {
            await using var tx = await db.Database.BeginTransactionAsync();
            foreach (var task in tasks)
            {
                db.Tasks.Add(task);
                db.AddIntegrationEvent(Created(task));
            }
            Assert.Equal(6, await db.WriteAddedAsync(default));
            Assert.Empty(db.ChangeTracker.Entries());
            await db.SaveChangesAsync();
            await tx.CommitAsync();
        }
        // SaveChanges had nothing left to insert (it would have sent six INSERTs, one per row).
        Assert.Equal(0, statements.Inserts);

        await using var read = Open();
        var stored = await read.Tasks.AsNoTracking().Where(t => t.BoardId == board).ToDictionaryAsync(t => t.Title);
        foreach (var task in tasks)
        {
            var row = stored[task.Title];
            Assert.Equivalent(task, row, strict: true);
            Assert.Equal(DateTimeKind.Utc, row.CreatedAt.Kind);
        }
        var outbox = await read.Set<OutboxMessage>().AsNoTracking().Where(m => m.Payload.Contains(board.ToString())).ToListAsync();
        Assert.Equal(3, outbox.Count);
        Assert.All(outbox, m => Assert.Equal(typeof(TaskCreated).FullName, m.Type));
        // The database numbered them, in insert order.
        Assert.Equal(3, outbox.Select(m => m.Sequence).Distinct().Count());
        Assert.True(outbox.All(m => m.Sequence > 0));
    }

    [Fact]
    public async Task Committing_rows_it_wrote_wakes_the_outbox_relay()
    {
        var signal = new OutboxSignal();
        await using var db = Open(new OutboxCommitInterceptor(signal));
        await using var tx = await db.Database.BeginTransactionAsync();
        var task = NewTask(Guid.NewGuid(), "wakes the relay", full: false);
        db.Tasks.Add(task);
        db.AddIntegrationEvent(Created(task));
        await db.WriteAddedAsync(default);
        await db.SaveChangesAsync();
        Assert.False(await signal.WaitAsync(TimeSpan.Zero, default), "no wake before the commit");
        await tx.CommitAsync();
        Assert.True(await signal.WaitAsync(TimeSpan.Zero, default), "the commit wakes the relay");
    }

    [Fact]
    public async Task A_duplicate_key_is_reported_as_SaveChanges_reports_it()
    {
        var task = NewTask(Guid.NewGuid(), "once", full: false);
        await using (var db = Open())
        {
            db.Tasks.Add(task);
            await db.SaveChangesAsync();
        }
        await using var again = Open();
        await using var tx = await again.Database.BeginTransactionAsync();
        again.Tasks.Add(WithId(NewTask(task.BoardId, "twice", full: false), task.Id));
        await Assert.ThrowsAsync<DbUpdateException>(() => again.WriteAddedAsync(default));
    }

    [Fact]
    public async Task Outside_a_transaction_it_refuses()
    {
        await using var db = Open();
        db.Tasks.Add(NewTask(Guid.NewGuid(), "no transaction", full: false));
        await Assert.ThrowsAsync<InvalidOperationException>(() => db.WriteAddedAsync(default));
    }

    private static TaskItem WithId(TaskItem task, Guid id)
    {
        task.Id = id;
        return task;
    }

    /// <summary>Counts the INSERT statements EF sends (a command may hold several); InsertBatch's own commands bypass EF.</summary>
    private sealed class StatementCounter : DbCommandInterceptor
    {
        public int Inserts;

        public override ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData data, InterceptionResult<int> result, CancellationToken ct = default)
        {
            Count(command);
            return ValueTask.FromResult(result);
        }

        public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData data, InterceptionResult<DbDataReader> result, CancellationToken ct = default)
        {
            Count(command);
            return ValueTask.FromResult(result);
        }

        private void Count(DbCommand command) =>
            Interlocked.Add(ref Inserts, command.CommandText.Split("INSERT INTO", StringSplitOptions.None).Length - 1);
    }
}

[Collection(InfrastructureCollection.Collection)]
public sealed class InsertBatchOnSqliteTests : InsertBatchTests
{
    private readonly string _cs = $"Data Source={Path.Combine(Path.GetTempPath(), $"mc-insert-batch-{Guid.NewGuid():N}.db")}";

    protected override TasksDbContext Open(params IInterceptor[] interceptors) =>
        new SqliteTasksDbContext(new DbContextOptionsBuilder<SqliteTasksDbContext>().UseSqlite(_cs).UseSnakeCaseNamingConvention()
            .AddInterceptors(interceptors).Options);

    public override Task DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm" }) File.Delete(_cs["Data Source=".Length..] + suffix);
        return Task.CompletedTask;
    }
}

[Collection(InfrastructureCollection.Collection)]
public sealed class InsertBatchOnPostgresTests(PostgresFixture postgres) : InsertBatchTests
{
    private readonly string _cs = postgres.ConnectionStringForNewDatabase("tasks_insert_batch");

    protected override TasksDbContext Open(params IInterceptor[] interceptors) =>
        new PostgresTasksDbContext(new DbContextOptionsBuilder<PostgresTasksDbContext>().UseNpgsql(_cs).UseSnakeCaseNamingConvention()
            .AddInterceptors(interceptors).Options);
}
