using Microsoft.EntityFrameworkCore;
using MissionControl.Agents.Apis;
using MissionControl.Agents.Data;
using MissionControl.Agents.Domain;
using MissionControl.Messaging;

namespace MissionControl.Agents.Operations;

/// <summary>
/// Creates a board agent (by an org admin, or by the board's lead) and starts its provisioning run;
/// the bridge's answer arrives later on the bus, so the answer is 201 with status provisioning.
/// </summary>
public sealed class AgentCreation(AgentsDbContext db, DatabaseWriteGate gate, Provisioning provisioning, AgentReads reads, AgentClock clock)
{
    public async Task<IResult> CreateAsync(BoardCopy board, AgentCreateRequest body, bool byLead, CancellationToken ct)
    {
        var (agent, refused) = await TryCreateAsync(board, body, byLead, null, ct);
        return refused ?? Results.Created($"/api/v1/agents/{agent!.Id}", reads.Read(agent));
    }

    /// <summary>The new agent, or the refusal; <paramref name="configure"/> sets more fields (the /api/agents dialect's) before AgentCreated is written.</summary>
    public async Task<(Agent? Agent, IResult? Refused)> TryCreateAsync(
        BoardCopy board, AgentCreateRequest body, bool byLead, Action<Agent>? configure, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (AgentRules.CheckName(body.Name) is { } nameError) errors["name"] = [nameError];
        if (!AgentInput.TryObject(body.HeartbeatConfig, out var heartbeatConfig)) errors["heartbeat_config"] = ["must be an object"];
        if (!AgentInput.TryProfile(body.IdentityProfile, out var profile)) errors["identity_profile"] = ["must be an object"];
        if (AgentInput.CheckTemplate(body.IdentityTemplate) is { } e1) errors["identity_template"] = [e1];
        if (AgentInput.CheckTemplate(body.SoulTemplate) is { } e2) errors["soul_template"] = [e2];
        if (errors.Count > 0) return (null, ApiProblems.Validation(errors));
        var lead = body.IsBoardLead == true;
        if (byLead && lead) return (null, ApiProblems.Forbidden("A lead cannot create another lead.", AgentCodes.LeadOnly));
        if (board.GatewayId is not { } gatewayId)
            return (null, ApiProblems.Unprocessable("The board has no gateway to run agents on.", AgentCodes.BoardHasNoGateway));

        var name = body.Name!.Trim();
        var now = clock.Now;
        await using var unit = await WriteUnit.BeginAsync(db, gate, ct);
        var gateway = await unit.LockGatewayAsync(gatewayId, ct);
        if (gateway is null || gateway.OrganizationId != board.OrganizationId)
            return (null, ApiProblems.Unprocessable("The board's gateway is not known to Mission Control.", AgentCodes.GatewayUnknown));

        var existing = await db.Agents.AsNoTracking()
            .Where(a => a.BoardId == board.Id || a.GatewayId == gatewayId)
            .Select(a => new ExistingAgent(a.Id, a.BoardId, a.Name, a.IsBoardLead)).ToListAsync(ct);
        if (AgentRules.NameTaken(name, existing))
            return (null, ApiProblems.Conflict($"An agent named \"{name}\" already exists on this board or gateway.", AgentCodes.NameTaken));
        var boardAgents = existing.Where(a => a.BoardId == board.Id).ToList();
        if (byLead && AgentRules.CapReached(board.MaxAgents, boardAgents))
            return (null, ApiProblems.Conflict(AgentRules.CapMessage(board.MaxAgents), AgentCodes.MaxAgentsReached));
        if (lead && boardAgents.Any(a => a.IsBoardLead))
            return (null, ApiProblems.Conflict("The board already has a lead agent.", AgentCodes.LeadExists));

        var agent = await AddAsync(board, gatewayId, name, heartbeatConfig, profile, body.IdentityTemplate, body.SoulTemplate, lead, now, ct, configure);
        await unit.CommitAsync(ct);
        return (agent, null);
    }

    /// <summary>
    /// The board's lead, created ("Lead Agent") and provisioned when the board has none — as the
    /// reference's lazy lead creation, without the name check (every board's lead is "Lead Agent").
    /// <paramref name="then"/> queues what goes with it (a message to the lead) in the same transaction.
    /// </summary>
    public async Task<LeadResult> EnsureLeadAsync(BoardCopy board, Action<Agent> then, CancellationToken ct)
    {
        if (board.GatewayId is not { } gatewayId)
            return new LeadResult(null, false, "The board has no gateway to run agents on.", AgentCodes.BoardHasNoGateway);
        var now = clock.Now;
        await using var unit = await WriteUnit.BeginAsync(db, gate, ct);
        var gateway = await unit.LockGatewayAsync(gatewayId, ct);
        if (gateway is null || gateway.OrganizationId != board.OrganizationId)
            return new LeadResult(null, false, "The board's gateway is not known to Mission Control.", AgentCodes.GatewayUnknown);
        var lead = await db.Agents.AsNoTracking().FirstOrDefaultAsync(a => a.BoardId == board.Id && a.IsBoardLead, ct);
        var created = lead is null;
        lead ??= await AddAsync(board, gatewayId, LeadName, null,
            """{"role":"Board Lead","communication_style":"direct, concise, practical","emoji":":gear:"}""", null, null, lead: true, now, ct);
        then(lead);
        await unit.CommitAsync(ct);
        return new LeadResult(lead, created, null, null);
    }

    public const string LeadName = "Lead Agent";

    private async Task<Agent> AddAsync(BoardCopy board, Guid gatewayId, string name, string? heartbeatConfig, string? profile, string? identityTemplate,
        string? soulTemplate, bool lead, DateTime now, CancellationToken ct, Action<Agent>? configure = null)
    {
        var agent = new Agent
        {
            Id = Guid.NewGuid(), OrganizationId = board.OrganizationId, BoardId = board.Id, GatewayId = gatewayId, Name = name,
            Status = AgentStatus.Provisioning, HeartbeatConfig = heartbeatConfig ?? AgentStatus.DefaultHeartbeatConfig, IdentityProfile = profile,
            IdentityTemplate = NullIfBlank(identityTemplate), SoulTemplate = NullIfBlank(soulTemplate), IsBoardLead = lead,
            CreatedAt = now, UpdatedAt = now,
        };
        configure?.Invoke(agent);
        db.Agents.Add(agent);
        await provisioning.StartRunAsync(agent, ProvisionActions.Provision, issueToken: true, wake: true, [], now, ct, created: true);
        return agent;
    }

    public static string? NullIfBlank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;
}

/// <summary>The board's lead (null with the refusal when there is none and none could be made), and whether it was just created.</summary>
public sealed record LeadResult(Agent? Lead, bool Created, string? Error, string? Code);
