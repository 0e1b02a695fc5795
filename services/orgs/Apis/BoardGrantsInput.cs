using Microsoft.EntityFrameworkCore;
using MissionControl.InternalAuth;
using MissionControl.Orgs.Data;

namespace MissionControl.Orgs.Apis;

/// <summary>One entry of board_access in a request (can_read defaults to true, can_write to false).</summary>
public sealed record BoardAccessItem(Guid? BoardId, bool? CanRead, bool? CanWrite);

public static class BoardGrantsInput
{
    public const string Field = "board_access";

    /// <summary>The grants, each naming one board of the organization once; field errors otherwise.</summary>
    public static async Task<IReadOnlyList<BoardGrant>> ParseAsync(
        OrgsDbContext db, Guid orgId, IReadOnlyList<BoardAccessItem>? items, Dictionary<string, string[]> errors, CancellationToken ct)
    {
        if (items is null || items.Count == 0) return [];
        if (items.Any(i => i.BoardId is null)) return Fail(errors, "every entry needs a board_id");
        var ids = items.Select(i => i.BoardId!.Value).ToList();
        if (ids.Distinct().Count() != ids.Count) return Fail(errors, "names a board more than once");
        if (await db.Boards.CountAsync(b => ids.Contains(b.Id) && b.OrganizationId == orgId, ct) != ids.Count)
            return Fail(errors, "names boards that are not in the organization");
        return items.Select(i => new BoardGrant(i.BoardId!.Value, i.CanRead ?? true, i.CanWrite ?? false)).ToList();
    }

    private static IReadOnlyList<BoardGrant> Fail(Dictionary<string, string[]> errors, string message)
    {
        errors[Field] = [message];
        return [];
    }
}
