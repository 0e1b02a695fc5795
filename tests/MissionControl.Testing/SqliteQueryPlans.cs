using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace MissionControl.Testing;

/// <summary>
/// Records SQLite's plan (EXPLAIN QUERY PLAN, on the same connection, with the same parameters) of each
/// query a service runs whose SQL <paramref name="matches"/>: a test of which index a query seeks, since a
/// test database is too small for a scan to be slow.
/// </summary>
public sealed class SqliteQueryPlans(Func<string, bool> matches) : DbCommandInterceptor
{
    private readonly List<(string Sql, List<string> Plan)> _recorded = [];

    /// <summary>Each matching query's SQL and its plan's steps (SQLite's "detail" column), in the order they ran.</summary>
    public IReadOnlyList<(string Sql, List<string> Plan)> Recorded
    {
        get
        {
            lock (_recorded) return _recorded.ToList();
        }
    }

    /// <summary>The plans of the queries whose SQL contains <paramref name="text"/>.</summary>
    public IReadOnlyList<List<string>> Of(string text) =>
        Recorded.Where(r => r.Sql.Contains(text, StringComparison.Ordinal)).Select(r => r.Plan).ToList();

    /// <summary>True when a step reads a whole table or sorts what it read (SCAN, or a temporary B-tree).</summary>
    public static bool ReadsEverything(IEnumerable<string> plan) =>
        plan.Any(step => step.StartsWith("SCAN ", StringComparison.Ordinal) || step.Contains("TEMP B-TREE", StringComparison.Ordinal));

    public override async ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(
        DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        await RecordAsync(command, cancellationToken);
        return result;
    }

    /// <summary>Bulk updates and deletes (ExecuteUpdate, ExecuteDelete).</summary>
    public override async ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(
        DbCommand command, CommandEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        await RecordAsync(command, cancellationToken);
        return result;
    }

    private async Task RecordAsync(DbCommand command, CancellationToken ct)
    {
        if (!matches(command.CommandText)) return;
        await using var explain = command.Connection!.CreateCommand();
        explain.Transaction = command.Transaction;
        explain.CommandText = "EXPLAIN QUERY PLAN " + command.CommandText;
        foreach (DbParameter p in command.Parameters)
        {
            var copy = explain.CreateParameter();
            copy.ParameterName = p.ParameterName;
            copy.Value = p.Value;
            explain.Parameters.Add(copy);
        }
        var plan = new List<string>();
        await using (var reader = await explain.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct)) plan.Add(reader.GetString(reader.GetOrdinal("detail")));
        }
        lock (_recorded) _recorded.Add((command.CommandText, plan));
    }
}
