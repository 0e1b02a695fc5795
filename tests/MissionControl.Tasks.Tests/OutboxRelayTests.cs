using System.Collections.Concurrent;
using System.Reflection;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using MissionControl.Contracts;
using MissionControl.Contracts.Tasks;
using MissionControl.Messaging;
using MissionControl.Tasks.Data;

namespace MissionControl.Tasks.Tests;

/// <summary>
/// On SQLite the relay publishes the rows this process commits from memory (handed over at the
/// commit) instead of reading them back: in commit order, each once, never a row whose transaction
/// rolled back, and a row it was not handed (written some other way) still in its place.
/// </summary>
public sealed class OutboxRelayOnSqliteTests : IAsyncLifetime
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"mc-outbox-relay-{Guid.NewGuid():N}.db");
    private readonly OutboxSignal _signal = new();
    private readonly RecordingBus _bus = (RecordingBus)(object)DispatchProxy.Create<IBus, RecordingBus>();
    private ServiceProvider _services = null!;
    private OutboxRelay<TasksDbContext> _relay = null!; // started by each test (StartFromTheTableAsync)

    public async Task InitializeAsync()
    {
        var interceptor = new OutboxCommitInterceptor(_signal);
        var options = new DbContextOptionsBuilder<SqliteTasksDbContext>().UseSqlite($"Data Source={_path}").UseSnakeCaseNamingConvention()
            .AddInterceptors(interceptor).Options;
        _services = new ServiceCollection()
            .AddScoped<TasksDbContext>(_ => new SqliteTasksDbContext(options))
            .AddSingleton(new DatabaseWriteGate(serialize: true))
            .BuildServiceProvider();
        await using (var db = Open()) await db.Database.MigrateAsync();
    }

    public async Task DisposeAsync()
    {
        if (_relay is not null) await _relay.StopAsync(CancellationToken.None);
        await _services.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm" }) File.Delete(_path + suffix);
    }

    private TasksDbContext Open() => _services.CreateScope().ServiceProvider.GetRequiredService<TasksDbContext>();

    [Fact]
    public async Task Committed_rows_go_out_from_memory_in_commit_order()
    {
        await StartFromTheTableAsync();
        await using var db = Open();
        for (var t = 0; t < 4; t++) await CommitAsync(db, Enumerable.Range(1 + t * 5, 5).Select(i => $"row {i}").ToArray());
        db.AddIntegrationEvent(Created("row 21"));
        await db.SaveChangesAsync(); // SaveChanges in its own transaction
        await WaitForAsync(22);

        Assert.Equal(Enumerable.Range(0, 22).Select(i => $"row {i}"), _bus.Titles());
        Assert.Equal((21L, 1L), _relay.Published);
        await OutboxEmptiesAsync(db); // deleted together, soon after
    }

    /// <summary>
    /// A SaveChanges of several rows opens a transaction of its own; its rows must still be handed over
    /// (they were once forgotten at that transaction's start, and went out only at the next poll, 1 s later).
    /// </summary>
    [Fact]
    public async Task Rows_of_a_SaveChanges_that_opens_its_own_transaction_go_out_from_memory_at_once()
    {
        await StartFromTheTableAsync();
        await using var db = Open();
        db.AddIntegrationEvent(Created("row 1"));
        db.AddIntegrationEvent(Created("row 2"));
        var saved = DateTime.UtcNow;
        await db.SaveChangesAsync();
        await WaitForAsync(3);

        Assert.Equal(["row 0", "row 1", "row 2"], _bus.Titles());
        Assert.Equal((2L, 1L), _relay.Published);
        Assert.True(DateTime.UtcNow - saved < TimeSpan.FromMilliseconds(800), "published by the wake, not by the next poll");
    }

    [Fact]
    public async Task A_row_it_was_not_handed_is_published_in_its_place()
    {
        await StartFromTheTableAsync();
        await using var db = Open();
        // Written behind the relay's back (no hand-over, no wake), then three that are handed over.
        var payload = System.Text.Json.JsonSerializer.Serialize(Created("row 1"), new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web));
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO outbox_messages (message_id, type, payload, occurred_at, attempts)
            VALUES ({Guid.NewGuid().ToString().ToUpperInvariant()}, {typeof(TaskCreated).FullName}, {payload}, {DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF")}, 0)
            """);
        await CommitAsync(db, "row 2", "row 3", "row 4");
        await WaitForAsync(5);

        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"row {i}"), _bus.Titles());
        Assert.Equal(0, await db.Set<OutboxMessage>().CountAsync());
        Assert.Equal(5L, _relay.Published.FromTable); // the gap sent it back to the table, which had them all
    }

    [Fact]
    public async Task Rows_of_a_transaction_that_did_not_commit_are_never_published()
    {
        await StartFromTheTableAsync();
        await using var db = Open();
        await using (var tx = await db.Database.BeginTransactionAsync())
        {
            db.AddIntegrationEvent(Created("rolled back"));
            await db.WriteAddedAsync(default);
            await tx.RollbackAsync();
        }
        await using (var tx = await db.Database.BeginTransactionAsync())
        {
            db.AddIntegrationEvent(Created("disposed without a commit"));
            await db.WriteAddedAsync(default);
        }
        // The rolled-back rows' numbers are handed out again (SQLite reuses them): the rows that get them must go out.
        await CommitAsync(db, "row 1");
        db.AddIntegrationEvent(Created("row 2"));
        await db.SaveChangesAsync();
        await WaitForAsync(3);
        await Task.Delay(1500); // a poll interval: a table pass would find any row left behind

        Assert.Equal(["row 0", "row 1", "row 2"], _bus.Titles());
        await OutboxEmptiesAsync(db);
        Assert.Equal(2L, _relay.Published.FromMemory);
    }

    [Fact]
    public async Task A_handed_over_row_that_can_never_go_out_is_kept_dead_and_the_rows_after_it_go_out()
    {
        await StartFromTheTableAsync();
        await using var db = Open();
        await using (var tx = await db.Database.BeginTransactionAsync())
        {
            db.AddIntegrationEvent(Created("row 1"));
            db.Set<OutboxMessage>().Add(new OutboxMessage { MessageId = Guid.NewGuid(), Type = "No.Such.Event", Payload = "{}", OccurredAt = DateTime.UtcNow });
            await db.WriteAddedAsync(default);
            await tx.CommitAsync();
        }
        db.AddIntegrationEvent(Created("row 2"));
        await db.SaveChangesAsync();
        await WaitForAsync(3);
        await Task.Delay(1500); // the deferred delete, and a table pass after a quiet poll interval

        Assert.Equal(["row 0", "row 1", "row 2"], _bus.Titles());
        var left = Assert.Single(await db.Set<OutboxMessage>().AsNoTracking().ToListAsync());
        Assert.Equal("No.Such.Event", left.Type);
        Assert.NotNull(left.DeadAt);
        Assert.Equal((2L, 1L), _relay.Published);
    }

    /// <summary>
    /// Events only the event log reads go out several to a message; one a service consumes by type goes
    /// out on its own between them, so the order of the publisher's events is kept on the wire.
    /// </summary>
    [Fact]
    public async Task Events_only_the_log_reads_go_out_in_batches_around_one_consumed_by_type()
    {
        await StartFromTheTableAsync();
        await using var db = Open();
        await using (var tx = await db.Database.BeginTransactionAsync())
        {
            db.AddIntegrationEvent(Created("row 1"));
            db.AddIntegrationEvent(Created("row 2"));
            db.AddIntegrationEvent(TagsChanged());
            db.AddIntegrationEvent(Created("row 3"));
            await db.WriteAddedAsync(default);
            await tx.CommitAsync();
        }
        await WaitForAsync(4);

        var messages = _bus.Messages();
        Assert.Equal(4, messages.Count);
        Assert.Equal(["row 0"], Titles(messages[0]));
        Assert.Equal(["row 1", "row 2"], Titles(messages[1]));
        Assert.IsType<TaskTagsChanged>(messages[2]);
        Assert.Equal(["row 3"], Titles(messages[3]));
        // Each event keeps its own id in the batch: the log (and any redelivery) goes by it.
        var ids = messages.OfType<EventBatch>().SelectMany(b => b.Events).Select(e => e.MessageId).ToList();
        Assert.Equal(4, ids.Distinct().Count());
        Assert.DoesNotContain(Guid.Empty, ids);
        await OutboxEmptiesAsync(db);

        static List<string> Titles(object message) =>
            Assert.IsType<EventBatch>(message).Events.Select(e => Assert.IsType<TaskCreated>(EventRouting.Read(e)).Task.Title).ToList();
    }

    /// <summary>
    /// With the log's reports, the events only the log reads go out from memory transient, each batch naming
    /// this process and its last row; their rows, and the rows after the oldest batch not reported yet (here one
    /// consumed by type, which went out persistent), stay in the table until the log reports them logged.
    /// </summary>
    [Fact]
    public async Task Log_batches_from_memory_go_out_transient_and_their_rows_stay_until_the_log_reports_them()
    {
        var receipts = new EventLogReceipts("tasks");
        await StartFromTheTableAsync(receipts);
        await using var db = Open();
        await using (var tx = await db.Database.BeginTransactionAsync())
        {
            db.AddIntegrationEvent(Created("row 1"));
            db.AddIntegrationEvent(TagsChanged());
            db.AddIntegrationEvent(Created("row 2"));
            await db.WriteAddedAsync(default);
            await tx.CommitAsync();
        }
        await WaitForAsync(3); // three tasks created; the relay counts four rows, the tag change's with them

        var messages = _bus.Messages();
        Assert.Null(Assert.IsType<EventBatch>(messages[0]).Source); // from the table: persistent, nothing to wait for
        var first = Assert.IsType<EventBatch>(messages[1]);
        Assert.IsType<TaskTagsChanged>(messages[2]);
        var second = Assert.IsType<EventBatch>(messages[3]);
        Assert.Equal(receipts.Source, first.Source);
        Assert.Equal(receipts.Source, second.Source);
        var rows = await db.Set<OutboxMessage>().AsNoTracking().OrderBy(m => m.Sequence).Select(m => m.Sequence).ToListAsync();
        Assert.Equal(3, rows.Count);
        Assert.Equal((rows[0], rows[2]), (first.Through, second.Through));

        // The later batch reported first: the rows wait for the earlier one (a poll interval would delete them).
        receipts.Logged([second.Through]);
        await Task.Delay(1500);
        Assert.Equal(3, await db.Set<OutboxMessage>().CountAsync());
        receipts.Logged([first.Through]);
        await OutboxEmptiesAsync(db);
        Assert.Equal((3L, 1L), _relay.Published); // none went out twice
    }

    /// <summary>
    /// A broker that restarts loses transient messages: once the bus has lost its connection, the batches the log
    /// has not reported go out again, persistent, from the table, with their ids (the log skips ones it has).
    /// </summary>
    [Fact]
    public async Task After_a_lost_broker_connection_the_unreported_batches_go_out_again_persistent()
    {
        var receipts = new EventLogReceipts("tasks");
        await StartFromTheTableAsync(receipts);
        await using var db = Open();
        await CommitAsync(db, "row 1", "row 2");
        await WaitForAsync(3);
        var sent = Assert.IsType<EventBatch>(_bus.Messages()[^1]);
        Assert.NotNull(sent.Source);

        receipts.ConnectionLost();
        await WaitForAsync(5);
        Assert.Equal(["row 0", "row 1", "row 2", "row 1", "row 2"], _bus.Titles());
        var again = Assert.IsType<EventBatch>(_bus.Messages()[^1]);
        Assert.Null(again.Source);
        Assert.Equal(sent.Events.Select(e => e.MessageId), again.Events.Select(e => e.MessageId));
        await OutboxEmptiesAsync(db); // persistent: deleted once the broker confirmed them
    }

    /// <summary>A batch the log does not report within the timeout (a lost report, the log down) goes out again, persistent.</summary>
    [Fact]
    public async Task A_batch_the_log_does_not_report_in_time_goes_out_again_persistent()
    {
        var receipts = new EventLogReceipts("tasks");
        await StartFromTheTableAsync(receipts, logReportTimeout: TimeSpan.FromMilliseconds(300));
        await using var db = Open();
        await CommitAsync(db, "row 1");
        await WaitForAsync(2);
        Assert.NotNull(Assert.IsType<EventBatch>(_bus.Messages()[^1]).Source);

        await WaitForAsync(3);
        Assert.Equal(["row 0", "row 1", "row 1"], _bus.Titles());
        Assert.Null(Assert.IsType<EventBatch>(_bus.Messages()[^1]).Source);
        await OutboxEmptiesAsync(db);
        receipts.Logged([2]); // a late report for the batch no longer waited for changes nothing
        db.AddIntegrationEvent(Created("row 2"));
        await db.SaveChangesAsync();
        await WaitForAsync(4);
        Assert.NotNull(Assert.IsType<EventBatch>(_bus.Messages()[^1]).Source); // transient again
    }

    private static TaskTagsChanged TagsChanged()
    {
        var created = Created("tagged");
        return new TaskTagsChanged
        {
            OrganizationId = created.OrganizationId, BoardId = created.BoardId, TaskId = created.Task.Id,
            TagIds = [Guid.NewGuid()], TaskUpdatedAt = created.OccurredAt, OccurredAt = created.OccurredAt,
        };
    }

    /// <summary>Events in one transaction, written as the group commits write them (InsertBatch).</summary>
    private static async Task CommitAsync(TasksDbContext db, params string[] titles)
    {
        await using var tx = await db.Database.BeginTransactionAsync();
        foreach (var title in titles) db.AddIntegrationEvent(Created(title));
        await db.WriteAddedAsync(default);
        await tx.CommitAsync();
    }

    /// <summary>
    /// Starts the relay (with <paramref name="receipts"/>, the log's reports, as a service has them: then it sends
    /// the log's batches transient from memory) from the table: one row it reads there, after which it takes
    /// committed rows from memory.
    /// </summary>
    private async Task StartFromTheTableAsync(EventLogReceipts? receipts = null, TimeSpan? logReportTimeout = null)
    {
        _relay = new OutboxRelay<TasksDbContext>(_services.GetRequiredService<IServiceScopeFactory>(), (IBus)(object)_bus, _signal,
            NullLogger<OutboxRelay<TasksDbContext>>.Instance, receipts);
        if (logReportTimeout is { } timeout) _relay.LogReportTimeout = timeout;
        await _relay.StartAsync(CancellationToken.None);
        await using var db = Open();
        db.AddIntegrationEvent(Created("row 0"));
        await db.SaveChangesAsync();
        await WaitForAsync(1);
        Assert.Equal((0L, 1L), _relay.Published);
    }

    private static async Task OutboxEmptiesAsync(TasksDbContext db)
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (await db.Set<OutboxMessage>().CountAsync() is var left and > 0)
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"{left} published outbox row(s) still in the table");
            await Task.Delay(20);
        }
    }

    private async Task WaitForAsync(int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (_bus.Titles().Count < count)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{_bus.Titles().Count} of {count} events published: {string.Join(", ", _bus.Titles())}");
            await Task.Delay(10);
        }
        // Published includes the delete that follows the broker's confirm.
        while (_relay.Published.FromMemory + _relay.Published.FromTable < count && DateTime.UtcNow < deadline) await Task.Delay(10);
    }

    private static TaskCreated Created(string title) => OutboxEvents.TaskCreated(title);
}

/// <summary>Events for outbox tests: a task on a board of its own.</summary>
public static class OutboxEvents
{
    public static TaskCreated TaskCreated(string title)
    {
        var now = DateTimeOffset.UtcNow;
        var board = Guid.NewGuid();
        return new TaskCreated
        {
            OrganizationId = Guid.NewGuid(), BoardId = board, OccurredAt = now,
            Task = new TaskSnapshot { Id = Guid.NewGuid(), BoardId = board, Title = title, Status = "inbox", Priority = "low", CreatedAt = now, UpdatedAt = now },
            Activity = new ActivityInfo { Id = Guid.NewGuid(), EventType = "task.created", CreatedAt = now },
        };
    }
}

/// <summary>An IBus that records what is published (in call order) and confirms at once.</summary>
public class RecordingBus : DispatchProxy
{
    private readonly ConcurrentQueue<object> _published = new();

    /// <summary>The messages published, as they went out (events only the log reads in batches).</summary>
    public List<object> Messages() => _published.ToList();

    /// <summary>The titles of the created tasks published, batches unpacked, in order.</summary>
    public List<string> Titles() => _published
        .SelectMany(m => m is EventBatch batch ? batch.Events.Select(e => (object?)EventRouting.Read(e)) : [m])
        .OfType<TaskCreated>().Select(e => e.Task.Title).ToList();

    protected override object? Invoke(MethodInfo? method, object?[]? args)
    {
        if (method?.Name == nameof(IPublishEndpoint.Publish) && args is [{ } message, ..])
        {
            _published.Enqueue(message);
            return Task.CompletedTask;
        }
        throw new NotSupportedException($"RecordingBus does not implement {method?.Name}");
    }
}
