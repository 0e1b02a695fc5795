using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Orgs;
using MissionControl.Messaging;
using MissionControl.Orgs.Data;

namespace MissionControl.Orgs.Membership;

/// <summary>Deletes that reach across tables. Call inside a transaction; the caller saves (the events).</summary>
public static class Removals
{
    /// <summary>
    /// The organization and everything it owns here; its members' active organization moves to their
    /// oldest remaining membership. Other services drop their rows on OrganizationDeleted.
    /// </summary>
    public static async Task DeleteOrganizationAsync(OrgsDbContext db, Guid orgId, DateTime now, CancellationToken ct)
    {
        var userIds = await db.Members.Where(m => m.OrganizationId == orgId).Select(m => m.UserId).ToListAsync(ct);
        await db.BoardAccess.Where(a => db.Members.Any(m => m.Id == a.OrganizationMemberId && m.OrganizationId == orgId)).ExecuteDeleteAsync(ct);
        await db.Members.Where(m => m.OrganizationId == orgId).ExecuteDeleteAsync(ct);
        await db.InviteBoardAccess.Where(a => db.Invites.Any(i => i.Id == a.OrganizationInviteId && i.OrganizationId == orgId)).ExecuteDeleteAsync(ct);
        await db.Invites.Where(i => i.OrganizationId == orgId).ExecuteDeleteAsync(ct);
        await db.BoardCustomFields.Where(b => db.CustomFields.Any(d => d.Id == b.CustomFieldDefinitionId && d.OrganizationId == orgId)).ExecuteDeleteAsync(ct);
        await db.CustomFields.Where(d => d.OrganizationId == orgId).ExecuteDeleteAsync(ct);
        await db.TaskTags.Where(t => t.OrganizationId == orgId).ExecuteDeleteAsync(ct);
        await db.Tags.Where(t => t.OrganizationId == orgId).ExecuteDeleteAsync(ct);
        await db.Boards.Where(b => b.OrganizationId == orgId).ExecuteDeleteAsync(ct);
        await db.BoardGroups.Where(g => g.OrganizationId == orgId).ExecuteDeleteAsync(ct);
        await db.Organizations.Where(o => o.Id == orgId).ExecuteDeleteAsync(ct);
        await RepairActiveOrganizationsAsync(db, userIds, ct);

        db.AddIntegrationEvent(new OrganizationDeleted { OrganizationId = orgId, OccurredAt = now });
        foreach (var userId in userIds) MemberChanges.Queue(db, orgId, userId, MemberChanges.Removed, now);
    }

    /// <summary>One membership (and its board access); the user's active organization is repaired.</summary>
    public static async Task DeleteMembershipAsync(OrgsDbContext db, OrganizationMember member, DateTime now, CancellationToken ct)
    {
        await db.BoardAccess.Where(a => a.OrganizationMemberId == member.Id).ExecuteDeleteAsync(ct);
        await db.Members.Where(m => m.Id == member.Id).ExecuteDeleteAsync(ct);
        await RepairActiveOrganizationsAsync(db, [member.UserId], ct);
        MemberChanges.Queue(db, member.OrganizationId, member.UserId, MemberChanges.Removed, now);
    }

    /// <summary>Users whose active organization they no longer belong to move to their oldest membership (or none).</summary>
    private static Task RepairActiveOrganizationsAsync(OrgsDbContext db, List<Guid> userIds, CancellationToken ct) =>
        db.Users
            .Where(u => userIds.Contains(u.Id) && u.ActiveOrganizationId != null &&
                        !db.Members.Any(m => m.UserId == u.Id && m.OrganizationId == u.ActiveOrganizationId))
            .ExecuteUpdateAsync(s => s.SetProperty(u => u.ActiveOrganizationId, u => db.Members
                .Where(m => m.UserId == u.Id).OrderBy(m => m.CreatedAt).Select(m => (Guid?)m.OrganizationId).FirstOrDefault()), ct);
}
