using MissionControl.InternalAuth;

namespace MissionControl.Orgs.Domain;

/// <summary>Roles, who may change them, and how an invite's grants merge into an existing membership.</summary>
public static class MemberRules
{
    public static readonly string[] AllRoles = [Roles.Owner, Roles.Admin, Roles.Member];

    public const string LastOwnerCode = "last_owner";

    public static bool IsAdminRole(string? role) => role is Roles.Owner or Roles.Admin;

    /// <summary>owner 2, admin 1, member 0.</summary>
    public static int Rank(string role) => role switch { Roles.Owner => 2, Roles.Admin => 1, _ => 0 };

    /// <summary>Lower-cased role; absent or blank is member; anything else unknown is null (invalid).</summary>
    public static string? NormalizeRole(string? role)
    {
        var r = string.IsNullOrWhiteSpace(role) ? Roles.Member : role.Trim().ToLowerInvariant();
        return AllRoles.Contains(r) ? r : null;
    }

    /// <summary>
    /// An admin changes a member's role. Only an owner grants or takes away the owner role, and the last
    /// owner is never demoted (the organization would have nobody able to delete it or name owners).
    /// </summary>
    public static RuleViolation? CheckRoleChange(string? callerRole, string currentRole, string newRole, int ownerCount)
    {
        if (!IsAdminRole(callerRole)) return RuleViolation.Forbidden("Changing roles needs the owner or admin role.");
        if (currentRole == newRole) return null;
        if ((currentRole == Roles.Owner || newRole == Roles.Owner) && callerRole != Roles.Owner)
            return RuleViolation.Forbidden("Only an owner may grant or remove the owner role.");
        if (currentRole == Roles.Owner && ownerCount <= 1)
            return RuleViolation.Unprocessable("The organization's last owner cannot be demoted: make someone else owner first.", LastOwnerCode);
        return null;
    }

    /// <summary>An admin removes a member: never themselves, an owner only by an owner, never the last owner.</summary>
    public static RuleViolation? CheckRemoval(string? callerRole, bool isSelf, string targetRole, int ownerCount)
    {
        if (!IsAdminRole(callerRole)) return RuleViolation.Forbidden("Removing members needs the owner or admin role.");
        if (isSelf) return RuleViolation.Forbidden("You cannot remove yourself from the organization.");
        if (targetRole == Roles.Owner && callerRole != Roles.Owner) return RuleViolation.Forbidden("Only an owner may remove an owner.");
        if (targetRole == Roles.Owner && ownerCount <= 1)
            return RuleViolation.Unprocessable("The organization's last owner cannot be removed.", LastOwnerCode);
        return null;
    }

    /// <summary>An admin invites someone: as owner only when the admin is an owner.</summary>
    public static RuleViolation? CheckInviteRole(string? callerRole, string invitedRole)
    {
        if (!IsAdminRole(callerRole)) return RuleViolation.Forbidden("Inviting members needs the owner or admin role.");
        return invitedRole == Roles.Owner && callerRole != Roles.Owner ? RuleViolation.Forbidden("Only an owner may invite an owner.") : null;
    }

    /// <summary>Accepting an invite never lowers a role.</summary>
    public static string MergeRole(string current, string invited) => Rank(invited) > Rank(current) ? invited : current;

    /// <summary>Accepting an invite adds access: per board, and the all-boards flags, are OR-ed.</summary>
    public static IReadOnlyList<BoardGrant> MergeBoardAccess(IEnumerable<BoardGrant> current, IEnumerable<BoardGrant> invited) =>
        current.Concat(invited)
            .GroupBy(g => g.BoardId)
            .Select(g => new BoardGrant(g.Key, g.Any(x => x.CanRead), g.Any(x => x.CanWrite)))
            .ToList();
}
