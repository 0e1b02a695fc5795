using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Tasks;
using MissionControl.InternalAuth;
using MissionControl.Messaging;
using MissionControl.Tasks.Apis;
using MissionControl.Tasks.Data;
using MissionControl.Tasks.Domain;

namespace MissionControl.Tasks.Operations;

/// <summary>
/// What a caller adds to an update (the /api dialect's dispatch and queue claim), inside the same unit:
/// a check on the locked task (its answer refuses the change), more events written with the change,
/// and whether the new assignee gets the usual TASK ASSIGNED notice (a dispatch sends the task instead).
/// Before runs after Check and is saved before the rules look (seed 002's review resolves the approval the
/// done gate may ask for); AlsoAsync is Also with queries (seed 002's finish raises an approval).
/// </summary>
public sealed record UpdateHooks(Func<TaskItem, IResult?>? Check = null, Action<TaskItem, TaskSnapshot, DateTime>? Also = null, bool NotifyAssignee = true,
    Func<TaskItem, CancellationToken, Task>? Before = null, Func<TaskItem, DateTime, CancellationToken, Task>? AlsoAsync = null);

/// <summary>
/// A task PATCH by a user, a worker or the lead: the rules decide (TaskRules), then the task, its
/// dependencies, tags and values, the status counters, an inline comment, the events and the
/// notifications are written in one transaction, with the dependency cascade when done toggles.
/// </summary>
public sealed class TaskUpdates(
    TasksDbContext db, DatabaseWriteGate gate, CopyCache copies, TaskReads reads, TaskLookups lookups, CommentWriter comments,
    DependencyCascade cascade, TimeProvider time)
{
    public async Task<IResult> UpdateAsync(BoardCopy board, McPrincipal principal, TaskActor actor, Guid taskId, TaskPatch patch, CancellationToken ct,
        UpdateHooks? hooks = null)
    {
        await using var unit = await WriteUnit.BeginAsync(db, gate, ct);
        var task = await unit.LockTaskAsync(board.Id, taskId, ct);
        if (task is null || task.OrganizationId != board.OrganizationId) return ApiProblems.NotFound("Task not found.");
        if (hooks?.Check?.Invoke(task) is { } checkFailed) return checkFailed;
        if (hooks?.Before is { } before)
        {
            await before(task, ct);
            await db.SaveChangesAsync(ct);
        }

        var rules = BoardCopies.RulesOf(board);
        var state = new TaskState
        {
            BoardId = task.BoardId, Status = task.Status, AssignedAgentId = task.AssignedAgentId, ReviewRequestedByAgentId = task.ReviewRequestedByAgentId,
        };
        var change = patch.ToChange();
        if (TaskRules.CheckFields(actor, rules, state, change) is { } refused) return Problems.From(refused);

        var extras = (await reads.ExtrasAsync([task], ct))[task.Id];
        var definitions = await copies.FieldDefinitionsAsync(board, ct);
        var dependencies = new DependencySet(extras.DependsOn, extras.BlockedBy);
        if (patch.Has("depends_on_task_ids"))
        {
            var (set, error) = await lookups.DependenciesAsync(board.Id, task.Id, patch.DependsOnTaskIds, ct);
            if (error is not null) return error;
            dependencies = set!;
        }
        var tags = extras.Tags;
        if (patch.Has("tag_ids"))
        {
            var (found, error) = await lookups.TagsAsync(board.OrganizationId, patch.TagIds, ct);
            if (error is not null) return error;
            tags = found!;
        }
        var storedByKey = definitions.Where(d => extras.Values.ContainsKey(d.Id)).ToDictionary(d => d.Key, d => extras.Values[d.Id]);
        if (patch.Has("custom_field_values")
            && TaskLookups.FieldErrors(CustomFieldRules.Validate(patch.CustomFieldValues, storedByKey, definitions)) is { } fieldErrors)
            return fieldErrors;

        var facts = await FactsAsync(board, task, actor, patch, dependencies, rules, ct);
        var decision = TaskRules.Decide(actor, rules, state, change, facts);
        if (decision.Refusal is { } refusal) return Problems.From(refusal);
        var outcome = decision.Outcome!;

        var now = time.GetUtcNow().UtcDateTime;
        var previousStatus = task.Status;
        var changed = ApplyFields(task, patch, outcome, now);
        if (patch.Has("depends_on_task_ids") && !dependencies.DependsOn.SequenceEqual(extras.DependsOn))
        {
            await ReplaceDependenciesAsync(task, dependencies.DependsOn, now, ct);
            changed.Add("depends_on_task_ids");
        }
        if (patch.Has("tag_ids") && !tags.Select(t => t.Id).Order().SequenceEqual(extras.Tags.Select(t => t.Id).Order()))
        {
            await ReplaceTagsAsync(task, tags, now, ct);
            changed.Add("tag_ids");
        }
        var values = new Dictionary<Guid, JsonElement>(extras.Values);
        if (patch.Has("custom_field_values") && await SetValuesAsync(task, patch.CustomFieldValues, definitions, values, ct))
            changed.Add("custom_field_values");
        if (changed.Count > 0) task.UpdatedAt = now;
        await TaskCounts.MoveAsync(db, board.Id, previousStatus, task.Status, ct);

        if (!string.IsNullOrWhiteSpace(patch.Comment))
            await comments.AddAsync(board, task, principal, patch.Comment, notifyAssignee: false, now, ct);

        var snapshot = TaskReads.ToSnapshot(task, new TaskExtras(dependencies.DependsOn, dependencies.BlockedBy, tags, values), definitions);
        if (changed.Count > 0)
        {
            var statusChanged = previousStatus != task.Status;
            var activity = statusChanged
                ? Events.Activity("task.status_changed", Events.StatusMessage(task.Status, task.Title), principal, task.Id, now)
                : Events.Activity("task.updated", $"Task updated: {task.Title}.", principal, task.Id, now);
            db.AddIntegrationEvent(Events.Updated(board, snapshot, previousStatus, changed, activity, now));
            if (changed.Contains("tag_ids")) Events.TagsChanged(db, board, task.Id, snapshot.TagIds, task.UpdatedAt, now);
        }
        await NotifyAsync(board, task, hooks?.NotifyAssignee == false ? outcome with { NotifyAssignee = null } : outcome, now, ct);
        hooks?.Also?.Invoke(task, snapshot, now);
        if (hooks?.AlsoAsync is { } alsoAsync) await alsoAsync(task, now, ct);

        if (previousStatus != task.Status && (previousStatus == TaskStatuses.Done || task.Status == TaskStatuses.Done))
        {
            await db.SaveChangesAsync(ct);
            var dependents = await cascade.DependentsAsync(task.Id, ct);
            var kind = previousStatus == TaskStatuses.Done ? DependencyChange.Reopened : DependencyChange.Completed;
            await cascade.ApplyAsync(board, dependents, task.Title, kind, principal, now, ct);
        }
        await unit.CommitAsync(ct);
        return Results.Ok(snapshot);
    }

    private async Task<TaskFacts> FactsAsync(BoardCopy board, TaskItem task, TaskActor actor, TaskPatch patch, DependencySet dependencies,
        Contracts.Orgs.BoardRules rules, CancellationToken ct)
    {
        var target = patch.Status ?? task.Status;
        var statusChanges = target != task.Status;

        var approvalStatuses = new List<string>();
        if (statusChanges && (rules.BlockStatusChangesWithPendingApproval || (rules.RequireApprovalForDone && target == TaskStatuses.Done)))
            approvalStatuses = await (
                from link in db.ApprovalTaskLinks
                join approval in db.Approvals on link.ApprovalId equals approval.Id
                where link.TaskId == task.Id
                select approval.Status).Distinct().ToListAsync(ct);

        var recentComment = false;
        if (statusChanges && target == TaskStatuses.Review && rules.CommentRequiredForReview && string.IsNullOrWhiteSpace(patch.Comment))
        {
            // A comment by the assignee (or the acting agent) since the task entered progress.
            var since = task.InProgressAt ?? DateTime.MinValue;
            Guid?[] authors = [task.AssignedAgentId, actor.AgentId];
            recentComment = await db.TaskComments.AnyAsync(
                c => c.TaskId == task.Id && c.AgentId != null && authors.Contains(c.AgentId) && c.CreatedAt >= since, ct);
        }

        var lead = await copies.LeadOfBoardAsync(board.Id, ct);
        return new TaskFacts
        {
            BlockedBy = dependencies.BlockedBy,
            HasPendingApproval = approvalStatuses.Contains(ApprovalStatuses.Pending),
            HasApprovedApproval = approvalStatuses.Contains(ApprovalStatuses.Approved),
            HasRecentAssigneeComment = recentComment,
            RequestedAssignee = patch.AssignedAgentId is { } id ? await lookups.AgentAsync(board, id, ct) : null,
            LeadAgentId = lead?.Id,
        };
    }

    /// <summary>Applies the plain fields and the rules' outcome; returns the names of the fields that changed.</summary>
    private static List<string> ApplyFields(TaskItem task, TaskPatch patch, TaskOutcome outcome, DateTime now)
    {
        var changed = new List<string>();
        void Set<T>(string field, T current, T value, Action<T> assign)
        {
            if (EqualityComparer<T>.Default.Equals(current, value)) return;
            assign(value);
            changed.Add(field);
        }

        if (patch.Has("title")) Set("title", task.Title, patch.Title!.Trim(), v => task.Title = v);
        if (patch.Has("description")) Set("description", task.Description, patch.Description, v => task.Description = v);
        if (patch.Has("priority")) Set("priority", task.Priority, patch.Priority!, v => task.Priority = v);
        if (patch.Has("result")) Set("result", task.Result, patch.Result, v => task.Result = v);
        if (patch.Has("due_at")) Set("due_at", task.DueAt, patch.DueAt?.UtcDateTime, v => task.DueAt = v);
        Set("status", task.Status, outcome.Status, v => task.Status = v);
        Set("assigned_agent_id", task.AssignedAgentId, outcome.AssignedAgentId, v => task.AssignedAgentId = v);
        switch (outcome.InProgress)
        {
            case InProgressChange.Start:
                Set("in_progress_at", task.InProgressAt, now, v => task.InProgressAt = v);
                break;
            case InProgressChange.Stop when task.InProgressAt is not null:
                task.PreviousInProgressAt = task.InProgressAt;
                Set<DateTime?>("in_progress_at", task.InProgressAt, null, v => task.InProgressAt = v);
                break;
        }
        task.ReviewRequestedByAgentId = outcome.ReviewRequestedByAgentId;
        return changed;
    }

    private async Task ReplaceDependenciesAsync(TaskItem task, IReadOnlyList<Guid> dependsOn, DateTime now, CancellationToken ct)
    {
        await db.TaskDependencies.Where(d => d.TaskId == task.Id).ExecuteDeleteAsync(ct);
        db.TaskDependencies.AddRange(dependsOn.Select((id, i) =>
            new TaskDependency { TaskId = task.Id, DependsOnTaskId = id, BoardId = task.BoardId, CreatedAt = now.AddTicks(i) }));
        task.HasDependencies = dependsOn.Count > 0;
    }

    private async Task ReplaceTagsAsync(TaskItem task, IReadOnlyList<TagRef> tags, DateTime now, CancellationToken ct)
    {
        await db.TaskTags.Where(t => t.TaskId == task.Id).ExecuteDeleteAsync(ct);
        db.TaskTags.AddRange(tags.Select(t => new TaskTag { TaskId = task.Id, TagId = t.Id, CreatedAt = now }));
        task.HasTags = tags.Count > 0;
    }

    /// <summary>Sets (or, with null, clears) the given values; <paramref name="values"/> is updated to what is stored after.</summary>
    private async Task<bool> SetValuesAsync(TaskItem task, IReadOnlyDictionary<string, JsonElement> changes, IReadOnlyList<FieldDefinition> definitions,
        Dictionary<Guid, JsonElement> values, CancellationToken ct)
    {
        var byKey = definitions.ToDictionary(d => d.Key);
        var touched = new List<Guid>();
        var changed = false;
        foreach (var (key, value) in changes)
        {
            var id = byKey[key].Id;
            var isNull = value.ValueKind == JsonValueKind.Null;
            changed |= isNull ? values.ContainsKey(id) : !values.TryGetValue(id, out var old) || old.GetRawText() != value.GetRawText();
            touched.Add(id);
            if (isNull) values.Remove(id);
            else values[id] = value.Clone();
        }
        if (!changed) return false;
        await db.TaskCustomFieldValues.Where(v => v.TaskId == task.Id && touched.Contains(v.DefinitionId)).ExecuteDeleteAsync(ct);
        db.TaskCustomFieldValues.AddRange(touched.Where(values.ContainsKey)
            .Select(id => new TaskCustomFieldValue { TaskId = task.Id, DefinitionId = id, Value = values[id].GetRawText() }));
        task.HasCustomFieldValues = values.Count > 0;
        return true;
    }

    private async Task NotifyAsync(BoardCopy board, TaskItem task, TaskOutcome outcome, DateTime now, CancellationToken ct)
    {
        var agents = await copies.AgentsOfBoardAsync(board.Id, ct);
        var notice = Events.Notice(task);
        if (outcome.NotifyAssignee is { } assigneeId && agents.FirstOrDefault(a => a.Id == assigneeId) is { } assignee)
            Events.NotifyAgent(db, board, assignee.Id, Notices.AssigneeNotified, Notices.Assigned(board.Name, notice, assignee.IsBoardLead), task.Id, now);
        if (outcome.NotifyRework is { } workerId && agents.FirstOrDefault(a => a.Id == workerId) is { } worker)
        {
            var lead = agents.FirstOrDefault(a => a.IsBoardLead);
            var feedback = lead is null ? null : await db.TaskComments.Where(c => c.TaskId == task.Id && c.AgentId == lead.Id)
                .OrderByDescending(c => c.CreatedAt).Select(c => c.Message).FirstOrDefaultAsync(ct);
            Events.NotifyAgent(db, board, worker.Id, Notices.ReworkNotified, Notices.ChangesRequested(board.Name, notice, feedback), task.Id, now);
        }
        if (outcome.NotifyLeadBackInInbox && agents.FirstOrDefault(a => a.IsBoardLead) is { } inboxLead)
            Events.NotifyAgent(db, board, inboxLead.Id, Notices.LeadUnassignedNotified, Notices.BackInInbox(board.Name, notice), task.Id, now);
    }
}
