namespace MissionControl.InternalAuth;

/// <summary>
/// The edge asks orgs (POST /internal/v1/principals/resolve, as a service principal) who a
/// user-kind credential is: orgs upserts the user and answers with the active membership.
/// </summary>
public sealed record ResolvePrincipalRequest(string ExternalId, string? Email, string? Name);

public sealed record ResolvedUser(
    Guid UserId, Guid? OrganizationId, string? Role, bool AllBoardsRead, bool AllBoardsWrite, IReadOnlyList<BoardGrant> Boards)
{
    public McPrincipal ToPrincipal() => new()
    {
        Kind = PrincipalKind.User, Subject = UserId.ToString(), OrganizationId = OrganizationId, Role = Role,
        AllBoardsRead = AllBoardsRead, AllBoardsWrite = AllBoardsWrite, Boards = Boards,
    };
}
