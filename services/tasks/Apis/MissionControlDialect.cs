using MissionControl.Tasks.Data;
using MissionControl.Tasks.Domain;
using MissionControl.Tasks.Operations;

namespace MissionControl.Tasks.Apis;

/// <summary>A task as seed 002 shows it (camelCase); result is the agent's report, when there is one.</summary>
public sealed record McTask(
    Guid Id, string Type, string Content, string Status, Guid? DesktopId, bool RequiresApproval, DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt, DateTimeOffset? CompletedAt, string? Result);

public sealed record McTaskRef(Guid Id, string Type, string Content, Guid? DesktopId);

public sealed record McApproval(Guid Id, Guid? TaskId, string Status, DateTimeOffset CreatedAt, DateTimeOffset? ResolvedAt, McTaskRef? Task);

/// <summary>
/// The translation between seed 002 (/api/mission-control) and the tasks: names, statuses, content and the
/// dispatched message. Nothing here decides anything. Tasks made in another dialect show as prompts.
/// </summary>
public static class MissionControlDialect
{
    public const string Prompt = "prompt";
    public const string Command = "command";

    /// <summary>pending = inbox, running = in_progress; review, done, failed, cancelled are ours.</summary>
    public static string StatusOut(string status) => status switch
    {
        TaskStatuses.Inbox => "pending",
        TaskStatuses.InProgress => "running",
        _ => status,
    };

    /// <summary>Seed 002's status onto ours; null when it is not one of seed 002's.</summary>
    public static string? StatusIn(string status) => status switch
    {
        "pending" => TaskStatuses.Inbox,
        "running" => TaskStatuses.InProgress,
        TaskStatuses.Review or TaskStatuses.Done or TaskStatuses.Failed or TaskStatuses.Cancelled => status,
        _ => null,
    };

    /// <summary>content → the title (its first line, cut to the title limit) and the description (all of it).</summary>
    public static (string Title, string Description) TitleAndDescription(string content)
    {
        var text = content.Trim();
        var line = text.Split('\n', 2)[0].Trim();
        return (line.Length > TaskInput.MaxTitle ? line[..(TaskInput.MaxTitle - 1)] + "…" : line, text);
    }

    /// <summary>What the agent's session is sent: a prompt as it is; a command as an explicit instruction to run it.</summary>
    public static string Message(string kind, TaskItem task)
    {
        var content = Content(task);
        return kind == Command ? $"COMMAND — run exactly this in your shell and reply with its output:\n{content}" : content;
    }

    public static string Content(TaskItem t) => string.IsNullOrWhiteSpace(t.Description) ? t.Title : t.Description;

    public static McTask Task(TaskItem t) => new(
        t.Id, t.Kind ?? Prompt, Content(t), StatusOut(t.Status), t.TargetAgentId ?? t.AssignedAgentId, t.RequiresApproval ?? false, Utc(t.CreatedAt),
        // A task in review or finished has stopped its progress clock: its start is then the previous one.
        Utc(t.InProgressAt ?? t.PreviousInProgressAt),
        // There is no completed_at column: a finished task's last change is its completion.
        t.Status is TaskStatuses.Done or TaskStatuses.Failed or TaskStatuses.Cancelled ? Utc(t.UpdatedAt) : null, t.Result);

    public static McApproval Approval(Approval a, TaskItem? t) => new(
        a.Id, a.TaskId, a.Status, Utc(a.CreatedAt), Utc(a.ResolvedAt),
        t is null ? null : new McTaskRef(t.Id, t.Kind ?? Prompt, Content(t), t.TargetAgentId ?? t.AssignedAgentId));

    private static DateTimeOffset Utc(DateTime d) => new(DateTime.SpecifyKind(d, DateTimeKind.Utc));
    private static DateTimeOffset? Utc(DateTime? d) => d is { } v ? Utc(v) : null;
}
