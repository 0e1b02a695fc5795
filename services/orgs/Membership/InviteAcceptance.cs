using Microsoft.EntityFrameworkCore;
using MissionControl.InternalAuth;
using MissionControl.Orgs.Data;
using MissionControl.Orgs.Domain;

namespace MissionControl.Orgs.Membership;

public static class InviteAcceptance
{
    /// <summary>
    /// Accepts <paramref name="invite"/> (loaded untracked, with its board access) for the user: a new
    /// membership, or the invite's grants merged into the existing one (role only upgraded, access OR-ed).
    /// Null when someone else accepted it first. Call inside a transaction; the caller saves.
    /// </summary>
    public static async Task<OrganizationMember?> ApplyAsync(OrgsDbContext db, OrganizationInvite invite, Guid userId, DateTime now, CancellationToken ct)
    {
        // Claim the invite: of two concurrent acceptances only one changes the row.
        var claimed = await db.Invites.Where(i => i.Id == invite.Id && i.AcceptedAt == null).ExecuteUpdateAsync(s => s
            .SetProperty(i => i.AcceptedAt, now).SetProperty(i => i.AcceptedByUserId, userId).SetProperty(i => i.UpdatedAt, now), ct);
        if (claimed == 0) return null;

        var invited = BoardAccessRows.GrantsOf(invite.BoardAccess);
        var member = await db.Members.Include(m => m.BoardAccess)
            .FirstOrDefaultAsync(m => m.OrganizationId == invite.OrganizationId && m.UserId == userId, ct);
        string change;
        if (member is null)
        {
            member = new OrganizationMember
            {
                Id = Guid.CreateVersion7(), OrganizationId = invite.OrganizationId, UserId = userId, Role = invite.Role,
                AllBoardsRead = invite.AllBoardsRead, AllBoardsWrite = invite.AllBoardsWrite, CreatedAt = now, UpdatedAt = now,
            };
            db.Members.Add(member);
            BoardAccessRows.Replace(db, member, invited, now);
            change = MemberChanges.Added;
        }
        else
        {
            var role = MemberRules.MergeRole(member.Role, invite.Role);
            change = role != member.Role ? MemberChanges.Role : MemberChanges.Access;
            member.Role = role;
            member.AllBoardsRead |= invite.AllBoardsRead;
            member.AllBoardsWrite |= invite.AllBoardsWrite;
            member.UpdatedAt = now;
            BoardAccessRows.Replace(db, member, MemberRules.MergeBoardAccess(BoardAccessRows.GrantsOf(member.BoardAccess), invited), now);
        }
        MemberChanges.Queue(db, invite.OrganizationId, userId, change, now);
        return member;
    }

    /// <summary>The pending invite a token names (board access included), or null.</summary>
    public static Task<OrganizationInvite?> FindByTokenAsync(OrgsDbContext db, string token, CancellationToken ct)
    {
        var hash = Secrets.Hash(token);
        return db.Invites.AsNoTracking().Include(i => i.BoardAccess).FirstOrDefaultAsync(i => i.TokenHash == hash, ct);
    }
}
