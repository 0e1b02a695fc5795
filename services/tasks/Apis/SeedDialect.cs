using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Tasks;
using MissionControl.Tasks.Data;
using MissionControl.Tasks.Domain;

namespace MissionControl.Tasks.Apis;

/// <summary>A task as the /api dialect shows it (builderz Mission Control's field names, camelCase).</summary>
public sealed record SeedTask(
    Guid Id, string Title, string? Description, string Status, string Priority, Guid? AgentId, string? AssignedTo, Guid BoardId,
    Guid? CreatedBy, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? DueDate, DateTimeOffset? StartedAt, string? Result,
    IReadOnlyList<string> Tags, IReadOnlyList<Guid> DependsOn, IReadOnlyList<Guid> BlockedBy, bool IsBlocked);

public sealed record SeedComment(Guid Id, Guid TaskId, string Content, string? Author, Guid? AgentId, Guid? UserId, DateTimeOffset CreatedAt);

/// <summary>
/// The translation between the seed 000/001 dialect (builderz Mission Control's /api) and /api/v1: field
/// names, statuses, priorities and the camelCase wire format. Nothing here decides anything.
/// </summary>
public static class SeedDialect
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonDefaults.UtcDateTimeOffsetConverter() },
    };

    /// <summary>
    /// builderz statuses onto ours. Ours (inbox, in_progress, review, done, failed, cancelled) pass as they are;
    /// backlog and awaiting_owner are work not started (inbox); assigned is our inbox with an assignee (the
    /// assignee is agentId, so a list filter status=assigned means inbox and assigned); quality_review is our
    /// review. Anything else passes through and is refused with the list of our statuses.
    /// </summary>
    public static string? StatusIn(string? status) => status switch
    {
        "backlog" or "assigned" or "awaiting_owner" => TaskStatuses.Inbox,
        "quality_review" => TaskStatuses.Review,
        _ => status,
    };

    /// <summary>Priorities are builderz's already: low, medium, high, critical.</summary>
    public static readonly string[] Priorities = TaskPriorities.All;

    public static SeedTask Task(TaskSnapshot t, IReadOnlyDictionary<Guid, string> agentNames) => new(
        t.Id, t.Title, t.Description, t.Status, t.Priority, t.AssignedAgentId,
        t.AssignedAgentId is { } a && agentNames.TryGetValue(a, out var name) ? name : null, t.BoardId, t.CreatedByUserId, t.CreatedAt,
        t.UpdatedAt, t.DueAt, t.InProgressAt, t.Result, t.Tags.Select(tag => tag.Name).ToList(), t.DependsOnTaskIds, t.BlockedByTaskIds, t.IsBlocked);

    public static SeedComment Comment(TaskCommentState c) => new(c.Id, c.TaskId, c.Message, c.AuthorName, c.AgentId, c.UserId, c.CreatedAt);

    /// <summary>The names of the assignees (builderz's assigned_to is the agent's name).</summary>
    public static async Task<IReadOnlyDictionary<Guid, string>> AgentNamesAsync(TasksDbContext db, IEnumerable<TaskSnapshot> tasks, CancellationToken ct)
    {
        var ids = tasks.Where(t => t.AssignedAgentId is not null).Select(t => t.AssignedAgentId!.Value).Distinct().ToList();
        return ids.Count == 0 ? new Dictionary<Guid, string>()
            : await db.Agents.AsNoTracking().Where(a => ids.Contains(a.Id)).ToDictionaryAsync(a => a.Id, a => a.Name, ct);
    }

    public static async Task<SeedTask> TaskAsync(TasksDbContext db, TaskSnapshot task, CancellationToken ct) =>
        Task(task, await AgentNamesAsync(db, [task], ct));

    public static IResult Ok(object body, int status = StatusCodes.Status200OK) => Results.Json(body, Json, statusCode: status);

    /// <summary>What a dispatched agent's session is sent: the task, and how to report back.</summary>
    public static string Prompt(TaskItem task)
    {
        var description = string.IsNullOrWhiteSpace(task.Description) ? "" : "\n\n" + task.Description.Trim();
        return $$"""
            Mission Control task ({{task.Priority}} priority): {{task.Title}}{{description}}

            Report back with your agent token: PATCH /api/tasks/{{task.Id}} with {"status":"in_progress"} when you start, then {"status":"done","result":"<what you did>"} (or {"status":"failed","result":"<why>"}).
            """;
    }
}
