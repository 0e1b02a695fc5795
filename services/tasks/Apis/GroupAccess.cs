using Microsoft.EntityFrameworkCore;
using MissionControl.InternalAuth;
using MissionControl.Tasks.Data;

namespace MissionControl.Tasks.Apis;

/// <summary>
/// Access to a board group, derived from its boards (the board copies' group ids): a user reads a group
/// when any of its boards is readable (an empty group: org admins), writes when any is writable; an
/// agent uses the group its board is in. A group made a moment ago, whose event has not arrived, is asked of orgs.
/// </summary>
public sealed class GroupAccess(TasksDbContext db, BoardCopies copies)
{
    public async Task<(BoardGroupCopy? Group, IReadOnlyList<BoardCopy> Boards, IResult? Error)> CheckAsync(
        HttpContext http, Guid groupId, BoardAccessLevel level, CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        var group = await copies.FindGroupAsync(groupId, http.Request.GetBearerToken(), ct);
        if (group is null || group.OrganizationId != principal.OrganizationId) return (null, [], ApiProblems.NotFound("Board group not found."));
        var boards = await db.Boards.AsNoTracking().Where(b => b.BoardGroupId == groupId && b.OrganizationId == group.OrganizationId)
            .OrderBy(b => b.Name).ToListAsync(ct);
        var allowed = principal.Kind switch
        {
            PrincipalKind.User when boards.Count == 0 => principal.IsOrgAdmin,
            PrincipalKind.User => boards.Any(b => level == BoardAccessLevel.Read ? principal.CanReadBoard(b.Id) : principal.CanWriteBoard(b.Id)),
            PrincipalKind.Agent => boards.Any(b => b.Id == principal.AgentBoardId) || (principal.Role == AgentRoles.Main && level == BoardAccessLevel.Read),
            _ => false,
        };
        return allowed ? (group, boards, null) : (group, boards, ApiProblems.Forbidden("You have no access to this board group.", "board_group_access_denied"));
    }

    /// <summary>The boards of a group this caller may see: a user's readable boards; an agent sees its whole group.</summary>
    public static IReadOnlyList<BoardCopy> Visible(McPrincipal principal, IReadOnlyList<BoardCopy> boards) =>
        principal.Kind == PrincipalKind.User ? boards.Where(b => principal.CanReadBoard(b.Id)).ToList() : boards;
}
