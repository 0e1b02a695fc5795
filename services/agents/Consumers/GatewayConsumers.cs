using MissionControl.Agents.Data;
using MissionControl.Agents.Operations;
using MissionControl.Contracts.Gateways;
using MissionControl.Messaging;

namespace MissionControl.Agents.Consumers;

/// <summary>A new gateway: keep its copy, create its main agent and request its provisioning.</summary>
public sealed class GatewayCreatedConsumer(AgentsDbContext db, DatabaseWriteGate writes, GatewayAgents gateways, AgentClock clock)
    : IdempotentConsumer<GatewayCreated, AgentsDbContext>(db, writes)
{
    protected override async Task Handle(GatewayCreated message, CancellationToken ct)
    {
        if (await gateways.ApplyAsync(message.Gateway, ct) is { } copy) await gateways.EnsureMainAsync(copy, clock.Now, ct);
    }
}

/// <summary>A changed gateway: the copy, and an update run for its main agent when its address, token, workspace or name changed.</summary>
public sealed class GatewayUpdatedConsumer(AgentsDbContext db, DatabaseWriteGate writes, GatewayAgents gateways, AgentClock clock)
    : IdempotentConsumer<GatewayUpdated, AgentsDbContext>(db, writes)
{
    protected override async Task Handle(GatewayUpdated message, CancellationToken ct)
    {
        if (await gateways.ApplyAsync(message.Gateway, ct) is { } copy) await gateways.OnUpdatedAsync(copy, message.ChangedFields, clock.Now, ct);
    }
}

public sealed class GatewayDeletedConsumer(AgentsDbContext db, DatabaseWriteGate writes, GatewayAgents gateways, AgentClock clock)
    : IdempotentConsumer<GatewayDeleted, AgentsDbContext>(db, writes)
{
    protected override Task Handle(GatewayDeleted message, CancellationToken ct) => gateways.DeleteAsync(message.GatewayId, clock.Now, ct);
}
