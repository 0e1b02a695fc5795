using Microsoft.Extensions.Options;
using MissionControl.Agents.Data;
using MissionControl.Agents.Domain;
using MissionControl.Contracts.Agents;
using MissionControl.Messaging;

namespace MissionControl.Agents.Operations;

/// <summary>The computed status of an agent at a moment (reference §5.7).</summary>
public sealed class AgentClock(TimeProvider time, IOptions<AgentsOptions> options)
{
    public DateTime Now => time.GetUtcNow().UtcDateTime;

    public AgentsOptions Options => options.Value;

    public TimeSpan OfflineAfter(Agent agent) => AgentStatus.OfflineAfter(agent.HeartbeatConfig, options.Value.OfflineAfter);

    public string StatusOf(Agent agent, DateTime now) => AgentStatus.Compute(agent.Status, agent.LastSeenAt, OfflineAfter(agent), now);

    /// <summary>The agent was seen at <paramref name="now"/>.</summary>
    public void MarkSeen(Agent agent, DateTime now)
    {
        agent.LastSeenAt = now;
        agent.PresenceExpiresAt = now + OfflineAfter(agent);
    }
}

/// <summary>Builders for the integration events every change writes to the outbox with it.</summary>
public static class Events
{
    public static AgentState State(Agent a, string status) => new()
    {
        Id = a.Id, OrganizationId = a.OrganizationId, BoardId = a.BoardId, GatewayId = a.GatewayId, Name = a.Name, Status = status,
        IsBoardLead = a.IsBoardLead, IsGatewayMain = a.IsGatewayMain, SessionKey = a.SessionKey,
        IsCustom = a.IsCustom, Capabilities = AgentInput.ReadCapabilities(a.Capabilities),
        CreatedAt = a.CreatedAt, UpdatedAt = a.UpdatedAt,
    };

    public static void Created(AgentsDbContext db, Agent agent, string status, DateTime now)
    {
        agent.PublishedStatus = status;
        db.AddIntegrationEvent(new AgentCreated { OrganizationId = agent.OrganizationId, Agent = State(agent, status), OccurredAt = now });
    }

    public static void Updated(AgentsDbContext db, Agent agent, string status, IReadOnlyList<string> changed, DateTime now)
    {
        agent.PublishedStatus = status;
        agent.UpdatedAt = now;
        db.AddIntegrationEvent(new AgentUpdated
        {
            OrganizationId = agent.OrganizationId, Agent = State(agent, status), ChangedFields = changed, OccurredAt = now,
        });
    }

    /// <summary>
    /// The agent is gone; when it lives on a gateway that still exists the bridge also removes it there
    /// (agents.delete with its files, and its session).
    /// </summary>
    public static void Deleted(AgentsDbContext db, Agent agent, bool deprovision, DateTime now)
    {
        db.AddIntegrationEvent(new AgentDeleted { OrganizationId = agent.OrganizationId, AgentId = agent.Id, BoardId = agent.BoardId, OccurredAt = now });
        if (!deprovision || agent.GatewayId is not { } gatewayId) return;
        var gatewayAgentId = agent.GatewayAgentId ?? AgentIdentities.GatewayAgentId(agent.Id, agent.BoardId, gatewayId, agent.IsBoardLead, agent.IsGatewayMain);
        db.AddIntegrationEvent(new AgentDeprovisionRequested
        {
            OrganizationId = agent.OrganizationId, AgentId = agent.Id, GatewayId = gatewayId, GatewayAgentId = gatewayAgentId,
            SessionKey = agent.SessionKey ?? AgentIdentities.SessionKey(gatewayAgentId), OccurredAt = now,
        });
    }

    public static void Heartbeat(AgentsDbContext db, Agent agent, string status, DateTime now) =>
        db.AddIntegrationEvent(new AgentHeartbeat
        {
            OrganizationId = agent.OrganizationId, AgentId = agent.Id, BoardId = agent.BoardId, Status = status, OccurredAt = now,
        });
}
