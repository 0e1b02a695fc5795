using System.Text.Json;
using MissionControl.Agents.Data;

namespace MissionControl.Agents.Apis;

/// <summary>The reference's AgentRead (§2.8) with the lifecycle fields of this design; never a token or its hash.</summary>
public sealed record AgentRead(
    Guid Id, Guid OrganizationId, Guid? BoardId, Guid? GatewayId, string Name, string Status, JsonElement? HeartbeatConfig,
    JsonElement? IdentityProfile, string? IdentityTemplate, string? SoulTemplate, bool IsBoardLead, bool IsGatewayMain, string? GatewayAgentId,
    string? OpenclawSessionId, string? WorkspacePath, DateTime? LastSeenAt, string? LastProvisionError, long ProvisionGeneration,
    DateTime CreatedAt, DateTime UpdatedAt)
{
    public static AgentRead From(Agent a, string status) => new(
        a.Id, a.OrganizationId, a.BoardId, a.GatewayId, a.Name, status, Parse(a.HeartbeatConfig), Parse(a.IdentityProfile), a.IdentityTemplate,
        a.SoulTemplate, a.IsBoardLead, a.IsGatewayMain, a.GatewayAgentId, a.SessionKey, a.WorkspacePath, a.LastSeenAt, a.LastProvisionError,
        a.ProvisionGeneration, a.CreatedAt, a.UpdatedAt);

    private static JsonElement? Parse(string? json) => json is null ? null : JsonDocument.Parse(json).RootElement.Clone();
}

/// <summary>GET /api/v1/agent/healthz.</summary>
public sealed record AgentHealth(bool Ok, Guid AgentId, Guid? BoardId, Guid? GatewayId, string Status, bool IsBoardLead);

/// <summary>The reference's GatewayTemplatesSyncResult (§2.3).</summary>
public sealed record TemplatesSyncResult(
    Guid GatewayId, bool IncludeMain, bool ResetSessions, int AgentsUpdated, int AgentsSkipped, bool MainUpdated, IReadOnlyList<TemplatesSyncError> Errors);

public sealed record TemplatesSyncError(Guid AgentId, string AgentName, Guid? BoardId, string Message);

public sealed record OkResult(bool Ok = true);
