namespace MissionControl.Tasks.Domain;

public static class TaskStatuses
{
    public const string Inbox = "inbox";
    public const string InProgress = "in_progress";
    public const string Review = "review";
    public const string Done = "done";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
    public static readonly string[] All = [Inbox, InProgress, Review, Done, Failed, Cancelled];

    /// <summary>Group snapshot order: work in flight first.</summary>
    public static int Rank(string status) => status switch
    {
        InProgress => 0, Review => 1, Inbox => 2, Done => 3, Failed => 4, _ => 5,
    };
}

public static class TaskPriorities
{
    public const string Low = "low";
    public const string Medium = "medium";
    public const string High = "high";
    public const string Critical = "critical";
    public static readonly string[] All = [Low, Medium, High, Critical];
}

public static class ApprovalStatuses
{
    public const string Pending = "pending";
    public const string Approved = "approved";
    public const string Rejected = "rejected";
    public static readonly string[] All = [Pending, Approved, Rejected];
}
