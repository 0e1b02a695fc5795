using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using MissionControl.Agents.Data;
using MissionControl.Agents.Domain;
using MissionControl.Agents.Operations;
using MissionControl.InternalAuth;

namespace MissionControl.Agents.Apis;

/// <summary>/api/v1/agents (reference §2.8).</summary>
public static class AgentsApi
{
    public static IEndpointRouteBuilder MapAgentsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/agents");
        api.MapGet("", List);
        api.MapPost("", Create);
        api.MapPost("/heartbeat", NamedHeartbeat);
        api.MapGet("/{agentId:guid}", Get);
        api.MapPatch("/{agentId:guid}", Patch);
        api.MapDelete("/{agentId:guid}", Delete);
        api.MapPost("/{agentId:guid}/provision", Retry);
        api.MapPost("/{agentId:guid}/heartbeat", Heartbeat);
        return app;
    }

    private static async Task<IResult> List(
        HttpContext http, AgentReads reads, [FromQuery(Name = "board_id")] Guid? boardId, [FromQuery(Name = "gateway_id")] Guid? gatewayId,
        int? limit, int? offset, CancellationToken ct)
    {
        if (!PageRequest.TryParse(limit, offset, out var page, out var error)) return error!;
        var query = reads.Visible(http.GetPrincipal());
        if (boardId is { } b) query = query.Where(a => a.BoardId == b);
        if (gatewayId is { } g) query = query.Where(a => a.GatewayId == g);
        return Results.Ok(await reads.PageAsync(query, page, ct));
    }

    private static async Task<IResult> Get(Guid agentId, HttpContext http, AgentReads reads, CancellationToken ct) =>
        await reads.Visible(http.GetPrincipal()).FirstOrDefaultAsync(a => a.Id == agentId, ct) is { } agent
            ? Results.Ok(reads.Read(agent))
            : ApiProblems.NotFound("Agent not found.");

    /// <summary>An org admin with write access to the board, or (board forced) the board's lead.</summary>
    private static async Task<IResult> Create(AgentCreateRequest body, HttpContext http, AgentsDbContext db, AgentCreation creation, CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        if (principal.Kind == PrincipalKind.Agent) return await AgentApi.CreateAsLead(body, http, db, creation, ct);
        if (principal.Kind != PrincipalKind.User || !principal.IsOrgAdmin)
            return ApiProblems.Forbidden("Only organization admins create agents.", AgentCodes.AdminOnly);
        if (body.BoardId is not { } boardId) return ApiProblems.Validation("board_id", "is required");
        var board = await Access.BoardAsync(db, principal, boardId, ct);
        if (board is null) return ApiProblems.NotFound("Board not found.");
        if (!principal.CanWriteBoard(boardId)) return ApiProblems.Forbidden("You have no write access to this board.", AgentCodes.BoardAccessDenied);
        return await creation.CreateAsync(board, body, byLead: false, ct);
    }

    private static async Task<IResult> Patch(Guid agentId, HttpContext http, AgentReads reads, AgentChanges changes, bool? force, CancellationToken ct)
    {
        var body = await JsonRequests.ReadObjectAsync(http.Request, ct);
        if (await FindManagedAsync(agentId, http, reads, ct) is { } refused) return refused;
        return await changes.PatchAsync(agentId, body, force == true, ct);
    }

    /// <summary>Reference §1.5: deleting an agent that does not exist (for this caller) answers ok.</summary>
    private static async Task<IResult> Delete(Guid agentId, HttpContext http, AgentReads reads, AgentChanges changes, CancellationToken ct)
    {
        var agent = await reads.Visible(http.GetPrincipal()).FirstOrDefaultAsync(a => a.Id == agentId, ct);
        if (agent is null) return Results.Ok(new OkResult());
        return Access.RefuseManage(http.GetPrincipal(), agent) ?? await changes.DeleteAsync(agentId, ct);
    }

    private static async Task<IResult> Retry(Guid agentId, HttpContext http, AgentReads reads, AgentChanges changes, CancellationToken ct) =>
        await FindManagedAsync(agentId, http, reads, ct) ?? await changes.RetryAsync(agentId, ct);

    /// <summary>The agent itself, or an org admin on its behalf.</summary>
    private static async Task<IResult> Heartbeat(
        Guid agentId, HeartbeatRequest? body, HttpContext http, AgentReads reads, AgentChanges changes, Presence presence, CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        var self = principal.AgentId == agentId;
        if (!self && !(principal.Kind == PrincipalKind.User && principal.IsOrgAdmin))
            return ApiProblems.Forbidden("Only the agent itself or an organization admin may check it in.");
        if (!self && !await reads.Visible(principal).AnyAsync(a => a.Id == agentId, ct)) return ApiProblems.NotFound("Agent not found.");
        presence.Seen(agentId);
        return await changes.HeartbeatAsync(agentId, body?.Status, ct);
    }

    /// <summary>{name, board_id?, status?}: an agent checks itself in (name ignored); an org admin checks in the agent of that name.</summary>
    private static async Task<IResult> NamedHeartbeat(
        NamedHeartbeatRequest body, HttpContext http, AgentReads reads, AgentChanges changes, Presence presence, CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        Guid agentId;
        if (principal.AgentId is { } self) agentId = self;
        else
        {
            if (principal.Kind != PrincipalKind.User || !principal.IsOrgAdmin)
                return ApiProblems.Forbidden("Only agents and organization admins send heartbeats.", AgentCodes.AdminOnly);
            if (string.IsNullOrWhiteSpace(body.Name)) return ApiProblems.Validation("name", "must not be blank");
            var name = body.Name.Trim().ToLower();
            var query = reads.Visible(principal).Where(a => a.Name.ToLower() == name);
            if (body.BoardId is { } board) query = query.Where(a => a.BoardId == board);
            var found = await query.Select(a => a.Id).Take(2).ToListAsync(ct);
            if (found.Count == 0) return ApiProblems.NotFound("No agent of that name.");
            if (found.Count > 1) return ApiProblems.Conflict("Several agents have that name; give board_id.", "agent_name_ambiguous");
            agentId = found[0];
        }
        presence.Seen(agentId);
        return await changes.HeartbeatAsync(agentId, body.Status, ct);
    }

    private static async Task<IResult?> FindManagedAsync(Guid agentId, HttpContext http, AgentReads reads, CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        var agent = await reads.Visible(principal).FirstOrDefaultAsync(a => a.Id == agentId, ct);
        return agent is null ? ApiProblems.NotFound("Agent not found.") : Access.RefuseManage(principal, agent);
    }
}
