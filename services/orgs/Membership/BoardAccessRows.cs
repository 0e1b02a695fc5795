using MissionControl.InternalAuth;
using MissionControl.Orgs.Data;

namespace MissionControl.Orgs.Membership;

public static class BoardAccessRows
{
    /// <summary>Makes the member's per-board rows exactly <paramref name="grants"/> (rows left out are deleted).</summary>
    public static void Replace(OrgsDbContext db, OrganizationMember member, IReadOnlyCollection<BoardGrant> grants, DateTime now)
    {
        member.BoardAccess.RemoveAll(a => grants.All(g => g.BoardId != a.BoardId));
        foreach (var grant in grants)
        {
            var row = member.BoardAccess.FirstOrDefault(a => a.BoardId == grant.BoardId);
            if (row is null)
            {
                row = new BoardAccess
                {
                    Id = Guid.CreateVersion7(), OrganizationMemberId = member.Id, BoardId = grant.BoardId,
                    CanRead = grant.CanRead, CanWrite = grant.CanWrite, CreatedAt = now, UpdatedAt = now,
                };
                // Added explicitly: a row found only through the navigation, with its key set, would pass
                // for an existing one. Tracking it also puts it in the member's collection.
                db.BoardAccess.Add(row);
                if (!member.BoardAccess.Contains(row)) member.BoardAccess.Add(row);
            }
            else if (row.CanRead != grant.CanRead || row.CanWrite != grant.CanWrite)
            {
                (row.CanRead, row.CanWrite, row.UpdatedAt) = (grant.CanRead, grant.CanWrite, now);
            }
        }
    }

    public static IReadOnlyList<BoardGrant> GrantsOf(IEnumerable<BoardAccess> rows) =>
        rows.Select(a => new BoardGrant(a.BoardId, a.CanRead, a.CanWrite)).ToList();

    public static IReadOnlyList<BoardGrant> GrantsOf(IEnumerable<InviteBoardAccess> rows) =>
        rows.Select(a => new BoardGrant(a.BoardId, a.CanRead, a.CanWrite)).ToList();
}
