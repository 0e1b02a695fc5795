using System.Diagnostics.CodeAnalysis;
using MissionControl.InternalAuth;
using MissionControl.Orgs.Domain;

namespace MissionControl.Orgs.Apis;

/// <summary>The checks at the top of an endpoint: who the caller is and in which organization it acts.</summary>
public static class Access
{
    public const string NoActiveOrganizationCode = "no_active_organization";

    public static IResult UsersOnly() => ApiProblems.Forbidden("Only users may do this (not agents or services).");

    public static IResult NoOrganization() => ApiProblems.Forbidden(
        "You have no active organization: create one with POST /api/v1/organizations or accept an invite.", NoActiveOrganizationCode);

    public static bool TryUser(McPrincipal principal, out Guid userId, [NotNullWhen(false)] out IResult? problem)
    {
        problem = principal.UserId is { } id ? null : UsersOnly();
        userId = principal.UserId ?? Guid.Empty;
        return problem is null;
    }

    /// <summary>A user acting in its active organization.</summary>
    public static bool TryMember(McPrincipal principal, out Guid orgId, [NotNullWhen(false)] out IResult? problem)
    {
        orgId = principal.OrganizationId ?? Guid.Empty;
        problem = principal.Kind != PrincipalKind.User ? UsersOnly()
            : principal.OrganizationId is null ? NoOrganization()
            : null;
        return problem is null;
    }

    /// <summary>An owner or admin of the active organization.</summary>
    public static bool TryAdmin(McPrincipal principal, string action, out Guid orgId, [NotNullWhen(false)] out IResult? problem)
    {
        if (!TryMember(principal, out orgId, out problem)) return false;
        if (MemberRules.IsAdminRole(principal.Role)) return true;
        problem = ApiProblems.Forbidden($"{action} needs the owner or admin role.");
        return false;
    }

    public static bool TryInstanceAdmin(McPrincipal principal, [NotNullWhen(false)] out IResult? problem)
    {
        problem = principal.Kind == PrincipalKind.User && principal.IsInstanceAdmin
            ? null
            : ApiProblems.Forbidden("Only the instance admin may do this.");
        return problem is null;
    }

    /// <summary>A gateway-main agent: no board of its own, it reads every board of its organization.</summary>
    public static bool IsGatewayMain(McPrincipal principal) =>
        principal.Kind == PrincipalKind.Agent && principal.Role == AgentRoles.Main && principal.AgentBoardId is null;

    /// <summary>Read access to a board of the principal's organization (the caller has checked the organization).</summary>
    public static bool CanReadBoard(McPrincipal principal, Guid boardId) => principal.CanReadBoard(boardId) || IsGatewayMain(principal);

    /// <summary>Every board id the principal may read (for list filters); null when it may read them all.</summary>
    public static List<Guid>? ReadableBoardIds(McPrincipal principal) =>
        principal.AllBoardsRead || principal.AllBoardsWrite
            ? null
            : principal.Boards.Where(g => g.CanRead || g.CanWrite).Select(g => g.BoardId).ToList();
}

/// <summary>The answer of deletes: {"ok": true}.</summary>
public sealed record OkRead(bool Ok)
{
    public static IResult Result() => Results.Ok(new OkRead(true));
}
