using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using MissionControl.Agents.Data;
using MissionControl.Agents.Domain;
using MissionControl.Messaging;

namespace MissionControl.Agents.Operations;

/// <summary>Changes to an existing agent: PATCH, soul, retry, heartbeat, delete. Each in one transaction with its events.</summary>
public sealed class AgentChanges(AgentsDbContext db, DatabaseWriteGate gate, Provisioning provisioning, AgentReads reads, AgentClock clock)
{
    private static readonly string[] Patchable = ["name", "heartbeat_config", "identity_profile", "identity_template", "soul_template"];

    /// <summary>
    /// PATCH (reference §2.8): status is the heartbeat's; an effective change of name, templates, profile
    /// or heartbeat_config (or force) starts an update run with a new token; otherwise nothing happens.
    /// </summary>
    public async Task<IResult> PatchAsync(Guid agentId, JsonObject body, bool force, CancellationToken ct)
    {
        if (body.ContainsKey("status"))
            return ApiProblems.Forbidden("status is controlled by agent heartbeat", AgentCodes.StatusControlledByHeartbeat);
        var errors = new Dictionary<string, string[]>();
        string? Text(string field)
        {
            if (!body.TryGetPropertyValue(field, out var node) || node is null) return null;
            if (node.GetValueKind() == JsonValueKind.String) return node.GetValue<string>();
            errors[field] = ["must be a string"];
            return null;
        }
        JsonElement? Element(string field) => body.TryGetPropertyValue(field, out var node) && node is not null ? JsonSerializer.SerializeToElement(node) : null;

        var name = Text("name");
        if (body.ContainsKey("name") && AgentRules.CheckName(name) is { } nameError) errors["name"] = [nameError];
        if (!AgentInput.TryObject(Element("heartbeat_config"), out var heartbeat)) errors["heartbeat_config"] = ["must be an object"];
        if (!AgentInput.TryProfile(Element("identity_profile"), out var profile)) errors["identity_profile"] = ["must be an object"];
        var identity = Text("identity_template");
        var soul = Text("soul_template");
        if (AgentInput.CheckTemplate(identity) is { } e1) errors["identity_template"] = [e1];
        if (AgentInput.CheckTemplate(soul) is { } e2) errors["soul_template"] = [e2];
        if (errors.Count > 0) return ApiProblems.Validation(errors);

        var now = clock.Now;
        await using var unit = await WriteUnit.BeginAsync(db, gate, ct);
        var agent = await unit.LockAgentAsync(agentId, ct);
        if (agent is null) return ApiProblems.NotFound("Agent not found.");
        if (body.TryGetPropertyValue("board_id", out var boardNode)
            && (boardNode is null ? null : Guid.TryParse(boardNode.ToString(), out var requested) ? requested : Guid.Empty) != agent.BoardId)
            return ApiProblems.Unprocessable("An agent cannot move to another board.", AgentCodes.ImmutableField);
        if (body.TryGetPropertyValue("is_gateway_main", out var mainNode) && mainNode is not null
            && mainNode.GetValueKind() is JsonValueKind.True or JsonValueKind.False && mainNode.GetValue<bool>() != agent.IsGatewayMain)
            return ApiProblems.Unprocessable("is_gateway_main cannot be changed.", AgentCodes.ImmutableField);

        var changed = new List<string>();
        if (body.ContainsKey("name") && name!.Trim() != agent.Name)
        {
            var trimmed = name.Trim();
            if (agent.GatewayId is { } g) await unit.LockGatewayAsync(g, ct);
            var peers = await db.Agents.AsNoTracking()
                .Where(a => a.Id != agent.Id && ((agent.BoardId != null && a.BoardId == agent.BoardId) || (agent.GatewayId != null && a.GatewayId == agent.GatewayId)))
                .Select(a => new ExistingAgent(a.Id, a.BoardId, a.Name, a.IsBoardLead)).ToListAsync(ct);
            if (AgentRules.NameTaken(trimmed, peers, agent.Id))
                return ApiProblems.Conflict($"An agent named \"{trimmed}\" already exists on this board or gateway.", AgentCodes.NameTaken);
            agent.Name = trimmed;
            changed.Add("name");
        }
        if (body.ContainsKey("heartbeat_config") && !AgentInput.SameJson(heartbeat, agent.HeartbeatConfig))
        {
            agent.HeartbeatConfig = heartbeat;
            if (agent.LastSeenAt is { } seen) clock.MarkSeen(agent, seen);
            changed.Add("heartbeat_config");
        }
        if (body.ContainsKey("identity_profile") && !AgentInput.SameJson(profile, agent.IdentityProfile))
        {
            agent.IdentityProfile = profile;
            changed.Add("identity_profile");
        }
        if (body.ContainsKey("identity_template") && AgentCreation.NullIfBlank(identity) != agent.IdentityTemplate)
        {
            agent.IdentityTemplate = AgentCreation.NullIfBlank(identity);
            changed.Add("identity_template");
        }
        if (body.ContainsKey("soul_template") && AgentCreation.NullIfBlank(soul) != agent.SoulTemplate)
        {
            agent.SoulTemplate = AgentCreation.NullIfBlank(soul);
            changed.Add("soul_template");
        }
        if (changed.Count == 0 && !force) return Results.Ok(reads.Read(agent, now));

        await provisioning.StartRunAsync(agent, Provisioning.ActionFor(agent), issueToken: true, wake: true, changed, now, ct);
        await unit.CommitAsync(ct);
        return Results.Ok(reads.Read(agent, now));
    }

    /// <summary>PUT soul (lead): store soul_template and bring SOUL.md up to date on the gateway (the token stays).</summary>
    public async Task<IResult> SetSoulAsync(Guid agentId, string content, CancellationToken ct)
    {
        var now = clock.Now;
        await using var unit = await WriteUnit.BeginAsync(db, gate, ct);
        var agent = await unit.LockAgentAsync(agentId, ct);
        if (agent is null) return ApiProblems.NotFound("Agent not found.");
        agent.SoulTemplate = content;
        await provisioning.StartRunAsync(agent, Provisioning.ActionFor(agent), issueToken: false, wake: false, ["soul_template"], now, ct);
        await unit.CommitAsync(ct);
        return Results.Ok(reads.Read(agent, now));
    }

    /// <summary>POST /agents/{id}/provision: a new run of the last action (provision until the first success), superseding any in flight.</summary>
    public async Task<IResult> RetryAsync(Guid agentId, CancellationToken ct)
    {
        var now = clock.Now;
        await using var unit = await WriteUnit.BeginAsync(db, gate, ct);
        var agent = await unit.LockAgentAsync(agentId, ct);
        if (agent is null) return ApiProblems.NotFound("Agent not found.");
        var action = Provisioning.ActionFor(agent);
        await provisioning.StartRunAsync(agent, action, issueToken: action == ProvisionActions.Provision || agent.ProvisionIssueToken, wake: true, [], now, ct);
        await unit.CommitAsync(ct);
        return Results.Accepted($"/api/v1/agents/{agent.Id}", reads.Read(agent, now));
    }

    /// <summary>
    /// A check-in (reference §5.6): last_seen_at now, the reported status kept unless a run owns the
    /// status, errors cleared; AgentHeartbeat always, AgentUpdated only when the computed status changes.
    /// </summary>
    public async Task<IResult> HeartbeatAsync(Guid agentId, string? status, CancellationToken ct)
    {
        if (AgentInput.CheckReportedStatus(status) is { } statusError) return ApiProblems.Validation("status", statusError);
        var now = clock.Now;
        await using var unit = await WriteUnit.BeginAsync(db, gate, ct);
        var agent = await unit.LockAgentAsync(agentId, ct);
        if (agent is null) return ApiProblems.NotFound("Agent not found.");
        clock.MarkSeen(agent, now);
        if (!AgentStatus.IsLifecycle(agent.Status))
        {
            if (status is not null) agent.Status = status.Trim();
            agent.LastProvisionError = null;
        }
        var computed = clock.StatusOf(agent, now);
        Events.Heartbeat(db, agent, computed, now);
        if (computed != agent.PublishedStatus) Events.Updated(db, agent, computed, ["status"], now);
        await unit.CommitAsync(ct);
        return Results.Ok(reads.Read(agent, now));
    }

    /// <summary>Deletes the agent: AgentDeleted, and AgentDeprovisionRequested while its gateway exists.</summary>
    public async Task<IResult> DeleteAsync(Guid agentId, CancellationToken ct)
    {
        var now = clock.Now;
        await using var unit = await WriteUnit.BeginAsync(db, gate, ct);
        var agent = await unit.LockAgentAsync(agentId, ct);
        if (agent is null) return Results.Ok(new Apis.OkResult());
        var gatewayKnown = agent.GatewayId is { } g && await db.Gateways.AnyAsync(x => x.Id == g, ct);
        db.Agents.Remove(agent);
        Events.Deleted(db, agent, deprovision: gatewayKnown, now);
        await unit.CommitAsync(ct);
        return Results.Ok(new Apis.OkResult());
    }
}
