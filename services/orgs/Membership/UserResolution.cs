using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Orgs;
using MissionControl.InternalAuth;
using MissionControl.Messaging;
using MissionControl.Orgs.Data;

namespace MissionControl.Orgs.Membership;

/// <summary>
/// A user as the edge's principal: the active membership (else the oldest), and on the user's first
/// call with no membership at all, the oldest pending invite for its email accepted, else a
/// "Personal" organization it owns. Indexed lookups only: this runs on every edge cache miss.
/// </summary>
public static class UserResolution
{
    public const string PersonalOrganizationName = "Personal";

    public static async Task<ResolvedUser> AnswerAsync(OrgsDbContext db, Guid userId, DateTime now, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            var user = await db.Users.AsNoTracking().FirstAsync(u => u.Id == userId, ct);
            var active = user.ActiveOrganizationId;
            var member = await db.Members.AsNoTracking().Include(m => m.BoardAccess)
                .Where(m => m.UserId == userId)
                .OrderBy(m => m.OrganizationId == active ? 0 : 1).ThenBy(m => m.CreatedAt)
                .FirstOrDefaultAsync(ct);
            if (member is not null || attempt > 0) return Answer(user, member);
            // Either this call makes the first membership, or a concurrent one did: read again.
            await CreateFirstMembershipAsync(db, user, now, ct);
        }
    }

    private static ResolvedUser Answer(User user, OrganizationMember? member) => member is null
        ? new ResolvedUser(user.Id, null, null, false, false, [], user.DisplayName, user.IsInstanceAdmin)
        : new ResolvedUser(user.Id, member.OrganizationId, member.Role, member.AllBoardsRead, member.AllBoardsWrite,
            BoardAccessRows.GrantsOf(member.BoardAccess), user.DisplayName, user.IsInstanceAdmin);

    private static async Task CreateFirstMembershipAsync(OrgsDbContext db, User user, DateTime now, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var invite = user.NormalizedEmail is not { } email ? null : await db.Invites.AsNoTracking().Include(i => i.BoardAccess)
            .Where(i => i.InvitedEmail == email && i.AcceptedAt == null && i.ExpiresAt > now)
            .OrderBy(i => i.CreatedAt).FirstOrDefaultAsync(ct);
        var orgId = invite?.OrganizationId ?? Guid.CreateVersion7();

        // Claim the first membership: of two concurrent first calls only one moves the active
        // organization away from the value both read (the other waits for the row and changes nothing).
        var observed = user.ActiveOrganizationId;
        var claimed = await db.Users.Where(u => u.Id == user.Id && u.ActiveOrganizationId == observed)
            .ExecuteUpdateAsync(s => s.SetProperty(u => u.ActiveOrganizationId, orgId).SetProperty(u => u.UpdatedAt, now), ct);
        if (claimed == 0) return;

        if (invite is not null)
        {
            if (await InviteAcceptance.ApplyAsync(db, invite, user.Id, now, ct) is null) return;
        }
        else
        {
            AddPersonalOrganization(db, orgId, user.Id, now);
        }
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
    }

    private static void AddPersonalOrganization(OrgsDbContext db, Guid orgId, Guid userId, DateTime now)
    {
        db.Organizations.Add(new Organization
        {
            Id = orgId, Name = PersonalOrganizationName, NormalizedName = PersonalOrganizationName.ToLowerInvariant(), IsPersonal = true,
            CreatedAt = now, UpdatedAt = now,
        });
        db.Members.Add(OrganizationSetup.Owner(orgId, userId, now));
        db.AddIntegrationEvent(new OrganizationCreated { OrganizationId = orgId, Name = PersonalOrganizationName, CreatedByUserId = userId, OccurredAt = now });
        MemberChanges.Queue(db, orgId, userId, MemberChanges.Added, now);
    }
}

public static class OrganizationSetup
{
    /// <summary>The creator of an organization: owner, with read and write on every board.</summary>
    public static OrganizationMember Owner(Guid orgId, Guid userId, DateTime now) => new()
    {
        Id = Guid.CreateVersion7(), OrganizationId = orgId, UserId = userId, Role = Roles.Owner,
        AllBoardsRead = true, AllBoardsWrite = true, CreatedAt = now, UpdatedAt = now,
    };
}
