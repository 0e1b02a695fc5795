using MissionControl.InternalAuth;
using MissionControl.Orgs.Data;

namespace MissionControl.Orgs.Membership;

public static class BoardAccessRows
{
    /// <summary>Makes the member's per-board rows exactly <paramref name="grants"/> (rows left out are deleted).</summary>
    public static void Replace(OrganizationMember member, IReadOnlyCollection<BoardGrant> grants, DateTime now)
    {
        member.BoardAccess.RemoveAll(a => grants.All(g => g.BoardId != a.BoardId));
        foreach (var grant in grants)
        {
            var row = member.BoardAccess.FirstOrDefault(a => a.BoardId == grant.BoardId);
            if (row is null)
            {
                member.BoardAccess.Add(new BoardAccess
                {
                    Id = Guid.CreateVersion7(), OrganizationMemberId = member.Id, BoardId = grant.BoardId,
                    CanRead = grant.CanRead, CanWrite = grant.CanWrite, CreatedAt = now, UpdatedAt = now,
                });
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
