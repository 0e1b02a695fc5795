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
    public DateTime? PreviousInProgressAt { get; set; }
    public Guid? AssignedAgentId { get; set; }
    public Guid? CreatedByUserId { get; set; }
    public bool AutoCreated { get; set; }
    /// <summary>"lead_agent:&lt;id&gt;" when a board lead created the task.</summary>
    public string? AutoReason { get; set; }
    /// <summary>The last non-lead agent that moved the task to review: a lead's "request changes" hands it back to them.</summary>
    public Guid? ReviewRequestedByAgentId { get; set; }
    /// <summary>The agent's report (seed 000/001 dialect: PATCH /api/tasks/{id} {result}); free text, at most TaskInput.MaxResult.</summary>
    public string? Result { get; set; }
    /// <summary>Seed 002 (/api/mission-control): prompt or command; null for a task made in another dialect.</summary>
    public string? Kind { get; set; }
    /// <summary>Seed 002: the task stops in review with a pending approval when its agent reports it done.</summary>
    public bool? RequiresApproval { get; set; }
    /// <summary>Seed 002's desktopId: the agent the task is for (the assignee moves, e.g. to the lead in review; this does not).</summary>
    public Guid? TargetAgentId { get; set; }

    // "May have rows" markers: a page of tasks skips the dependency, tag and custom-value queries
    // when none of its tasks ever had any (stale true is harmless, it only costs one query).
    public bool HasDependencies { get; set; }
    public bool HasTags { get; set; }
    public bool HasCustomFieldValues { get; set; }

    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

/// <summary>task_id depends on depends_on_task_id (same board).</summary>
public sealed class TaskDependency
{
    public Guid TaskId { get; set; }
    public Guid DependsOnTaskId { get; set; }
    public Guid BoardId { get; set; }
    public DateTime CreatedAt { get; set; }
}

/// <summary>A tag assigned to a task (the reference's tag_assignments).</summary>
public sealed class TaskTag
{
    public Guid TaskId { get; set; }
    public Guid TagId { get; set; }
    public DateTime CreatedAt { get; set; }
}

public sealed class TaskCustomFieldValue
{
    public Guid TaskId { get; set; }
    public Guid DefinitionId { get; set; }
    /// <summary>The value as JSON text.</summary>
    public required string Value { get; set; }
}

/// <summary>A task comment, with its author (an agent or a user) and the author's name at the time.</summary>
public sealed class TaskComment
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public Guid BoardId { get; set; }
    public Guid TaskId { get; set; }
    public required string Message { get; set; }
    public Guid? AgentId { get; set; }
    public Guid? UserId { get; set; }
    public string? AuthorName { get; set; }
    public DateTime CreatedAt { get; set; }
}

/// <summary>
/// How many tasks a board has in each status, kept in the same transaction as the tasks, so a list's
/// total is a handful of rows instead of a scan over every task of the board. Each (board, status) is
/// split over <see cref="TaskCounts.Shards"/> rows that a write picks at random and a read sums: one
/// row per status was a lock every write to the board queued on (PostgreSQL, bench/).
/// </summary>
public sealed class BoardTaskCount
{
    public Guid BoardId { get; set; }
    public required string Status { get; set; }
    public int Shard { get; set; }
    public int TaskCount { get; set; }
}
