using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using MissionControl.Agents.Data;
using MissionControl.Agents.Domain;
using MissionControl.InternalAuth;
using MissionControl.Messaging;

namespace MissionControl.Agents.Operations;

/// <summary>
/// The key a custom agent verifies its callbacks with. The agent must hold it in clear and agents must
/// sign with it, so (unlike the token, kept as a hash) it is stored encrypted with Data Protection.
/// </summary>
public sealed class CallbackSecrets(IDataProtectionProvider provider)
{
    private readonly IDataProtector _protector = provider.CreateProtector("MissionControl.Agents.CallbackSecrets.v1");

    /// <summary>"mcs_" and 32 random bytes in hex.</summary>
    public static string New() => "mcs_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    public string Protect(string secret) => _protector.Protect(secret);

    public string Unprotect(string protectedSecret) => _protector.Unprotect(protectedSecret);
}

/// <summary>A custom agent just created, with the credentials shown this once.</summary>
public sealed record NewCustomAgent(Agent Agent, string Token, string CallbackSecret);

/// <summary>
/// Custom agents: board agents with no gateway. Nothing is provisioned: the agent is ready at once, its
/// token is minted here (only its hash kept, so the edge resolves it like any agent token), and
/// AgentCreated/AgentUpdated are published as for gateway agents (tasks and metrics keep copies).
/// </summary>
public sealed class CustomAgents(AgentsDbContext db, DatabaseWriteGate gate, AgentClock clock, CallbackSecrets secrets)
{
    public async Task<(NewCustomAgent? Created, IResult? Refused)> CreateAsync(
        BoardCopy board, string name, string? capabilities, string? role, string? callbackUrl, CancellationToken ct)
    {
        var now = clock.Now;
        await using var unit = await WriteUnit.BeginAsync(db, gate, ct);
        if (await unit.LockBoardAsync(board.Id, ct) is null) return (null, ApiProblems.NotFound("Board not found."));
        if (await NameTakenAsync(board.Id, name, null, ct))
            return (null, ApiProblems.Conflict($"An agent named \"{name}\" already exists on this board.", AgentCodes.NameTaken));
        var token = AgentTokens.New();
        var secret = CallbackSecrets.New();
        var agent = new Agent
        {
            Id = Guid.NewGuid(), OrganizationId = board.OrganizationId, BoardId = board.Id, Name = name, Status = AgentStatus.Ready, IsCustom = true,
            Capabilities = capabilities, Role = role, CallbackUrl = callbackUrl, CallbackSecret = secrets.Protect(secret),
            TokenHash = AgentTokens.Hash(token), CreatedAt = now, UpdatedAt = now,
        };
        db.Agents.Add(agent);
        Events.Created(db, agent, clock.StatusOf(agent, now), now);
        await unit.CommitAsync(ct);
        return (new NewCustomAgent(agent, token, secret), null);
    }

    /// <summary>
    /// The dialect's update: capabilities and role of any agent; name and callbackUrl of a custom agent
    /// (a gateway agent is renamed through /api/v1/agents, which re-renders its files).
    /// </summary>
    public async Task<(Agent? Agent, IResult? Refused)> UpdateAsync(Guid agentId, AgentDialectChange change, CancellationToken ct)
    {
        var now = clock.Now;
        await using var unit = await WriteUnit.BeginAsync(db, gate, ct);
        var agent = await unit.LockAgentAsync(agentId, ct);
        if (agent is null) return (null, ApiProblems.NotFound("Agent not found."));
        if (!agent.IsCustom && (change.Name is not null || change.CallbackUrlSet))
            return (null, ApiProblems.Unprocessable(
                "Only custom agents take a name or callbackUrl here; rename a gateway agent with PATCH /api/v1/agents/{id}.", AgentCodes.ImmutableField));
        var changed = new List<string>();
        if (change.Name is { } name && name != agent.Name)
        {
            if (agent.BoardId is { } board && await NameTakenAsync(board, name, agent.Id, ct))
                return (null, ApiProblems.Conflict($"An agent named \"{name}\" already exists on this board.", AgentCodes.NameTaken));
            agent.Name = name;
            changed.Add("name");
        }
        if (change.CapabilitiesSet && change.Capabilities != agent.Capabilities)
        {
            agent.Capabilities = change.Capabilities;
            changed.Add("capabilities");
        }
        if (change.RoleSet && change.Role != agent.Role)
        {
            agent.Role = change.Role;
            changed.Add("role");
        }
        if (change.CallbackUrlSet && change.CallbackUrl != agent.CallbackUrl)
        {
            agent.CallbackUrl = change.CallbackUrl;
            changed.Add("callback_url");
        }
        if (changed.Count > 0)
        {
            Events.Updated(db, agent, clock.StatusOf(agent, now), changed, now);
            await unit.CommitAsync(ct);
        }
        return (agent, null);
    }

    private Task<bool> NameTakenAsync(Guid boardId, string name, Guid? except, CancellationToken ct)
    {
        var lower = name.ToLower();
        return db.Agents.AsNoTracking().AnyAsync(a => a.BoardId == boardId && a.Id != except && a.Name.ToLower() == lower, ct);
    }
}

/// <summary>What a PUT/PATCH /api/agents/{id} asks for (…Set: the field was present; values already checked).</summary>
public sealed record AgentDialectChange(
    string? Name, bool CapabilitiesSet, string? Capabilities, bool RoleSet, string? Role, bool CallbackUrlSet, string? CallbackUrl);
