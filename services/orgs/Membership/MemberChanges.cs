using MissionControl.Contracts.Orgs;
using MissionControl.Messaging;
using MissionControl.Orgs.Data;

namespace MissionControl.Orgs.Membership;

/// <summary>MemberChanged values; the edge drops the user's cached principal on every one.</summary>
public static class MemberChanges
{
    public const string Added = "added", Removed = "removed", Role = "role", Access = "access",
        ActiveOrganization = "active_organization", UserDeleted = "user_deleted";

    public static void Queue(OrgsDbContext db, Guid orgId, Guid userId, string change, DateTime now) =>
        db.AddIntegrationEvent(new MemberChanged { OrganizationId = orgId, UserId = userId, Change = change, OccurredAt = now });
}
