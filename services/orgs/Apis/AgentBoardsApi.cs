using Microsoft.EntityFrameworkCore;
using MissionControl.InternalAuth;
using MissionControl.Orgs.Data;

namespace MissionControl.Orgs.Apis;

/// <summary>
/// Boards as agents see them: a board agent its own board, a gateway-main agent (no board of its own)
/// the boards of its organization. Never another organization's.
/// </summary>
public static class AgentBoardsApi
{
    public static IEndpointRouteBuilder MapAgentBoardsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/agent/boards");
        api.MapGet("", List);
        api.MapGet("/{boardId:guid}", Get);
        return app;
    }

    private static async Task<IResult> List(HttpContext http, OrgsDbContext db, int? limit, int? offset, CancellationToken ct)
    {
        var agent = http.GetPrincipal();
        if (!TryAgent(agent, out var orgId, out var problem)) return problem;
        if (!PageRequest.TryParse(limit, offset, out var page, out var error)) return error!;
        var boards = db.Boards.AsNoTracking().Where(b => b.OrganizationId == orgId);
        boards = agent.AgentBoardId is { } own ? boards.Where(b => b.Id == own)
            : Access.IsGatewayMain(agent) ? boards
            : boards.Where(_ => false);
        return Results.Ok(await BoardsApi.PageOfAsync(boards, page, ct));
    }

    private static async Task<IResult> Get(Guid boardId, HttpContext http, OrgsDbContext db, CancellationToken ct)
    {
        var agent = http.GetPrincipal();
        if (!TryAgent(agent, out var orgId, out var problem)) return problem;
        var board = await db.Boards.AsNoTracking().FirstOrDefaultAsync(b => b.Id == boardId && b.OrganizationId == orgId, ct);
        if (board is null) return BoardsApi.BoardNotFound();
        return Access.CanReadBoard(agent, boardId)
            ? Results.Ok(BoardRead.Of(board))
            : ApiProblems.Forbidden("Agents may only read their own board.");
    }

    private static bool TryAgent(McPrincipal principal, out Guid orgId, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out IResult? problem)
    {
        (orgId, problem) = (principal.OrganizationId ?? Guid.Empty, null);
        if (principal.Kind != PrincipalKind.Agent) problem = ApiProblems.Forbidden("Only agents use /api/v1/agent routes.");
        else if (principal.OrganizationId is null) problem = ApiProblems.Forbidden("The agent belongs to no organization.");
        return problem is null;
    }
}
