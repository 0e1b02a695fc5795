namespace MissionControl.InternalAuth;

// How the edge turns a credential into a principal. It calls the owning service as the "edge"
// service principal; each answer is cached at the edge and dropped by events (MemberChanged,
// CredentialRevoked, AgentUpdated/AgentDeleted), so a revocation takes effect within milliseconds.

/// <summary>
/// POST /internal/v1/principals/resolve on orgs: a user identity the edge authenticated itself (the
/// local admin token, an OIDC JWT). orgs upserts the user (first use creates it, and its personal
/// organization) and answers with the active membership.
/// ExternalId: "local-admin" for the admin token, "oidc:&lt;issuer&gt;|&lt;sub&gt;" for OIDC.
/// </summary>
public sealed record ResolvePrincipalRequest(string ExternalId, string? Email, string? Name);

/// <summary>
/// POST /internal/v1/principals/resolve-api-key on orgs: an API key as presented. 404 when no live key
/// matches (unknown, deleted, expired); the edge answers the caller 401.
/// </summary>
public sealed record ResolveApiKeyRequest(string Key);

/// <summary>The answer of both user resolutions.</summary>
public sealed record ResolvedUser(
    Guid UserId, Guid? OrganizationId, string? Role, bool AllBoardsRead, bool AllBoardsWrite, IReadOnlyList<BoardGrant> Boards,
    string? Name = null, bool IsInstanceAdmin = false)
{
    public McPrincipal ToPrincipal() => new()
    {
        Kind = PrincipalKind.User, Subject = UserId.ToString(), OrganizationId = OrganizationId, Role = Role,
        AllBoardsRead = AllBoardsRead, AllBoardsWrite = AllBoardsWrite, Boards = Boards, Name = Name, IsInstanceAdmin = IsInstanceAdmin,
    };
}

/// <summary>
/// POST /internal/v1/agents/resolve-token on agents: an agent token as presented (X-Agent-Token or
/// Bearer). 404 when no agent has it.
/// </summary>
public sealed record ResolveAgentTokenRequest(string Token);

public sealed record ResolvedAgent(
    Guid AgentId, Guid OrganizationId, Guid? BoardId, Guid? GatewayId, string Name, bool IsBoardLead, bool IsGatewayMain)
{
    public McPrincipal ToPrincipal() => new()
    {
        Kind = PrincipalKind.Agent, Subject = AgentId.ToString(), OrganizationId = OrganizationId,
        Role = IsGatewayMain ? AgentRoles.Main : IsBoardLead ? AgentRoles.Lead : AgentRoles.Worker,
        AgentBoardId = BoardId, Name = Name,
    };
}
