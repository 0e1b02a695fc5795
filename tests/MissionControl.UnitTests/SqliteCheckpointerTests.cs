using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MissionControl.Messaging;

namespace MissionControl.UnitTests;

public sealed class SqliteCheckpointerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mc-checkpoint-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private string ConnectionString => $"Data Source={Path.Combine(_dir, "service.db")}";

    /// <summary>A writer as the services open one (WAL, its own checkpoint only as a fallback), on a new table of rows.</summary>
    private SqliteConnection OpenWriter()
    {
        var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        Execute(connection, $"PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint={SqliteCheckpointer.WriterFallbackPages};");
        Execute(connection, "CREATE TABLE rows (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)");
        return connection;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private long WalBytes() => new FileInfo(Path.Combine(_dir, "service.db-wal")).Length;

    /// <summary>
    /// About 20 MB committed in 4,000 transactions of five 1 KB rows, each under the write gate, at about
    /// the rate a busy service writes (a pause every ten transactions).
    /// </summary>
    private static async Task WriteAsync(SqliteConnection writer, DatabaseWriteGate gate)
    {
        var payload = new byte[1024];
        Random.Shared.NextBytes(payload);
        for (var i = 0; i < 4_000; i++)
        {
            using (await gate.EnterAsync(CancellationToken.None))
            {
                using var tx = writer.BeginTransaction();
                using var insert = writer.CreateCommand();
                insert.CommandText = "INSERT INTO rows (payload) VALUES ($p)";
                insert.Parameters.AddWithValue("$p", payload);
                for (var r = 0; r < 5; r++) insert.ExecuteNonQuery();
                tx.Commit();
            }
            // Room for the checkpointer's thread when the tests beside this one keep both cores busy.
            if (i % 10 == 0) await Task.Delay(4);
        }
    }

    [Fact]
    public async Task The_log_is_copied_back_beside_the_writers_and_starts_over_instead_of_growing()
    {
        using var writer = OpenWriter();
        var gate = new DatabaseWriteGate(serialize: true);
        var log = new Warnings();
        using var checkpointer = new SqliteCheckpointer(ConnectionString, gate, log, TimeSpan.FromMilliseconds(20), checkpointPages: 1_000);
        await checkpointer.StartAsync(CancellationToken.None);

        await WriteAsync(writer, gate);
        await checkpointer.StopAsync(CancellationToken.None);

        Assert.Empty(log.Lines);
        // Left to the writers' fallback (16,000 pages) the log would hold all ~20 MB; it started over instead.
        Assert.InRange(WalBytes(), 1, 8L * 1024 * 1024);
        var (_, passive, gated) = checkpointer.Counts;
        Assert.True(passive > 0, "no checkpoint ran beside the writers");
        Assert.True(gated > 0, "the log was never caught up under the gate");
        using var count = writer.CreateCommand();
        count.CommandText = "SELECT count(*) FROM rows";
        Assert.Equal(20_000L, (long)count.ExecuteScalar()!);
    }

    [Fact]
    public async Task A_short_log_is_left_alone_so_the_next_writer_appends_to_it_instead_of_starting_it_over()
    {
        // Starting the log over syncs its header inside the writer's commit: copying a short log back at
        // every interval made each write after a quiet moment pay that fsync.
        using var writer = OpenWriter();
        var gate = new DatabaseWriteGate(serialize: true);
        for (var i = 0; i < 20; i++) Execute(writer, "INSERT INTO rows (payload) VALUES (randomblob(1000))");
        var before = LogPages(writer);
        Assert.True(before > 0, "the writes are not in the log");

        using var checkpointer = new SqliteCheckpointer(ConnectionString, gate, NullLogger<SqliteCheckpointer>.Instance, TimeSpan.FromMilliseconds(10));
        await checkpointer.StartAsync(CancellationToken.None);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (checkpointer.Counts.Looked < 5 && DateTime.UtcNow < deadline) await Task.Delay(10);
        await checkpointer.StopAsync(CancellationToken.None);
        Execute(writer, "INSERT INTO rows (payload) VALUES (randomblob(1000))");

        Assert.True(checkpointer.Counts.Looked >= 5, "the checkpointer never looked at the log");
        Assert.Equal(0, checkpointer.Counts.Passive);
        // Appended after what was there; a log copied back would have started over at its first page.
        Assert.True(LogPages(writer) > before, $"the log holds {LogPages(writer)} pages, had {before}");
    }

    private static long LogPages(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA wal_checkpoint(NOOP)";
        using var reader = command.ExecuteReader();
        reader.Read();
        return reader.GetInt64(1);
    }

    [Fact]
    public async Task Without_it_the_writers_leave_the_log_to_grow_to_their_fallback()
    {
        // The control for the test above: same writes, no checkpointer.
        using var writer = OpenWriter();

        await WriteAsync(writer, new DatabaseWriteGate(serialize: true));

        Assert.True(WalBytes() > 16L * 1024 * 1024, $"the log holds {WalBytes():N0} bytes");
    }

    [Fact]
    public async Task It_never_creates_a_database_and_stops_cleanly_when_there_is_none()
    {
        using var checkpointer = new SqliteCheckpointer(ConnectionString, new DatabaseWriteGate(serialize: true),
            NullLogger<SqliteCheckpointer>.Instance, TimeSpan.FromMilliseconds(10));
        await checkpointer.StartAsync(CancellationToken.None);
        await Task.Delay(100);
        await checkpointer.StopAsync(CancellationToken.None);

        Assert.False(File.Exists(Path.Combine(_dir, "service.db")));
    }

    private sealed class Warnings : ILogger<SqliteCheckpointer>
    {
        public ConcurrentQueue<string> Lines { get; } = new();
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) Lines.Enqueue($"{formatter(state, exception)} {exception?.Message}");
        }
    }
}
