using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Tasks;
using MissionControl.Tasks.Data;
using MissionControl.Tasks.Domain;

namespace MissionControl.Tasks.Operations;

/// <summary>The dependencies a task would have, and which of them are unfinished.</summary>
public sealed record DependencySet(IReadOnlyList<Guid> DependsOn, IReadOnlyList<Guid> BlockedBy);

/// <summary>Checks of the ids a task create or update names (dependencies, tags, assignee) against the database.</summary>
public sealed class TaskLookups(TasksDbContext db, CopyCache copies)
{
    /// <summary>
    /// De-duplicated dependencies that exist on the board (404 with missing_task_ids), never the task
    /// itself (422), and never closing a cycle over the board's graph (409 dependency_cycle).
    /// </summary>
    public async Task<(DependencySet? Set, IResult? Error)> DependenciesAsync(Guid boardId, Guid taskId, IEnumerable<Guid> requested, CancellationToken ct)
    {
        var ids = DependencyGraph.Distinct(requested);
        if (ids.Contains(taskId))
            return (null, ApiProblems.Unprocessable("A task cannot depend on itself.", TaskRuleCodes.DependencySelf));
        if (ids.Count == 0) return (new DependencySet([], []), null);

        var found = await db.Tasks.AsNoTracking().Where(t => t.BoardId == boardId && ids.Contains(t.Id))
            .Select(t => new { t.Id, t.Status }).ToListAsync(ct);
        var missing = ids.Except(found.Select(f => f.Id)).ToList();
        if (missing.Count > 0)
            return (null, ApiProblems.Status(404, "One or more dependency tasks were not found on this board.", TaskRuleCodes.DependencyNotFound,
                new Dictionary<string, object?> { ["missing_task_ids"] = missing }));

        var edges = (await db.TaskDependencies.AsNoTracking().Where(d => d.BoardId == boardId && d.TaskId != taskId)
            .Select(d => new { d.TaskId, d.DependsOnTaskId }).ToListAsync(ct)).ToLookup(e => e.TaskId, e => e.DependsOnTaskId);
        if (DependencyGraph.CreatesCycle(taskId, ids, edges))
            return (null, ApiProblems.Conflict("Dependency cycle detected. Remove the cycle before saving.", TaskRuleCodes.DependencyCycle));

        var statusById = found.ToDictionary(f => f.Id, f => f.Status);
        return (new DependencySet(ids, ids.Where(id => statusById[id] != TaskStatuses.Done).ToList()), null);
    }

    /// <summary>The organization's tags with these ids (from the tag copy); unknown ids are a 422.</summary>
    public async Task<(IReadOnlyList<TagRef>? Tags, IResult? Error)> TagsAsync(Guid organizationId, IEnumerable<Guid> requested, CancellationToken ct)
    {
        var ids = requested.Distinct().ToList();
        if (ids.Count == 0) return ([], null);
        var tags = await db.Tags.AsNoTracking().Where(t => t.OrganizationId == organizationId && ids.Contains(t.Id))
            .OrderBy(t => t.Name).Select(t => new TagRef(t.Id, t.Name, t.Slug, t.Color)).ToListAsync(ct);
        var missing = ids.Except(tags.Select(t => t.Id)).ToList();
        return missing.Count > 0
            ? (null, ApiProblems.Unprocessable("One or more tags do not exist in this organization.", "tag_not_found",
                new Dictionary<string, object?> { ["missing_tag_ids"] = missing }))
            : (tags, null);
    }

    /// <summary>The agent as the rules see it: a board agent, or another agent of the organization (null when unknown).</summary>
    public async Task<AgentRef?> AgentAsync(BoardCopy board, Guid agentId, CancellationToken ct)
    {
        var agent = (await copies.AgentsOfBoardAsync(board.Id, ct)).FirstOrDefault(a => a.Id == agentId)
                    ?? await db.Agents.AsNoTracking().FirstOrDefaultAsync(a => a.Id == agentId && a.OrganizationId == board.OrganizationId, ct);
        return agent is null ? null : new AgentRef(agent.Id, agent.BoardId, agent.IsBoardLead);
    }

    /// <summary>422 custom_field_invalid with the field errors, or null.</summary>
    public static IResult? FieldErrors(Dictionary<string, string[]> errors) => errors.Count == 0 ? null
        : ApiProblems.Unprocessable(
            "Invalid custom field values: " + string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}")),
            CustomFieldRules.InvalidCode, new Dictionary<string, object?> { ["errors"] = errors });
}
