using System.Text.Json;
using MissionControl.Contracts.Tasks;
using MissionControl.InternalAuth;
using MissionControl.Messaging;
using MissionControl.Tasks.Apis;
using MissionControl.Tasks.Data;
using MissionControl.Tasks.Domain;

namespace MissionControl.Tasks.Operations;

public sealed record CreateTaskRequest(
    string? Title, string? Description, string? Status, string? Priority, DateTimeOffset? DueAt, Guid? AssignedAgentId,
    List<Guid>? DependsOnTaskIds, List<Guid>? TagIds, Dictionary<string, JsonElement>? CustomFieldValues);

/// <summary>
/// A new task by a user or the board lead. Only what the request names is looked up (dependencies,
/// tags, assignee); the board's agents and custom fields come from the cache, and the task goes out
/// through the group commit (TaskWriter), so a plain create costs the database one shared batch.
/// </summary>
public sealed class TaskCreation(TaskWriter writer, CopyCache copies, TaskLookups lookups, TimeProvider time)
{
    /// <param name="shape">Sets what a dialect stores beyond /api/v1's fields (seed 002's kind, requires_approval, target agent).</param>
    public async Task<IResult> CreateAsync(BoardCopy board, McPrincipal principal, TaskActor actor, CreateTaskRequest body, CancellationToken ct,
        Action<TaskItem>? shape = null)
    {
        var errors = new Dictionary<string, string[]>();
        var status = body.Status ?? TaskStatuses.Inbox;
        var priority = body.Priority ?? TaskPriorities.Medium;
        TaskInput.CheckTitle(body.Title, errors);
        TaskInput.CheckStatus(status, errors);
        TaskInput.CheckPriority(priority, errors);
        TaskInput.CheckDescription(body.Description, errors);
        if (errors.Count > 0) return ApiProblems.Validation(errors);

        var id = Ids.NewVersion7();
        var dependencies = new DependencySet([], []);
        if (body.DependsOnTaskIds is { Count: > 0 } requested)
        {
            var (set, error) = await lookups.DependenciesAsync(board.Id, id, requested, ct);
            if (error is not null) return error;
            dependencies = set!;
        }
        IReadOnlyList<TagRef> tags = [];
        if (body.TagIds is { Count: > 0 } tagIds)
        {
            var (found, error) = await lookups.TagsAsync(board.OrganizationId, tagIds, ct);
            if (error is not null) return error;
            tags = found!;
        }
        var definitions = await copies.FieldDefinitionsAsync(board, ct);
        var values = body.CustomFieldValues ?? [];
        if (TaskLookups.FieldErrors(CustomFieldRules.Validate(values, new Dictionary<string, JsonElement>(), definitions)) is { } fieldErrors)
            return fieldErrors;
        if (body.AssignedAgentId is { } assigneeId
            && TaskRules.CheckAssignee(actor, board.Id, await lookups.AgentAsync(board, assigneeId, ct)) is { } badAssignee)
            return Problems.From(badAssignee);
        if (TaskRules.CheckNewTask(status, body.AssignedAgentId, dependencies.BlockedBy) is { } blocked) return Problems.From(blocked);

        var now = time.GetUtcNow().UtcDateTime;
        var byKey = definitions.ToDictionary(d => d.Key);
        var stored = values.Where(v => v.Value.ValueKind != JsonValueKind.Null).ToDictionary(v => byKey[v.Key].Id, v => v.Value.Clone());
        var task = new TaskItem
        {
            Id = id, OrganizationId = board.OrganizationId, BoardId = board.Id, Title = body.Title!.Trim(), Description = body.Description,
            Status = status, Priority = priority, DueAt = body.DueAt?.UtcDateTime, InProgressAt = status == TaskStatuses.InProgress ? now : null,
            AssignedAgentId = body.AssignedAgentId, CreatedByUserId = principal.UserId,
            AutoCreated = actor.Role == ActorRole.Lead, AutoReason = actor.Role == ActorRole.Lead ? $"lead_agent:{actor.AgentId}" : null,
            HasDependencies = dependencies.DependsOn.Count > 0, HasTags = tags.Count > 0, HasCustomFieldValues = stored.Count > 0,
            CreatedAt = now, UpdatedAt = now,
        };
        shape?.Invoke(task);
        var snapshot = TaskReads.ToSnapshot(task, new TaskExtras(dependencies.DependsOn, dependencies.BlockedBy, tags, stored), definitions);
        var created = new TaskCreated
        {
            OrganizationId = board.OrganizationId, BoardId = board.Id, Task = snapshot, OccurredAt = now,
            Activity = Events.Activity("task.created", $"Task created: {task.Title}.", principal, task.Id, now),
        };
        var agents = await copies.AgentsOfBoardAsync(board.Id, ct);
        var lead = agents.FirstOrDefault(a => a.IsBoardLead);
        var assignee = agents.FirstOrDefault(a => a.Id == task.AssignedAgentId && a.Id != actor.AgentId);

        await writer.AddAsync(task, db =>
        {
            db.TaskDependencies.AddRange(dependencies.DependsOn.Select((dep, i) =>
                new TaskDependency { TaskId = id, DependsOnTaskId = dep, BoardId = board.Id, CreatedAt = now.AddTicks(i) }));
            db.TaskTags.AddRange(tags.Select(t => new TaskTag { TaskId = id, TagId = t.Id, CreatedAt = now }));
            db.TaskCustomFieldValues.AddRange(stored.Select(v => new TaskCustomFieldValue { TaskId = id, DefinitionId = v.Key, Value = v.Value.GetRawText() }));
            db.AddIntegrationEvent(created);
            if (tags.Count > 0) Events.TagsChanged(db, board, id, tags.Select(t => t.Id), now, now);
            var notice = Events.Notice(task);
            if (actor.Role == ActorRole.User && lead is not null && lead.Id != assignee?.Id)
                Events.NotifyAgent(db, board, lead.Id, Notices.LeadNotified, Notices.NewTask(board.Name, notice), id, now);
            if (assignee is not null)
                Events.NotifyAgent(db, board, assignee.Id, Notices.AssigneeNotified, Notices.Assigned(board.Name, notice, assignee.IsBoardLead), id, now);
        });
        return Results.Created($"/api/v1/boards/{board.Id}/tasks/{task.Id}", snapshot);
    }
}
