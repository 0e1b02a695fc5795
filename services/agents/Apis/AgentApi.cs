using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using MissionControl.Agents.Data;
using MissionControl.Agents.Domain;
using MissionControl.Agents.Operations;
using MissionControl.Agents.Templates;
using MissionControl.Contracts.Tasks;
using MissionControl.InternalAuth;
using MissionControl.Messaging;

namespace MissionControl.Agents.Apis;

/// <summary>The parts of the agent API (/api/v1/agent, reference §2.9) that agents owns. Callers are agents (X-Agent-Token at the edge).</summary>
public static class AgentApi
{
    public static IEndpointRouteBuilder MapAgentApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/agent").AddEndpointFilter(async (context, next) =>
            context.HttpContext.GetPrincipal().AgentId is null
                ? ApiProblems.Forbidden("The agent API is for agents (X-Agent-Token).")
                : await next(context));
        api.MapGet("/healthz", Health);
        api.MapPost("/heartbeat", Heartbeat);
        api.MapGet("/agents", List);
        api.MapPost("/agents", (AgentCreateRequest body, HttpContext http, AgentsDbContext db, AgentCreation creation, CancellationToken ct) =>
            CreateAsLead(body, http, db, creation, ct));
        api.MapPost("/boards/{boardId:guid}/agents/{agentId:guid}/nudge", Nudge);
        api.MapGet("/boards/{boardId:guid}/agents/{agentId:guid}/soul", GetSoul);
        api.MapPut("/boards/{boardId:guid}/agents/{agentId:guid}/soul", PutSoul);
        api.MapDelete("/boards/{boardId:guid}/agents/{agentId:guid}", Delete);
        api.MapCoordination();
        return app;
    }

    private static async Task<IResult> Health(HttpContext http, AgentsDbContext db, AgentClock clock, CancellationToken ct)
    {
        var id = http.GetPrincipal().AgentId!.Value;
        var agent = await db.Agents.AsNoTracking().FirstOrDefaultAsync(a => a.Id == id, ct);
        return agent is null
            ? ApiProblems.NotFound("Agent not found.")
            : Results.Ok(new AgentHealth(true, agent.Id, agent.BoardId, agent.GatewayId, clock.StatusOf(agent, clock.Now), agent.IsBoardLead));
    }

    private static Task<IResult> Heartbeat(HeartbeatRequest? body, HttpContext http, AgentChanges changes, Presence presence, CancellationToken ct)
    {
        var id = http.GetPrincipal().AgentId!.Value;
        presence.Seen(id);
        return changes.HeartbeatAsync(id, body?.Status, ct);
    }

    /// <summary>Board agents: their own board (another board_id is 403). The gateway-main agent: its organization's agents.</summary>
    private static async Task<IResult> List(
        HttpContext http, AgentReads reads, [FromQuery(Name = "board_id")] Guid? boardId, int? limit, int? offset, CancellationToken ct)
    {
        if (!PageRequest.TryParse(limit, offset, out var page, out var error)) return error!;
        var principal = http.GetPrincipal();
        if (boardId is { } b && principal.Role != AgentRoles.Main && principal.AgentBoardId != b)
            return ApiProblems.Forbidden("Agents may only act on their own board.", AgentCodes.AgentBoardMismatch);
        var query = reads.Visible(principal);
        if (boardId is { } board) query = query.Where(a => a.BoardId == board);
        return Results.Ok(await reads.PageAsync(query, page, ct));
    }

    /// <summary>The lead adds a worker to its own board (capped by the board's max_agents).</summary>
    internal static async Task<IResult> CreateAsLead(AgentCreateRequest body, HttpContext http, AgentsDbContext db, AgentCreation creation, CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        if (!principal.IsBoardLead || principal.AgentBoardId is not { } boardId) return Access.LeadOnly();
        if (body.BoardId is { } requested && requested != boardId)
            return ApiProblems.Forbidden("Agents may only act on their own board.", AgentCodes.AgentBoardMismatch);
        var board = await Access.BoardAsync(db, principal, boardId, ct);
        if (board is null) return ApiProblems.NotFound("Board not found.");
        return await creation.CreateAsync(board, body with { BoardId = boardId }, byLead: true, ct);
    }

    /// <summary>A message into a board agent's session, delivered at once (the bridge does chat.send with deliver).</summary>
    private static async Task<IResult> Nudge(
        Guid boardId, Guid agentId, NudgeRequest body, HttpContext http, AgentsDbContext db, DatabaseWriteGate gate, TimeProvider time, CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        if (Access.RefuseOtherBoard(principal, boardId) is { } refused) return refused;
        if (!principal.IsBoardLead) return Access.LeadOnly();
        if (string.IsNullOrWhiteSpace(body.Message) || body.Message.Length > 20_000) return ApiProblems.Validation("message", "must be 1 to 20000 characters");
        var target = await db.Agents.AsNoTracking().FirstOrDefaultAsync(a => a.Id == agentId && a.BoardId == boardId, ct);
        if (target is null) return ApiProblems.NotFound("Agent not found.");
        if (target.SessionKey is null) return ApiProblems.Unprocessable("The agent has no gateway session yet.", AgentCodes.NoSession);
        db.AddIntegrationEvent(new AgentNotificationRequested
        {
            OrganizationId = target.OrganizationId, BoardId = boardId, AgentId = target.Id, Kind = "agent.nudge", Message = body.Message, Deliver = true,
            OccurredAt = time.GetUtcNow(),
        });
        using (await gate.EnterAsync(ct)) await db.SaveChangesAsync(ct);
        return Results.Ok(new OkResult());
    }

    /// <summary>The lead or the agent itself: SOUL.md as Mission Control renders it (the stored soul_template, else the default), as a JSON string.</summary>
    private static async Task<IResult> GetSoul(Guid boardId, Guid agentId, HttpContext http, AgentsDbContext db, Provisioning provisioning, CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        if (Access.RefuseOtherBoard(principal, boardId) is { } refused) return refused;
        if (!principal.IsBoardLead && principal.AgentId != agentId) return ApiProblems.Forbidden("Only the lead or the agent itself reads its soul.", AgentCodes.LeadOnly);
        var agent = await db.Agents.AsNoTracking().FirstOrDefaultAsync(a => a.Id == agentId && a.BoardId == boardId, ct);
        if (agent is null) return ApiProblems.NotFound("Agent not found.");
        var board = await db.Boards.AsNoTracking().FirstOrDefaultAsync(b => b.Id == boardId, ct);
        var gateway = agent.GatewayId is { } g ? await db.Gateways.AsNoTracking().FirstOrDefaultAsync(x => x.Id == g, ct) : null;
        return Results.Json(WorkspaceTemplates.RenderSoul(agent, board, gateway, provisioning.BaseUrl), JsonDefaults.Api);
    }

    private static async Task<IResult> PutSoul(
        Guid boardId, Guid agentId, SoulUpdateRequest body, HttpContext http, AgentsDbContext db, AgentChanges changes, CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        if (Access.RefuseOtherBoard(principal, boardId) is { } refused) return refused;
        if (!principal.IsBoardLead) return Access.LeadOnly();
        if (string.IsNullOrWhiteSpace(body.Content)) return ApiProblems.Validation("content", "must not be blank");
        if (AgentInput.CheckTemplate(body.Content) is { } tooLong) return ApiProblems.Validation("content", tooLong);
        if (!await db.Agents.AnyAsync(a => a.Id == agentId && a.BoardId == boardId, ct)) return ApiProblems.NotFound("Agent not found.");
        return await changes.SetSoulAsync(agentId, body.Content, ct);
    }

    /// <summary>The lead removes a worker of its board; never the gateway-main agent or a lead.</summary>
    private static async Task<IResult> Delete(Guid boardId, Guid agentId, HttpContext http, AgentsDbContext db, AgentChanges changes, CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        if (Access.RefuseOtherBoard(principal, boardId) is { } refused) return refused;
        if (!principal.IsBoardLead) return Access.LeadOnly();
        var target = await db.Agents.AsNoTracking().FirstOrDefaultAsync(a => a.Id == agentId && a.BoardId == boardId, ct);
        if (target is null) return ApiProblems.NotFound("Agent not found.");
        if (target.IsGatewayMain || target.IsBoardLead)
            return ApiProblems.Forbidden("Leads cannot delete the gateway agent or a lead.", AgentCodes.ProtectedAgent);
        return await changes.DeleteAsync(agentId, ct);
    }
}
