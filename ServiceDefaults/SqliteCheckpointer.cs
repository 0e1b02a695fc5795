using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using MissionControl.Messaging;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Copies a SQLite database's write-ahead log back into the database file on a thread of its own, so no
/// request waits for it. Left to SQLite, the commit that fills the log past 1,000 pages does the copy and
/// its fsyncs, under the write gate: about 8–10 ms on these disks, every hundred or so task writes, which
/// was the 99th percentile of a write's way to SSE (measured: p50 0.1 ms, p99 0.5–0.8 ms, max 8–12 ms per
/// commit; 1.4 ms max without the fsyncs).
/// <para>
/// The log is left alone until it holds <see cref="CheckpointPages"/>. A writer that finds the log wholly
/// copied starts it over, and starting over writes the log's header and syncs it, in that writer's commit
/// (SQLite's guard against reordered writes): copying a small log every interval made a write that came
/// after a quiet moment pay that fsync, 0.5–4 ms here, in tasks and again in metrics' event log.
/// </para>
/// <para>
/// Once the log is that long, passive checkpoints copy it beside the writers (again while they add more than
/// a few pages during the copy), then one under the write gate copies the last pages (a few, one small
/// fsync), and the next writer starts the log over: it stays about that size. Writers keep SQLite's own
/// checkpoint, at <see cref="WriterFallbackPages"/>, for a checkpointer that falls behind.
/// </para>
/// </summary>
/// <param name="checkpointPages">The log's length that starts a checkpoint; <see cref="DefaultCheckpointPages"/> unless configured.</param>
public sealed class SqliteCheckpointer(
    string connectionString, DatabaseWriteGate gate, ILogger<SqliteCheckpointer> log, TimeSpan? interval = null, int? checkpointPages = null)
    : BackgroundService
{
    public const int DefaultCheckpointPages = 4_000;
    public const int WriterFallbackPages = 16_000;

    /// <summary>What may be left for the copy under the gate; more, and another passive pass runs first.</summary>
    private const int GatedPages = 128;
    private const int MaxPassivePasses = 4;

    public TimeSpan Interval { get; } = interval ?? TimeSpan.FromMilliseconds(100);
    public int CheckpointPages { get; } = checkpointPages ?? DefaultCheckpointPages;

    /// <summary>Looks at the log, checkpoints run outside the gate and under it, since start; for tests.</summary>
    public (long Looked, long Passive, long Gated) Counts => (Interlocked.Read(ref _looked), Interlocked.Read(ref _passive), Interlocked.Read(ref _gated));

    private long _looked, _passive, _gated;

    // A thread of its own: a checkpoint blocks in fsync for milliseconds, which would hold one of the two
    // pool threads these machines run with.
    protected override Task ExecuteAsync(CancellationToken ct) =>
        Task.Factory.StartNew(() => Run(ct), ct, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken ct)
    {
        // The database exists by now (migrations run before the host starts); never create one.
        var builder = new SqliteConnectionStringBuilder(connectionString) { Mode = SqliteOpenMode.ReadWrite, Pooling = false };
        SqliteConnection? connection = null;
        try
        {
            while (!ct.WaitHandle.WaitOne(Interval))
            {
                try
                {
                    if (connection is null)
                    {
                        connection = new SqliteConnection(builder.ConnectionString);
                        connection.Open();
                    }
                    var (pages, copied) = Checkpoint(connection, "NOOP");
                    Interlocked.Increment(ref _looked);
                    // Short, or copied already and waiting for a writer to start it over.
                    if (pages < CheckpointPages || copied == pages) continue;
                    for (var pass = 0; pass < MaxPassivePasses; pass++)
                    {
                        Checkpoint(connection, "PASSIVE");
                        Interlocked.Increment(ref _passive);
                        // Even a checkpoint that copied every page it saw missed those committed while it synced.
                        (pages, copied) = Checkpoint(connection, "NOOP");
                        if (pages - copied <= GatedPages) break;
                    }
                    using (gate.EnterAsync(ct).AsTask().GetAwaiter().GetResult())
                        Checkpoint(connection, "PASSIVE");
                    Interlocked.Increment(ref _gated);
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex) when (ex is SqliteException or InvalidOperationException)
                {
                    log.LogWarning(ex, "WAL checkpoint failed; writers checkpoint themselves past {Pages} pages until it works again", WriterFallbackPages);
                    connection?.Dispose();
                    connection = null;
                    if (ct.WaitHandle.WaitOne(TimeSpan.FromSeconds(5))) return;
                }
            }
        }
        finally
        {
            connection?.Dispose();
        }
    }

    /// <summary>
    /// A checkpoint of the given mode (NOOP copies nothing and only reports); returns the pages the log held
    /// and how many of them are copied (-1 each when not in WAL mode).
    /// </summary>
    private static (long Pages, long Copied) Checkpoint(SqliteConnection connection, string mode)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"PRAGMA wal_checkpoint({mode})";
        using var reader = command.ExecuteReader();
        reader.Read();
        return (reader.GetInt64(1), reader.GetInt64(2));
    }
}
