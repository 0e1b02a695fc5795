using Microsoft.EntityFrameworkCore;
using MissionControl.Agents.Data;
using MissionControl.Contracts.Orgs;
using MissionControl.Messaging;

namespace MissionControl.Agents.Consumers;

/// <summary>The organization is gone: every service drops the tenant's rows (no events: the copies elsewhere go the same way).</summary>
public sealed class OrganizationDeletedConsumer(AgentsDbContext db, DatabaseWriteGate writes) : IdempotentConsumer<OrganizationDeleted, AgentsDbContext>(db, writes)
{
    protected override async Task Handle(OrganizationDeleted message, CancellationToken ct)
    {
        Db.Agents.RemoveRange(await Db.Agents.Where(a => a.OrganizationId == message.OrganizationId).ToListAsync(ct));
        Db.Boards.RemoveRange(await Db.Boards.Where(b => b.OrganizationId == message.OrganizationId).ToListAsync(ct));
        Db.Gateways.RemoveRange(await Db.Gateways.Where(g => g.OrganizationId == message.OrganizationId).ToListAsync(ct));
    }
}
