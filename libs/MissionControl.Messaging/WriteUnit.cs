using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace MissionControl.Messaging;

/// <summary>
/// One read-decide-write change in one transaction. On SQLite it holds the write gate for the whole
/// unit (writers queue instead of meeting SQLite's busy handler, and what was read cannot change
/// before the write); on PostgreSQL the rows a decision depends on are locked FOR UPDATE instead
/// (each service adds its own Lock… helpers as extensions).
/// </summary>
public sealed class WriteUnit : IAsyncDisposable
{
    private readonly IDbContextTransaction _tx;
    private readonly DatabaseWriteGate.Releaser _gate;

    private WriteUnit(DbContext db, IDbContextTransaction tx, DatabaseWriteGate.Releaser gate) => (Db, _tx, _gate) = (db, tx, gate);

    public DbContext Db { get; }

    /// <summary>PostgreSQL: lock rows with FOR UPDATE; SQLite: the gate already serializes the unit.</summary>
    public bool LocksRows => Db.Database.IsPostgres();

    public static async Task<WriteUnit> BeginAsync(DbContext db, DatabaseWriteGate gate, CancellationToken ct)
    {
        var releaser = await gate.EnterAsync(ct);
        try
        {
            return new WriteUnit(db, await db.Database.BeginTransactionAsync(ct), releaser);
        }
        catch
        {
            releaser.Dispose();
            throw;
        }
    }

    /// <summary>New rows are written by <see cref="InsertBatch"/>, the rest through SaveChanges.</summary>
    public async Task CommitAsync(CancellationToken ct)
    {
        await Db.WriteAddedAsync(ct);
        await Db.SaveChangesAsync(ct);
        await _tx.CommitAsync(ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _tx.DisposeAsync();
        _gate.Dispose();
    }
}
