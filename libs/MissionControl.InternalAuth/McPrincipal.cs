namespace MissionControl.InternalAuth;

public enum PrincipalKind
{
    User,
    Agent,
    /// <summary>A Mission Control service calling another (e.g. the edge resolving a user's memberships).</summary>
    Service,
    /// <summary>No credential: only the public routes the edge lets through (inbound board webhooks).</summary>
    Anonymous,
}

public sealed record BoardGrant(Guid BoardId, bool CanRead, bool CanWrite);

/// <summary>
/// Who is calling, as resolved by the edge. Services authorize against this and their own data only;
/// new ways to authenticate (API keys, OIDC, agent tokens) only add ways for the edge to build one.
/// </summary>
public sealed record McPrincipal
{
    public required PrincipalKind Kind { get; init; }

    /// <summary>User id, agent id, or service name.</summary>
    public required string Subject { get; init; }

    /// <summary>The active organization; null for a user who belongs to none yet, and for services.</summary>
    public Guid? OrganizationId { get; init; }

    /// <summary>owner | admin | member for users; lead | worker | main for agents; null for services.</summary>
    public string? Role { get; init; }

    /// <summary>The user's or agent's display name (chat sources, comment authors).</summary>
    public string? Name { get; init; }

    /// <summary>The instance admin (the local admin token): may create users; owner of every organization it creates.</summary>
    public bool IsInstanceAdmin { get; init; }

    public bool AllBoardsRead { get; init; }
    public bool AllBoardsWrite { get; init; }
    public IReadOnlyList<BoardGrant> Boards { get; init; } = [];

    /// <summary>For agents: the one board they are confined to.</summary>
    public Guid? AgentBoardId { get; init; }

    public Guid? UserId => Kind == PrincipalKind.User && Guid.TryParse(Subject, out var id) ? id : null;

    public Guid? AgentId => Kind == PrincipalKind.Agent && Guid.TryParse(Subject, out var id) ? id : null;

    public bool IsBoardLead => Kind == PrincipalKind.Agent && Role == AgentRoles.Lead;

    public bool IsOrgAdmin => Kind == PrincipalKind.User && Role is Roles.Owner or Roles.Admin;

    public bool CanReadBoard(Guid boardId) => Kind switch
    {
        PrincipalKind.User => AllBoardsRead || AllBoardsWrite || Boards.Any(b => b.BoardId == boardId && (b.CanRead || b.CanWrite)),
        PrincipalKind.Agent => AgentBoardId == boardId,
        _ => false,
    };

    public bool CanWriteBoard(Guid boardId) => Kind switch
    {
        PrincipalKind.User => AllBoardsWrite || Boards.Any(b => b.BoardId == boardId && b.CanWrite),
        PrincipalKind.Agent => AgentBoardId == boardId,
        _ => false,
    };
}

public static class Roles
{
    public const string Owner = "owner";
    public const string Admin = "admin";
    public const string Member = "member";
}

public static class AgentRoles
{
    public const string Lead = "lead";
    public const string Worker = "worker";
    /// <summary>The gateway-main agent: no board of its own.</summary>
    public const string Main = "main";
}
