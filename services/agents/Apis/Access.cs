using Microsoft.EntityFrameworkCore;
using MissionControl.Agents.Data;
using MissionControl.Agents.Domain;
using MissionControl.InternalAuth;

namespace MissionControl.Agents.Apis;

/// <summary>Who may change which agent, and the board copies requests name.</summary>
public static class Access
{
    public static async Task<BoardCopy?> BoardAsync(AgentsDbContext db, McPrincipal principal, Guid boardId, CancellationToken ct)
    {
        var board = await db.Boards.AsNoTracking().FirstOrDefaultAsync(b => b.Id == boardId, ct);
        return board is null || board.OrganizationId != principal.OrganizationId ? null : board;
    }

    /// <summary>
    /// Managing an agent (PATCH, DELETE, retry) takes an org admin, and for a board agent write access
    /// to its board. Null when allowed.
    /// </summary>
    public static IResult? RefuseManage(McPrincipal principal, Agent agent) =>
        principal.Kind != PrincipalKind.User ? ApiProblems.Forbidden("Only users manage agents here; leads use /api/v1/agent.", AgentCodes.AdminOnly)
        : !principal.IsOrgAdmin ? ApiProblems.Forbidden("Only organization admins manage agents.", AgentCodes.AdminOnly)
        : agent.BoardId is { } board && !principal.CanWriteBoard(board)
            ? ApiProblems.Forbidden("You have no write access to this agent's board.", AgentCodes.BoardAccessDenied)
            : null;

    /// <summary>An agent acts only on its own board.</summary>
    public static IResult? RefuseOtherBoard(McPrincipal principal, Guid boardId) =>
        principal.Kind != PrincipalKind.Agent ? ApiProblems.Forbidden("This route is for agents.")
        : principal.AgentBoardId != boardId ? ApiProblems.Forbidden("Agents may only act on their own board.", AgentCodes.AgentBoardMismatch)
        : null;

    public static IResult LeadOnly() => ApiProblems.Forbidden("Only board leads can perform this action.", AgentCodes.LeadOnly);
}
