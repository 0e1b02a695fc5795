using System.Collections.Concurrent;
using System.Data.Common;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace MissionControl.Messaging;

/// <summary>
/// Writes a context's new (Added) rows with one multi-row INSERT per table (on SQLite one prepared
/// single-row INSERT run per row), then stops tracking them.
/// SaveChanges writes one statement per row, each with its own RETURNING and change-tracking
/// bookkeeping, and on SQLite each statement is parsed anew: for the group commits of hot write paths
/// (a batch of new tasks, a batch of logged events) that bookkeeping cost more CPU than the database.
/// <para>
/// Values go through the provider's own type mappings (value converters included), so rows are stored
/// exactly as SaveChanges would store them. Only plain rows are written here: an entity type in a
/// relationship, owned, mapped with inheritance or table splitting, or with a store-generated value
/// (other than the outbox sequence, read back on SQLite for the relay) is left to the SaveChanges that follows.
/// Its commands go straight to the connection, so EF's command interceptors and logging do not see them.
/// </para>
/// </summary>
public static class InsertBatch
{
    /// <summary>Below SQLite's 32,766 and PostgreSQL's 65,535 parameters per statement.</summary>
    private const int MaxParameters = 30_000;

    private static readonly ConcurrentDictionary<IEntityType, Table?> Tables = new();

    /// <summary>
    /// A table's columns in insert order; <see cref="Sequence"/> is the outbox's sequence column (null for
    /// any other table), left out of the INSERT.
    /// </summary>
    private sealed class Table(string name, IProperty[] columns, string[] columnNames, string? sequence)
    {
        public string Name { get; } = name;
        public string? Sequence { get; } = sequence;
        public IProperty[] Columns { get; } = columns;
        public string[] ColumnNames { get; } = columnNames;
        public RelationalTypeMapping[] Mappings { get; } = columns.Select(p => p.GetRelationalTypeMapping()).ToArray();

        /// <summary>The statement text and parameter names for a number of rows, built once per count.</summary>
        public ConcurrentDictionary<int, (string Text, string[] Parameters)> Statements { get; } = new();
    }

    /// <summary>
    /// The context's Added entries, listed without change detection, which would first compare every tracked entity
    /// with its snapshot: an entity added through its DbSet is tracked as Added from then on, and its current values
    /// are read as they are.
    /// </summary>
    internal static List<EntityEntry> AddedEntries(this DbContext db)
    {
        var autoDetect = db.ChangeTracker.AutoDetectChangesEnabled;
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        try
        {
            return db.ChangeTracker.Entries().Where(e => e.State == EntityState.Added).ToList();
        }
        finally
        {
            db.ChangeTracker.AutoDetectChangesEnabled = autoDetect;
        }
    }

    /// <summary>
    /// Inserts the Added rows it can and detaches them; returns how many. Must run inside the context's
    /// transaction (the rows commit with it), before the SaveChanges that writes everything else.
    /// </summary>
    public static async Task<int> WriteAddedAsync(this DbContext db, CancellationToken ct)
    {
        var transaction = db.Database.CurrentTransaction
            ?? throw new InvalidOperationException("InsertBatch.WriteAddedAsync runs inside a transaction, so its rows commit with the rest.");

        var groups = new Dictionary<Table, List<EntityEntry>>();
        foreach (var entry in db.AddedEntries())
        {
            if (TableOf(db, entry.Metadata) is not { } table) continue;
            if (!groups.TryGetValue(table, out var rows)) groups[table] = rows = [];
            rows.Add(entry);
        }
        if (groups.Count == 0) return 0;

        var sql = db.GetService<ISqlGenerationHelper>();
        var connection = db.Database.GetDbConnection();
        var sqlite = db.Database.IsSqlite();
        var written = 0;
        foreach (var (table, rows) in groups)
        {
            // The change tracker lists entries in no promised order (after a detach, new ones can come back to front).
            if (table.Sequence is not null) rows.Sort((a, b) => ((OutboxMessage)a.Entity).QueuedOrder.CompareTo(((OutboxMessage)b.Entity).QueuedOrder));
            // SQLite: one single-row statement, prepared once and run per row. SQLite looks each named
            // parameter up by a linear scan while parsing, so a multi-row statement's parse grows with
            // the square of its parameter count (that scan was 8% of metrics' CPU). Re-running a
            // prepared statement is the cheap path there; PostgreSQL prefers one statement per batch.
            var perStatement = sqlite ? 1 : MaxParameters / table.Columns.Length;
            ct.ThrowIfCancellationRequested();
            await using var command = connection.CreateCommand();
            command.Transaction = transaction.GetDbTransaction();
            if (db.Database.GetCommandTimeout() is { } timeout) command.CommandTimeout = timeout;
            for (var start = 0; start < rows.Count; start += perStatement)
            {
                var count = Math.Min(perStatement, rows.Count - start);
                var (text, names) = table.Statements.GetOrAdd(count, rowCount => Statement(sql, table, rowCount, returning: sqlite));
                // Set only when it changes: a new text drops the statement SQLite has prepared.
                if (command.CommandText != text) command.CommandText = text;
                command.Parameters.Clear();
                var n = 0;
                for (var r = start; r < start + count; r++)
                {
                    var values = rows[r].CurrentValues;
                    for (var c = 0; c < table.Columns.Length; c++, n++)
                    {
                        var column = table.Columns[c];
                        command.Parameters.Add(table.Mappings[c].CreateParameter(command, names[n], values[column], column.IsNullable));
                    }
                }
                try
                {
                    // SQLite's async methods run synchronously anyway. There the outbox row's number is read
                    // back (RETURNING): the relay publishes the rows it is handed in that order.
                    if (sqlite && table.Sequence is not null) ((OutboxMessage)rows[start].Entity).Sequence = Convert.ToInt64(command.ExecuteScalar());
                    else if (sqlite) command.ExecuteNonQuery();
                    else await command.ExecuteNonQueryAsync(ct);
                }
                catch (DbException ex)
                {
                    // As SaveChanges reports it, so callers that catch a duplicate key still do.
                    throw new DbUpdateException("An error occurred while saving the entity changes. See the inner exception for details.", ex,
                        rows.GetRange(start, count));
                }
            }
            if (table.Sequence is not null) OutboxCommitInterceptor.MarkWritten(db, rows.Select(r => (OutboxMessage)r.Entity));
            foreach (var entry in rows) entry.State = EntityState.Detached;
            written += rows.Count;
        }
        return written;
    }

    private static (string Text, string[] Parameters) Statement(ISqlGenerationHelper sql, Table table, int rows, bool returning)
    {
        var names = new string[rows * table.Columns.Length];
        var text = new StringBuilder("INSERT INTO ").Append(table.Name).Append(" (")
            .AppendJoin(", ", table.ColumnNames).Append(") VALUES ");
        var n = 0;
        for (var r = 0; r < rows; r++)
        {
            text.Append(r == 0 ? "(" : ", (");
            for (var c = 0; c < table.Columns.Length; c++, n++)
            {
                names[n] = sql.GenerateParameterName("p" + n);
                text.Append(c == 0 ? "" : ", ").Append(sql.GenerateParameterNamePlaceholder("p" + n));
            }
            text.Append(')');
        }
        if (returning && table.Sequence is { } sequence) text.Append(" RETURNING ").Append(sequence);
        return (text.ToString(), names);
    }

    /// <summary>The table an entity type's rows can be inserted into here, or null to leave them to SaveChanges.</summary>
    private static Table? TableOf(DbContext db, IEntityType type) => Tables.GetOrAdd(type, t =>
    {
        if (t.IsOwned() || t.BaseType is not null || t.GetDirectlyDerivedTypes().Any() || t.GetComplexProperties().Any()
            || t.GetForeignKeys().Any() || t.GetReferencingForeignKeys().Any() || t.GetNavigations().Any() || t.GetSkipNavigations().Any()
            || t.GetTableName() is not { } name || t.IsMappedToJson())
            return null;
        var store = StoreObjectIdentifier.Table(name, t.GetSchema());
        if (db.Model.GetRelationalModel().FindTable(name, t.GetSchema())?.EntityTypeMappings.Count() != 1) return null;

        var generated = t.ClrType == typeof(OutboxMessage) ? t.FindProperty(nameof(OutboxMessage.Sequence)) : null;
        var columns = t.GetProperties().Where(p => p != generated).ToArray();
        // A value the database makes (identity, default, computed) would be skipped by SaveChanges and read back.
        if (columns.Any(p => p.ValueGenerated != ValueGenerated.Never && !(p.IsPrimaryKey() && p.ClrType == typeof(Guid)))) return null;
        var sql = db.GetService<ISqlGenerationHelper>();
        return new Table(sql.DelimitIdentifier(name, t.GetSchema()), columns,
            columns.Select(p => sql.DelimitIdentifier(p.GetColumnName(store)!)).ToArray(),
            generated is null ? null : sql.DelimitIdentifier(generated.GetColumnName(store)!));
    });
}
