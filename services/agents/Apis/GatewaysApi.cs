using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using MissionControl.Agents.Data;
using MissionControl.Agents.Domain;
using MissionControl.Agents.Operations;
using MissionControl.InternalAuth;

namespace MissionControl.Agents.Apis;

/// <summary>The gateway operations that are about agents' files (the gateway itself is the gateway-bridge's).</summary>
public static class GatewaysApi
{
    public static IEndpointRouteBuilder MapGatewaysApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/gateways/{gatewayId:guid}/templates/sync", Sync);
        return app;
    }

    private static async Task<IResult> Sync(
        Guid gatewayId, HttpContext http, AgentsDbContext db, GatewayAgents gateways,
        [FromQuery(Name = "include_main")] bool? includeMain, [FromQuery(Name = "lead_only")] bool? leadOnly,
        [FromQuery(Name = "rotate_tokens")] bool? rotateTokens, [FromQuery(Name = "reset_sessions")] bool? resetSessions,
        [FromQuery(Name = "board_id")] Guid? boardId, CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        if (principal.Kind != PrincipalKind.User || !principal.IsOrgAdmin)
            return ApiProblems.Forbidden("Only organization admins sync gateway templates.", AgentCodes.AdminOnly);
        var gateway = await db.Gateways.AsNoTracking().FirstOrDefaultAsync(g => g.Id == gatewayId && g.OrganizationId == principal.OrganizationId, ct);
        if (gateway is null) return ApiProblems.NotFound("Gateway not found");
        return Results.Ok(await gateways.SyncAsync(gateway, includeMain ?? true, leadOnly ?? false, rotateTokens ?? false, resetSessions ?? false, boardId, ct));
    }
}
