using Microsoft.EntityFrameworkCore;
using MissionControl.Messaging;

namespace MissionControl.Agents.Data;

/// <summary>The rows agents' decisions depend on, locked for the rest of a <see cref="WriteUnit"/> (PostgreSQL).</summary>
public static class AgentLocks
{
    /// <summary>The agent, tracked and (PostgreSQL) locked until the unit ends.</summary>
    public static async Task<Agent?> LockAgentAsync(this WriteUnit unit, Guid agentId, CancellationToken ct)
    {
        var db = (AgentsDbContext)unit.Db;
        return unit.LocksRows
            ? await db.Agents.FromSql($"SELECT * FROM agents WHERE id = {agentId} FOR UPDATE").FirstOrDefaultAsync(ct)
            : await db.Agents.FirstOrDefaultAsync(a => a.Id == agentId, ct);
    }

    /// <summary>
    /// The gateway copy, locked (PostgreSQL): creating or renaming agents of a gateway is serialized, so
    /// the name and max_agents checks hold until commit.
    /// </summary>
    public static async Task<GatewayCopy?> LockGatewayAsync(this WriteUnit unit, Guid gatewayId, CancellationToken ct)
    {
        var db = (AgentsDbContext)unit.Db;
        return unit.LocksRows
            ? await db.Gateways.FromSql($"SELECT * FROM gateways WHERE id = {gatewayId} FOR UPDATE").AsNoTracking().FirstOrDefaultAsync(ct)
            : await db.Gateways.AsNoTracking().FirstOrDefaultAsync(g => g.Id == gatewayId, ct);
    }

    /// <summary>The board copy, locked (PostgreSQL): creating custom agents of a board is serialized for the name check.</summary>
    public static async Task<BoardCopy?> LockBoardAsync(this WriteUnit unit, Guid boardId, CancellationToken ct)
    {
        var db = (AgentsDbContext)unit.Db;
        return unit.LocksRows
            ? await db.Boards.FromSql($"SELECT * FROM boards WHERE id = {boardId} FOR UPDATE").AsNoTracking().FirstOrDefaultAsync(ct)
            : await db.Boards.AsNoTracking().FirstOrDefaultAsync(b => b.Id == boardId, ct);
    }
}
