using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using MissionControl.Messaging;

namespace MissionControl.Agents.Data;

/// <summary>
/// One read-decide-write change in one transaction: on SQLite under the write gate for the whole unit,
/// on PostgreSQL with the rows the decision depends on locked FOR UPDATE.
/// </summary>
public sealed class WriteUnit : IAsyncDisposable
{
    private readonly AgentsDbContext _db;
    private readonly IDbContextTransaction _tx;
    private readonly DatabaseWriteGate.Releaser _gate;

    private WriteUnit(AgentsDbContext db, IDbContextTransaction tx, DatabaseWriteGate.Releaser gate) => (_db, _tx, _gate) = (db, tx, gate);

    public static async Task<WriteUnit> BeginAsync(AgentsDbContext db, DatabaseWriteGate gate, CancellationToken ct)
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

    /// <summary>The agent, tracked and (PostgreSQL) locked until the unit ends.</summary>
    public async Task<Agent?> LockAgentAsync(Guid agentId, CancellationToken ct) => _db.Database.IsNpgsql()
        ? await _db.Agents.FromSql($"SELECT * FROM agents WHERE id = {agentId} FOR UPDATE").FirstOrDefaultAsync(ct)
        : await _db.Agents.FirstOrDefaultAsync(a => a.Id == agentId, ct);

    /// <summary>
    /// The gateway copy, locked (PostgreSQL): creating or renaming agents of a gateway is serialized, so
    /// the name and max_agents checks hold until commit.
    /// </summary>
    public async Task<GatewayCopy?> LockGatewayAsync(Guid gatewayId, CancellationToken ct) => _db.Database.IsNpgsql()
        ? await _db.Gateways.FromSql($"SELECT * FROM gateways WHERE id = {gatewayId} FOR UPDATE").AsNoTracking().FirstOrDefaultAsync(ct)
        : await _db.Gateways.AsNoTracking().FirstOrDefaultAsync(g => g.Id == gatewayId, ct);

    public async Task CommitAsync(CancellationToken ct)
    {
        await _db.SaveChangesAsync(ct);
        await _tx.CommitAsync(ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _tx.DisposeAsync();
        _gate.Dispose();
    }
}
