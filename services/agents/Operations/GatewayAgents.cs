using Microsoft.EntityFrameworkCore;
using MissionControl.Agents.Apis;
using MissionControl.Agents.Data;
using MissionControl.Agents.Domain;
using MissionControl.Contracts.Gateways;
using MissionControl.Messaging;

namespace MissionControl.Agents.Operations;

/// <summary>Gateway-wide work: the copy of a gateway, its main agent, and template sync (reference §5.9).</summary>
public sealed class GatewayAgents(AgentsDbContext db, DatabaseWriteGate gate, Provisioning provisioning, AgentClock clock)
{
    /// <summary>Fields of a gateway whose change means the main agent's files must be written again.</summary>
    private static readonly string[] ReprovisionFields = ["url", "token", "workspace_root", "name"];

    /// <summary>Creates or updates the copy; an older state than the copy changes nothing. Returns null when stale.</summary>
    public async Task<GatewayCopy?> ApplyAsync(GatewayState state, CancellationToken ct)
    {
        var copy = await db.Gateways.FindAsync([state.Id], ct);
        if (copy is null)
        {
            copy = new GatewayCopy { Id = state.Id, OrganizationId = state.OrganizationId, Name = state.Name, Url = state.Url, WorkspaceRoot = state.WorkspaceRoot };
            db.Gateways.Add(copy);
        }
        else if (copy.UpdatedAt > state.UpdatedAt.UtcDateTime) return null;
        copy.Name = state.Name;
        copy.Url = state.Url;
        copy.WorkspaceRoot = state.WorkspaceRoot;
        copy.UpdatedAt = state.UpdatedAt.UtcDateTime;
        return copy;
    }

    /// <summary>GatewayCreated: the gateway's main agent, provisioned.</summary>
    public async Task<Agent> EnsureMainAsync(GatewayCopy gateway, DateTime now, CancellationToken ct)
    {
        var main = await FindMainAsync(gateway.Id, ct);
        if (main is not null) return main;
        main = new Agent
        {
            Id = Guid.NewGuid(), OrganizationId = gateway.OrganizationId, GatewayId = gateway.Id, Name = AgentIdentities.MainAgentName(gateway.Name),
            Status = AgentStatus.Provisioning, IsGatewayMain = true, HeartbeatConfig = AgentStatus.DefaultHeartbeatConfig,
            IdentityProfile = """{"role":"Gateway Agent","communication_style":"direct, concise, practical","emoji":":compass:"}""",
            CreatedAt = now, UpdatedAt = now,
        };
        db.Agents.Add(main);
        await provisioning.StartRunAsync(main, ProvisionActions.Provision, issueToken: true, wake: true, [], now, ct, created: true);
        return main;
    }

    /// <summary>GatewayUpdated: a changed address, token, workspace root or name re-renders and rewrites the main agent; a changed workspace root the board agents too.</summary>
    public async Task OnUpdatedAsync(GatewayCopy gateway, IReadOnlyList<string> changedFields, DateTime now, CancellationToken ct)
    {
        var main = await FindMainAsync(gateway.Id, ct);
        if (main is null)
        {
            await EnsureMainAsync(gateway, now, ct);
            return;
        }
        if (!changedFields.Any(f => ReprovisionFields.Contains(f))) return;
        var changed = new List<string>();
        var name = AgentIdentities.MainAgentName(gateway.Name);
        if (main.Name != name)
        {
            main.Name = name;
            changed.Add("name");
        }
        await provisioning.StartRunAsync(main, Provisioning.ActionFor(main), issueToken: true, wake: true, changed, now, ct);
        if (!changedFields.Contains("workspace_root")) return;
        // Board agents' files name the workspace too.
        var agents = await db.Agents.Where(a => a.GatewayId == gateway.Id && !a.IsGatewayMain && a.OrganizationId == gateway.OrganizationId)
            .OrderBy(a => a.CreatedAt).ToListAsync(ct);
        foreach (var agent in agents.Where(Provisioning.NeedsRerender)) await provisioning.RerenderAsync(agent, now, ct);
    }

    /// <summary>
    /// POST /gateways/{id}/templates/sync: an update run (no wake) for the gateway's board agents
    /// (optionally one board, only leads) and its main agent. Without rotate_tokens an agent that never
    /// got a token is skipped, as the reference does when it cannot read AUTH_TOKEN.
    /// </summary>
    public async Task<TemplatesSyncResult> SyncAsync(
        GatewayCopy gateway, bool includeMain, bool leadOnly, bool rotateTokens, bool resetSessions, Guid? boardId, CancellationToken ct)
    {
        var now = clock.Now;
        var errors = new List<TemplatesSyncError>();
        int updated = 0, skipped = 0;
        var mainUpdated = false;
        await using var unit = await WriteUnit.BeginAsync(db, gate, ct);
        var agents = await db.Agents.Where(a => a.GatewayId == gateway.Id && a.OrganizationId == gateway.OrganizationId).OrderBy(a => a.CreatedAt).ToListAsync(ct);
        if (includeMain && !agents.Any(a => a.IsGatewayMain))
        {
            await EnsureMainAsync(gateway, now, ct);
            mainUpdated = true;
        }
        foreach (var agent in agents)
        {
            if (agent.IsGatewayMain ? !includeMain : (leadOnly && !agent.IsBoardLead) || (boardId is { } b && agent.BoardId != b)) continue;
            if (!rotateTokens && agent.TokenHash is null)
            {
                skipped++;
                errors.Add(new TemplatesSyncError(agent.Id, agent.Name, agent.BoardId,
                    "Skipping agent: it has no token on record yet (run with rotate_tokens=true to re-key)."));
                continue;
            }
            await provisioning.StartRunAsync(agent, Provisioning.ActionFor(agent), issueToken: rotateTokens, wake: false, [], now, ct);
            if (agent.IsGatewayMain) mainUpdated = true;
            else updated++;
        }
        await unit.CommitAsync(ct);
        return new TemplatesSyncResult(gateway.Id, includeMain, resetSessions, updated, skipped, mainUpdated, errors);
    }

    /// <summary>The gateway is gone, and its agents with it (no deprovisioning: there is nothing left to call).</summary>
    public async Task DeleteAsync(Guid gatewayId, DateTime now, CancellationToken ct)
    {
        foreach (var agent in await db.Agents.Where(a => a.GatewayId == gatewayId).ToListAsync(ct))
        {
            db.Agents.Remove(agent);
            Events.Deleted(db, agent, deprovision: false, now);
        }
        if (await db.Gateways.FindAsync([gatewayId], ct) is { } copy) db.Gateways.Remove(copy);
    }

    private Task<Agent?> FindMainAsync(Guid gatewayId, CancellationToken ct) =>
        db.Agents.FirstOrDefaultAsync(a => a.GatewayId == gatewayId && a.IsGatewayMain, ct);
}
