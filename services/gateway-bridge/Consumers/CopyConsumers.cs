using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Agents;
using MissionControl.Contracts.Orgs;
using MissionControl.GatewayBridge.Data;
using MissionControl.Messaging;

namespace MissionControl.GatewayBridge.Consumers;

// The bridge's copies of agents (session key, gateway) and boards (gateway), fed by their owners' events.

public sealed class AgentCreatedConsumer(GatewayBridgeDbContext db, DatabaseWriteGate writes) : IdempotentConsumer<AgentCreated, GatewayBridgeDbContext>(db, writes)
{
    protected override Task Handle(AgentCreated message, CancellationToken ct) => AgentCopies.UpsertAsync(Db, message.Agent, ct);
}

public sealed class AgentUpdatedConsumer(GatewayBridgeDbContext db, DatabaseWriteGate writes) : IdempotentConsumer<AgentUpdated, GatewayBridgeDbContext>(db, writes)
{
    protected override Task Handle(AgentUpdated message, CancellationToken ct) => AgentCopies.UpsertAsync(Db, message.Agent, ct);
}

public sealed class AgentDeletedConsumer(GatewayBridgeDbContext db, DatabaseWriteGate writes) : IdempotentConsumer<AgentDeleted, GatewayBridgeDbContext>(db, writes)
{
    // A delete that finds nothing (already gone) is fine: no tracked entity, no concurrency failure.
    protected override Task Handle(AgentDeleted message, CancellationToken ct) =>
        Db.Agents.Where(a => a.Id == message.AgentId).ExecuteDeleteAsync(ct);
}

public static class AgentCopies
{
    /// <summary>
    /// The agent's copy, tracked; created first if missing. The create is its own statement that ignores a
    /// row inserted meanwhile, because AgentCreated and a provisioning request for the same agent are
    /// consumed side by side and either may come first.
    /// </summary>
    public static async Task<AgentCopy> EnsureAsync(GatewayBridgeDbContext db, Guid agentId, Guid organizationId, CancellationToken ct)
    {
        await db.Database.ExecuteSqlAsync(
            $"INSERT INTO agent_copies (id, organization_id, name, is_gateway_main, provision_generation) VALUES ({agentId}, {organizationId}, '', FALSE, 0) ON CONFLICT (id) DO NOTHING",
            ct);
        return await db.Agents.SingleAsync(a => a.Id == agentId, ct);
    }

    public static async Task<AgentCopy> UpsertAsync(GatewayBridgeDbContext db, AgentState state, CancellationToken ct)
    {
        var copy = await EnsureAsync(db, state.Id, state.OrganizationId, ct);
        copy.OrganizationId = state.OrganizationId;
        copy.GatewayId = state.GatewayId;
        copy.BoardId = state.BoardId;
        copy.Name = state.Name;
        copy.IsGatewayMain = state.IsGatewayMain;
        copy.SessionKey = state.SessionKey ?? copy.SessionKey;
        return copy;
    }
}

public sealed class BoardCreatedConsumer(GatewayBridgeDbContext db, DatabaseWriteGate writes) : IdempotentConsumer<BoardCreated, GatewayBridgeDbContext>(db, writes)
{
    protected override Task Handle(BoardCreated message, CancellationToken ct) => BoardCopies.UpsertAsync(Db, message.Board, ct);
}

public sealed class BoardUpdatedConsumer(GatewayBridgeDbContext db, DatabaseWriteGate writes) : IdempotentConsumer<BoardUpdated, GatewayBridgeDbContext>(db, writes)
{
    protected override Task Handle(BoardUpdated message, CancellationToken ct) => BoardCopies.UpsertAsync(Db, message.Board, ct);
}

public sealed class BoardDeletedConsumer(GatewayBridgeDbContext db, DatabaseWriteGate writes) : IdempotentConsumer<BoardDeleted, GatewayBridgeDbContext>(db, writes)
{
    protected override async Task Handle(BoardDeleted message, CancellationToken ct)
    {
        if (await Db.Boards.FindAsync([message.BoardId], ct) is { } board) Db.Boards.Remove(board);
    }
}

public static class BoardCopies
{
    public static async Task UpsertAsync(GatewayBridgeDbContext db, BoardState state, CancellationToken ct)
    {
        var copy = await db.Boards.FindAsync([state.Id], ct);
        if (copy is null) db.Boards.Add(copy = new BoardCopy { Id = state.Id });
        copy.OrganizationId = state.OrganizationId;
        copy.GatewayId = state.GatewayId;
    }
}
