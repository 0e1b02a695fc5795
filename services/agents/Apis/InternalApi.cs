using Microsoft.EntityFrameworkCore;
using MissionControl.Agents.Data;
using MissionControl.Agents.Operations;
using MissionControl.InternalAuth;

namespace MissionControl.Agents.Apis;

/// <summary>Internal: the edge turns an agent token into the agent's principal.</summary>
public static class InternalApi
{
    /// <summary>Longer than any token AgentTokens mints; anything longer is not one.</summary>
    private const int MaxPresentedLength = 512;

    public static IEndpointRouteBuilder MapInternalApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/internal/v1/agents/resolve-token", Resolve);
        return app;
    }

    /// <summary>By the token's hash through the unique index: one lookup, whatever the number of agents.</summary>
    private static async Task<IResult> Resolve(ResolveAgentTokenRequest body, HttpContext http, AgentsDbContext db, Presence presence, CancellationToken ct)
    {
        if (http.GetPrincipal() is not { Kind: PrincipalKind.Service, Subject: "edge" })
            return ApiProblems.Forbidden("Only the edge resolves agent tokens.");
        var unknown = ApiProblems.NotFound("No agent has this token.", "unknown_agent_token");
        if (string.IsNullOrEmpty(body.Token) || body.Token.Length > MaxPresentedLength) return unknown;
        var hash = AgentTokens.Hash(body.Token);
        var agent = await db.Agents.AsNoTracking().Where(a => a.TokenHash == hash)
            .Select(a => new ResolvedAgent(a.Id, a.OrganizationId, a.BoardId, a.GatewayId, a.Name, a.IsBoardLead, a.IsGatewayMain))
            .FirstOrDefaultAsync(ct);
        if (agent is null) return unknown;
        await presence.TouchAsync(agent.AgentId, ct);
        return Results.Ok(agent);
    }
}
