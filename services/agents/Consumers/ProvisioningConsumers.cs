using MissionControl.Agents.Data;
using MissionControl.Agents.Operations;
using MissionControl.Contracts.Agents;
using MissionControl.Messaging;

namespace MissionControl.Agents.Consumers;

/// <summary>The bridge wrote the agent's files: ready, with its session key and token hash. Other generations are stale.</summary>
public sealed class AgentProvisionedConsumer(AgentsDbContext db, DatabaseWriteGate writes, Provisioning provisioning, AgentClock clock, ILogger<AgentProvisionedConsumer> log)
    : IdempotentConsumer<AgentProvisioned, AgentsDbContext>(db, writes)
{
    protected override async Task Handle(AgentProvisioned message, CancellationToken ct)
    {
        var agent = await Db.Agents.FindAsync([message.AgentId], ct);
        if (agent is null || agent.OrganizationId != message.OrganizationId || !provisioning.ApplyProvisioned(agent, message, clock.Now))
            log.LogInformation("Ignored AgentProvisioned for agent {AgentId} generation {Generation} (gone or stale)", message.AgentId, message.Generation);
    }
}

/// <summary>The bridge could not provision the current generation: retry with backoff if that may help, else provision_failed.</summary>
public sealed class AgentProvisioningFailedConsumer(
    AgentsDbContext db, DatabaseWriteGate writes, Provisioning provisioning, AgentClock clock, ILogger<AgentProvisioningFailedConsumer> log)
    : IdempotentConsumer<AgentProvisioningFailed, AgentsDbContext>(db, writes)
{
    protected override async Task Handle(AgentProvisioningFailed message, CancellationToken ct)
    {
        var agent = await Db.Agents.FindAsync([message.AgentId], ct);
        if (agent is null || agent.OrganizationId != message.OrganizationId || !provisioning.ApplyFailed(agent, message, clock.Now))
            log.LogInformation("Ignored AgentProvisioningFailed for agent {AgentId} generation {Generation} (gone or stale)", message.AgentId, message.Generation);
    }
}
