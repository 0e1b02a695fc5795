using SQLitePCL;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// SQLite's process-wide settings, which it takes only before its first connection. The library is built
/// serialized: every call on a connection (each column of each row read) takes that connection's mutex,
/// and every allocation a global one for memory statistics. ADO.NET never lets two threads use one
/// connection at once, so multi-thread mode is as safe here and drops the first; nothing reads the
/// statistics, so the second goes too.
/// </summary>
public static class SqliteProcessSettings
{
    private static readonly Lazy<(int MultiThread, int MemoryStatus)> Results = new(() =>
    {
        Batteries_V2.Init();
        return (raw.sqlite3_config(raw.SQLITE_CONFIG_MULTITHREAD), raw.sqlite3_config(raw.SQLITE_CONFIG_MEMSTATUS, 0));
    });

    /// <summary>
    /// Applies them once; true when SQLite took both. False only when a connection was opened earlier in
    /// the process (SQLITE_MISUSE): SQLite then stays serialized, which is slower, never wrong.
    /// </summary>
    public static bool Apply() => Results.Value is (raw.SQLITE_OK, raw.SQLITE_OK);
}
