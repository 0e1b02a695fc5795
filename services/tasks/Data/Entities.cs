namespace MissionControl.Tasks.Data;

public sealed class TaskItem
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public Guid BoardId { get; set; }
    public required string Title { get; set; }
    public string? Description { get; set; }
    public required string Status { get; set; }
    public required string Priority { get; set; }
    public DateTime? DueAt { get; set; }
    public DateTime? InProgressAt { get; set; }
    public Guid? AssignedAgentId { get; set; }
    public Guid? CreatedByUserId { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

/// <summary>
/// How many tasks a board has in each status, kept in the same transaction as the tasks, so a list's
/// total is a handful of rows instead of a scan over every task of the board.
/// </summary>
public sealed class BoardTaskCount
{
    public Guid BoardId { get; set; }
    public required string Status { get; set; }
    public int TaskCount { get; set; }
}

/// <summary>Local read copy of a board owned by orgs, fed by BoardCreated (the rules are enforced here).</summary>
public sealed class BoardCopy
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public required string Name { get; set; }
    public bool RequireApprovalForDone { get; set; } = true;
    public bool RequireReviewBeforeDone { get; set; }
    public bool CommentRequiredForReview { get; set; }
    public bool BlockStatusChangesWithPendingApproval { get; set; }
    public bool OnlyLeadCanChangeStatus { get; set; }
    public int MaxAgents { get; set; } = 1;
    public DateTime UpdatedAt { get; set; }
}

public static class TaskStatuses
{
    public const string Inbox = "inbox";
    public const string InProgress = "in_progress";
    public const string Review = "review";
    public const string Done = "done";
    public static readonly string[] All = [Inbox, InProgress, Review, Done];
}

public static class TaskPriorities
{
    public static readonly string[] All = ["low", "medium", "high"];
}
