using System.Text.Json;
using MissionControl.Tasks.Domain;

namespace MissionControl.Tasks.Operations;

/// <summary>A task PATCH: the present fields and their values.</summary>
public sealed record TaskPatch
{
    public static readonly string[] Known =
    [
        "title", "description", "status", "priority", "due_at", "assigned_agent_id", "depends_on_task_ids", "tag_ids",
        "custom_field_values", "comment", "result",
    ];

    public IReadOnlySet<string> Fields { get; init; } = new HashSet<string>();
    public string? Title { get; init; }
    public string? Description { get; init; }
    public string? Status { get; init; }
    public string? Priority { get; init; }
    public DateTimeOffset? DueAt { get; init; }
    public Guid? AssignedAgentId { get; init; }
    public IReadOnlyList<Guid> DependsOnTaskIds { get; init; } = [];
    public IReadOnlyList<Guid> TagIds { get; init; } = [];
    public IReadOnlyDictionary<string, JsonElement> CustomFieldValues { get; init; } = new Dictionary<string, JsonElement>();
    public string? Comment { get; init; }
    public string? Result { get; init; }

    public bool Has(string field) => Fields.Contains(field);

    public TaskChange ToChange() => new() { Fields = Fields, Status = Status, AssignedAgentId = AssignedAgentId, Comment = Comment };
}

/// <summary>Field checks shared by create and update.</summary>
public static class TaskInput
{
    public const int MaxTitle = 500;
    public const int MaxDescription = 20_000;
    public const int MaxComment = 20_000;
    /// <summary>An agent's report: 64 KiB of text.</summary>
    public const int MaxResult = 65_536;

    public static void CheckTitle(string? title, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(title) || title.Trim().Length > MaxTitle) errors["title"] = [$"must be 1 to {MaxTitle} characters"];
    }

    public static void CheckStatus(string? status, Dictionary<string, string[]> errors)
    {
        if (status is null || !TaskStatuses.All.Contains(status)) errors["status"] = [$"must be one of {string.Join(", ", TaskStatuses.All)}"];
    }

    public static void CheckPriority(string? priority, Dictionary<string, string[]> errors)
    {
        if (priority is null || !TaskPriorities.All.Contains(priority)) errors["priority"] = [$"must be one of {string.Join(", ", TaskPriorities.All)}"];
    }

    public static void CheckDescription(string? description, Dictionary<string, string[]> errors)
    {
        if (description is { Length: > MaxDescription }) errors["description"] = [$"must be at most {MaxDescription} characters"];
    }

    public static void CheckResult(string? result, Dictionary<string, string[]> errors)
    {
        if (result is { Length: > MaxResult }) errors["result"] = [$"must be at most {MaxResult} characters"];
    }
}
