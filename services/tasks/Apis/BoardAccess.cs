using MissionControl.InternalAuth;
using MissionControl.Tasks.Data;
using MissionControl.Tasks.Domain;

namespace MissionControl.Tasks.Apis;

public enum BoardAccessLevel
{
    Read,
    Write,
}

/// <summary>
/// Finds the board a request names and checks the caller may use it: another organization's board
/// does not exist (404); a user needs the board grant; an agent only ever acts on its own board
/// (403 task_board_mismatch), a gateway-main agent may read the boards of its organization.
/// </summary>
public sealed class BoardAccess(BoardCopies boards)
{
    public async Task<(BoardCopy? Board, IResult? Error)> CheckAsync(HttpContext http, Guid boardId, BoardAccessLevel level, CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        var board = await boards.FindAsync(boardId, http.Request.GetBearerToken(), ct);
        if (board is null || board.OrganizationId != principal.OrganizationId) return (null, ApiProblems.NotFound("Board not found."));
        return (board, Refuse(principal, boardId, level));
    }

    private static IResult? Refuse(McPrincipal principal, Guid boardId, BoardAccessLevel level) => principal.Kind switch
    {
        PrincipalKind.User when level == BoardAccessLevel.Read && !principal.CanReadBoard(boardId) =>
            ApiProblems.Forbidden("You have no read access to this board.", "board_access_denied"),
        PrincipalKind.User when level == BoardAccessLevel.Write && !principal.CanWriteBoard(boardId) =>
            ApiProblems.Forbidden("You have no write access to this board.", "board_access_denied"),
        PrincipalKind.User => null,
        PrincipalKind.Agent when principal.AgentBoardId == boardId => null,
        PrincipalKind.Agent when principal.Role == AgentRoles.Main && level == BoardAccessLevel.Read => null,
        PrincipalKind.Agent => ApiProblems.Forbidden("Agents may only act on their own board.", TaskRuleCodes.TaskBoardMismatch),
        _ => ApiProblems.Forbidden("This caller cannot use boards."),
    };

    /// <summary>The task-rules actor for a caller: a user, the board lead, or a worker; null for anyone else.</summary>
    public static TaskActor? ActorOf(McPrincipal principal) => principal.Kind switch
    {
        PrincipalKind.User => TaskActor.User,
        PrincipalKind.Agent when principal.AgentId is { } id && principal.IsBoardLead => TaskActor.Lead(id),
        PrincipalKind.Agent when principal.AgentId is { } id && principal.Role != AgentRoles.Main => TaskActor.Worker(id),
        _ => null,
    };
}

public static class Problems
{
    public static IResult From(Refusal refusal) =>
        ApiProblems.Status(refusal.Status, refusal.Message, refusal.Code, refusal.Extensions?.ToDictionary(e => e.Key, e => e.Value));
}
