namespace MissionControl.Orgs.Data;

public sealed class User
{
    public Guid Id { get; set; }
    /// <summary>The identity the edge authenticated ("local-admin", later "oidc:&lt;issuer&gt;|&lt;sub&gt;").</summary>
    public required string ExternalId { get; set; }
    public string? Email { get; set; }
    public string? Name { get; set; }
    public Guid? ActiveOrganizationId { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

public sealed class Organization
{
    public Guid Id { get; set; }
    public required string Name { get; set; }
    /// <summary>Lower-cased name: organization names are unique regardless of case.</summary>
    public required string NormalizedName { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

public sealed class OrganizationMember
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public Guid UserId { get; set; }
    public required string Role { get; set; }
    public bool AllBoardsRead { get; set; }
    public bool AllBoardsWrite { get; set; }
    public List<BoardAccess> BoardAccess { get; set; } = [];
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

public sealed class BoardAccess
{
    public Guid Id { get; set; }
    public Guid OrganizationMemberId { get; set; }
    public Guid BoardId { get; set; }
    public bool CanRead { get; set; }
    public bool CanWrite { get; set; }
}

public sealed class Board
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public required string Name { get; set; }
    public required string Slug { get; set; }
    public string Description { get; set; } = "";
    public Guid? GatewayId { get; set; }
    public Guid? BoardGroupId { get; set; }
    public string BoardType { get; set; } = "goal";
    public string? Objective { get; set; }
    public bool RequireApprovalForDone { get; set; } = true;
    public bool RequireReviewBeforeDone { get; set; }
    public bool CommentRequiredForReview { get; set; }
    public bool BlockStatusChangesWithPendingApproval { get; set; }
    public bool OnlyLeadCanChangeStatus { get; set; }
    public int MaxAgents { get; set; } = 1;
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}
