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
/// Every <see cref="Interval"/> a passive checkpoint copies what was committed since the last one and
/// syncs, beside the writers. The log starts over only when a writer finds it fully copied, so once it is
/// past <see cref="RestartPages"/> the pages committed during that copy are copied again under the write
/// gate (a few, one small fsync), and the next writer starts the log over: it stays about that size.
/// Writers keep SQLite's own checkpoint, at <see cref="WriterFallbackPages"/>, for a checkpointer that
/// falls behind.
/// </para>
/// </summary>
public sealed class SqliteCheckpointer(string connectionString, DatabaseWriteGate gate, ILogger<SqliteCheckpointer> log, TimeSpan? interval = null)
    : BackgroundService
{
    public const int RestartPages = 1_000;
    public const int WriterFallbackPages = 16_000;
    public TimeSpan Interval { get; } = interval ?? TimeSpan.FromMilliseconds(100);

    /// <summary>Checkpoints run (outside the gate, under it) since start; for tests.</summary>
    public (long Passive, long Gated) Counts => (Interlocked.Read(ref _passive), Interlocked.Read(ref _gated));

    private long _passive, _gated;

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
                    var pages = Checkpoint(connection);
                    Interlocked.Increment(ref _passive);
                    // Even a checkpoint that copied every page it saw missed those committed while it synced.
                    if (pages < RestartPages) continue;
                    using (gate.EnterAsync(ct).AsTask().GetAwaiter().GetResult())
                        Checkpoint(connection);
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

    /// <summary>A passive checkpoint; returns the pages the log held when it started (-1 when not in WAL mode).</summary>
    private static long Checkpoint(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
        using var reader = command.ExecuteReader();
        reader.Read();
        return reader.GetInt64(1);
    }
}
