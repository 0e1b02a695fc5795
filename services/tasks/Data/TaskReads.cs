using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Tasks;
using MissionControl.Tasks.Domain;

namespace MissionControl.Tasks.Data;

/// <summary>What a task read shows beyond the task row: dependencies (and which block it), tags, custom values.</summary>
public sealed record TaskExtras(IReadOnlyList<Guid> DependsOn, IReadOnlyList<Guid> BlockedBy, IReadOnlyList<TagRef> Tags,
    IReadOnlyDictionary<Guid, JsonElement> Values)
{
    public static readonly TaskExtras Empty = new([], [], [], new Dictionary<Guid, JsonElement>());
}

/// <summary>
/// Builds task reads (the /api/v1 TaskRead, which is also the events' TaskSnapshot) for a set of
/// tasks: one query each for dependencies, tags and custom values, and only for the tasks marked as
/// having any.
/// </summary>
public sealed class TaskReads(TasksDbContext db, CopyCache copies)
{
    /// <summary>
    /// The columns a read needs (16 of the row's 24), for queries that only show tasks: each column read
    /// from SQLite is a native call, and a Guid or a time is text to parse. The result is a partial
    /// TaskItem: never to be changed or saved.
    /// </summary>
    public static readonly System.Linq.Expressions.Expression<Func<TaskItem, TaskItem>> ReadColumns = t => new TaskItem
    {
        Id = t.Id, BoardId = t.BoardId, Title = t.Title, Description = t.Description, Status = t.Status, Priority = t.Priority,
        DueAt = t.DueAt, AssignedAgentId = t.AssignedAgentId, CreatedByUserId = t.CreatedByUserId, InProgressAt = t.InProgressAt,
        CreatedAt = t.CreatedAt, UpdatedAt = t.UpdatedAt, Result = t.Result,
        HasDependencies = t.HasDependencies, HasTags = t.HasTags, HasCustomFieldValues = t.HasCustomFieldValues,
    };

    public async Task<IReadOnlyList<TaskSnapshot>> SnapshotsAsync(BoardCopy board, IReadOnlyList<TaskItem> tasks, CancellationToken ct)
    {
        var definitions = await copies.FieldDefinitionsAsync(board, ct);
        var extras = await ExtrasAsync(tasks, ct);
        return tasks.Select(t => ToSnapshot(t, extras[t.Id], definitions)).ToList();
    }

    public async Task<TaskSnapshot> SnapshotAsync(BoardCopy board, TaskItem task, CancellationToken ct) =>
        (await SnapshotsAsync(board, [task], ct))[0];

    public async Task<Dictionary<Guid, TaskExtras>> ExtrasAsync(IReadOnlyList<TaskItem> tasks, CancellationToken ct)
    {
        var withDeps = tasks.Where(t => t.HasDependencies).Select(t => t.Id).ToList();
        var withTags = tasks.Where(t => t.HasTags).Select(t => t.Id).ToList();
        var withValues = tasks.Where(t => t.HasCustomFieldValues).Select(t => t.Id).ToList();

        var deps = withDeps.Count == 0 ? [] : await (
            from d in db.TaskDependencies
            join dep in db.Tasks on d.DependsOnTaskId equals dep.Id
            where withDeps.Contains(d.TaskId)
            orderby d.CreatedAt
            select new { d.TaskId, d.DependsOnTaskId, dep.Status }).ToListAsync(ct);
        var tags = withTags.Count == 0 ? [] : await (
            from a in db.TaskTags
            join tag in db.Tags on a.TagId equals tag.Id
            where withTags.Contains(a.TaskId)
            orderby tag.Name
            select new { a.TaskId, tag.Id, tag.Name, tag.Slug, tag.Color }).ToListAsync(ct);
        var values = withValues.Count == 0 ? [] : await db.TaskCustomFieldValues.AsNoTracking()
            .Where(v => withValues.Contains(v.TaskId)).ToListAsync(ct);

        var depsByTask = deps.ToLookup(d => d.TaskId);
        var tagsByTask = tags.ToLookup(t => t.TaskId);
        var valuesByTask = values.ToLookup(v => v.TaskId);
        var result = new Dictionary<Guid, TaskExtras>(tasks.Count);
        foreach (var task in tasks)
        {
            if (!task.HasDependencies && !task.HasTags && !task.HasCustomFieldValues)
            {
                result[task.Id] = TaskExtras.Empty;
                continue;
            }
            var taskDeps = depsByTask[task.Id].ToList();
            result[task.Id] = new TaskExtras(
                taskDeps.ConvertAll(d => d.DependsOnTaskId),
                taskDeps.Where(d => d.Status != TaskStatuses.Done).Select(d => d.DependsOnTaskId).ToList(),
                tagsByTask[task.Id].Select(t => new TagRef(t.Id, t.Name, t.Slug, t.Color)).ToList(),
                valuesByTask[task.Id].ToDictionary(v => v.DefinitionId, v => Json.Parse(v.Value)));
        }
        return result;
    }

    private static readonly IReadOnlyDictionary<string, JsonElement> NoValues = new Dictionary<string, JsonElement>();

    public static TaskSnapshot ToSnapshot(TaskItem t, TaskExtras extras, IReadOnlyList<FieldDefinition> definitions)
    {
        var blockedBy = t.Status == TaskStatuses.Done ? [] : extras.BlockedBy;
        // Most boards have no custom fields: no per-task dictionaries for them.
        var values = definitions.Count == 0 ? NoValues
            : CustomFieldRules.Effective(definitions.Where(d => extras.Values.ContainsKey(d.Id)).ToDictionary(d => d.Key, d => extras.Values[d.Id]), definitions);
        return new TaskSnapshot
        {
            Id = t.Id, BoardId = t.BoardId, Title = t.Title, Description = t.Description, Status = t.Status, Priority = t.Priority,
            DueAt = t.DueAt, AssignedAgentId = t.AssignedAgentId, CreatedByUserId = t.CreatedByUserId, InProgressAt = t.InProgressAt,
            CreatedAt = t.CreatedAt, UpdatedAt = t.UpdatedAt, DependsOnTaskIds = extras.DependsOn,
            TagIds = extras.Tags.Count == 0 ? [] : extras.Tags.Select(tag => tag.Id).ToList(), Tags = extras.Tags, BlockedByTaskIds = blockedBy,
            IsBlocked = blockedBy.Count > 0, CustomFieldValues = values, Result = t.Result,
        };
    }
}
