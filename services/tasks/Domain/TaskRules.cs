using MissionControl.Contracts.Orgs;

namespace MissionControl.Tasks.Domain;

public enum ActorRole
{
    /// <summary>A human with write access to the board.</summary>
    User,
    /// <summary>A non-lead agent of the board.</summary>
    Worker,
    /// <summary>The board lead agent.</summary>
    Lead,
}

public sealed record TaskActor(ActorRole Role, Guid? AgentId = null)
{
    public static readonly TaskActor User = new(ActorRole.User);
    public static TaskActor Worker(Guid agentId) => new(ActorRole.Worker, agentId);
    public static TaskActor Lead(Guid agentId) => new(ActorRole.Lead, agentId);
}

/// <summary>The task as it is before the change.</summary>
public sealed record TaskState
{
    public required Guid BoardId { get; init; }
    public required string Status { get; init; }
    public Guid? AssignedAgentId { get; init; }
    public Guid? ReviewRequestedByAgentId { get; init; }
}

/// <summary>What the caller asked: the snake_case fields present in the PATCH, with the values the rules look at.</summary>
public sealed record TaskChange
{
    public IReadOnlySet<string> Fields { get; init; } = new HashSet<string>();
    public string? Status { get; init; }
    public Guid? AssignedAgentId { get; init; }
    public string? Comment { get; init; }

    public bool Has(string field) => Fields.Contains(field);
}

public sealed record AgentRef(Guid Id, Guid? BoardId, bool IsLead);

/// <summary>What the database knows that the rules need (looked up before deciding).</summary>
public sealed record TaskFacts
{
    /// <summary>Dependencies (after the change) that are not done.</summary>
    public IReadOnlyList<Guid> BlockedBy { get; init; } = [];
    public bool HasPendingApproval { get; init; }
    public bool HasApprovedApproval { get; init; }
    /// <summary>The assignee commented since the task entered progress (for comment_required_for_review).</summary>
    public bool HasRecentAssigneeComment { get; init; }
    /// <summary>The requested assignee as the agent copy knows it; null when unknown (or when unassigning).</summary>
    public AgentRef? RequestedAssignee { get; init; }
    public Guid? LeadAgentId { get; init; }
}

public enum InProgressChange
{
    Keep,
    /// <summary>in_progress_at = now.</summary>
    Start,
    /// <summary>previous_in_progress_at = in_progress_at; in_progress_at = null.</summary>
    Stop,
}

/// <summary>The task after an allowed change, and whom to tell.</summary>
public sealed record TaskOutcome
{
    public required string Status { get; init; }
    public Guid? AssignedAgentId { get; init; }
    public InProgressChange InProgress { get; init; }
    public Guid? ReviewRequestedByAgentId { get; init; }
    /// <summary>Send TASK ASSIGNED (or TASK READY FOR LEAD REVIEW) to this agent.</summary>
    public Guid? NotifyAssignee { get; init; }
    /// <summary>Send CHANGES REQUESTED to this agent (a lead returned the task from review).</summary>
    public Guid? NotifyRework { get; init; }
    /// <summary>Send TASK BACK IN INBOX to the lead.</summary>
    public bool NotifyLeadBackInInbox { get; init; }
}

/// <summary>A refused change: the HTTP status, the machine-readable code and the message.</summary>
public sealed record Refusal(int Status, string Code, string Message, IReadOnlyDictionary<string, object?>? Extensions = null)
{
    public static Refusal Blocked(IReadOnlyList<Guid> blockedBy) => new(
        409, TaskRuleCodes.TaskBlocked, "Task is blocked by incomplete dependencies.",
        new Dictionary<string, object?> { ["blocked_by_task_ids"] = blockedBy });
}

public static class TaskRuleCodes
{
    public const string PendingApproval = "pending_approval";
    public const string ReviewRequired = "review_required";
    public const string ApprovalRequired = "approval_required";
    public const string CommentRequired = "comment_required";
    public const string TaskBlocked = "task_blocked";
    public const string TaskBoardMismatch = "task_board_mismatch";
    public const string TaskAssigneeMismatch = "task_assignee_mismatch";
    public const string TaskUpdateFieldForbidden = "task_update_field_forbidden";
    public const string LeadOnly = "lead_only";
    public const string LeadFieldForbidden = "lead_field_forbidden";
    public const string LeadStatusForbidden = "lead_status_forbidden";
    public const string LeadCannotAssignLead = "lead_cannot_assign_lead";
    public const string AgentNotFound = "agent_not_found";
    public const string AssigneeBoardMismatch = "assignee_board_mismatch";
    public const string DependencyOnDoneTask = "dependency_on_done_task";
    public const string DependencyCycle = "dependency_cycle";
    public const string DependencySelf = "dependency_self";
    public const string DependencyNotFound = "dependency_not_found";
}

public sealed record TaskDecision(TaskOutcome? Outcome, Refusal? Refusal)
{
    public static TaskDecision Allow(TaskOutcome outcome) => new(outcome, null);
    public static TaskDecision Refuse(Refusal refusal) => new(null, refusal);
}

/// <summary>
/// The task lifecycle (reference §3): who may change what, the board-rule gates in their order, and
/// the side effects of each status. Pure: the caller looks the facts up and applies the outcome.
/// </summary>
public static class TaskRules
{
    /// <summary>result: the worker's report on its task (seed 000/001 dialect).</summary>
    public static readonly IReadOnlySet<string> WorkerFields = new HashSet<string> { "status", "comment", "custom_field_values", "result" };

    public static readonly IReadOnlySet<string> LeadFields =
        new HashSet<string> { "assigned_agent_id", "status", "depends_on_task_ids", "tag_ids", "custom_field_values" };

    /// <summary>Step 1: may this actor touch these fields at all? (Before any lookup.)</summary>
    public static Refusal? CheckFields(TaskActor actor, BoardRules rules, TaskState task, TaskChange change)
    {
        switch (actor.Role)
        {
            case ActorRole.Worker:
                var forbidden = change.Fields.Where(f => !WorkerFields.Contains(f)).Order().ToList();
                if (forbidden.Count > 0)
                    return new Refusal(403, TaskRuleCodes.TaskUpdateFieldForbidden,
                        "Agents may only update status, comment, result, and custom field values.",
                        new Dictionary<string, object?> { ["fields"] = forbidden });
                if ((change.Status is not null || change.Has("result")) && task.AssignedAgentId is { } owner && owner != actor.AgentId)
                    return new Refusal(403, TaskRuleCodes.TaskAssigneeMismatch, "This task is assigned to another agent.");
                if (change.Status is not null && rules.OnlyLeadCanChangeStatus)
                    return new Refusal(403, TaskRuleCodes.LeadOnly, "Only board leads can change task status.");
                return null;

            case ActorRole.Lead:
                if (change.Has("comment"))
                    return new Refusal(403, TaskRuleCodes.LeadFieldForbidden,
                        "Lead comment gate failed: board leads cannot comment through task updates. Use the task comments endpoint instead.");
                var unsupported = change.Fields.Where(f => !LeadFields.Contains(f)).Order().ToList();
                if (unsupported.Count > 0)
                    return new Refusal(403, TaskRuleCodes.LeadFieldForbidden,
                        $"Lead field gate failed: unsupported fields for board leads: {string.Join(", ", unsupported)}.",
                        new Dictionary<string, object?> { ["fields"] = unsupported });
                return null;

            default:
                if (change.Has("depends_on_task_ids") && task.Status == TaskStatuses.Done)
                    return new Refusal(409, TaskRuleCodes.DependencyOnDoneTask, "Cannot change task dependencies after a task is done.");
                return null;
        }
    }

    /// <summary>Step 2: with the facts looked up, the outcome of the change or why it is refused.</summary>
    public static TaskDecision Decide(TaskActor actor, BoardRules rules, TaskState task, TaskChange change, TaskFacts facts)
    {
        var target = change.Status ?? task.Status;
        var statusChanges = target != task.Status;
        var assigns = change.Has("assigned_agent_id");

        if (AssignmentRefusal(actor, task, change, facts) is { } assignment) return TaskDecision.Refuse(assignment);
        if (actor.Role == ActorRole.Lead && statusChanges && LeadStatusRefusal(task, target, change) is { } leadStatus)
            return TaskDecision.Refuse(leadStatus);

        var outcome = Outcome(actor, task, change, facts, target, statusChanges);

        if (facts.BlockedBy.Count > 0)
        {
            var blocked = actor.Role switch
            {
                // A worker may only hand a blocked task back.
                ActorRole.Worker => change.Status is not null && target != TaskStatuses.Inbox,
                // A lead may not start or assign blocked work (returning it to an unassigned inbox is fine).
                ActorRole.Lead => (change.Status is not null && target != TaskStatuses.Inbox) || (assigns && change.AssignedAgentId is not null),
                // The reference silently resets a user's blocked task to inbox; refusing says why instead.
                _ => !(outcome.Status == TaskStatuses.Inbox && outcome.AssignedAgentId is null)
                     && !(task.Status == TaskStatuses.Done && outcome.Status == TaskStatuses.Done),
            };
            if (blocked) return TaskDecision.Refuse(Refusal.Blocked(facts.BlockedBy));
        }

        if (statusChanges && GateRefusal(actor, rules, task, change, facts, target) is { } gate) return TaskDecision.Refuse(gate);
        return TaskDecision.Allow(outcome);
    }

    private static Refusal? AssignmentRefusal(TaskActor actor, TaskState task, TaskChange change, TaskFacts facts) =>
        change.Has("assigned_agent_id") && change.AssignedAgentId is not null ? CheckAssignee(actor, task.BoardId, facts.RequestedAssignee) : null;

    /// <summary>An assignee must exist (404), be on the task's board (409), and not be a lead when a lead assigns (403).</summary>
    public static Refusal? CheckAssignee(TaskActor actor, Guid boardId, AgentRef? agent)
    {
        if (agent is null) return new Refusal(404, TaskRuleCodes.AgentNotFound, "The assigned agent was not found.");
        if (agent.BoardId != boardId)
            return new Refusal(409, TaskRuleCodes.AssigneeBoardMismatch, "The assigned agent does not belong to this task's board.");
        if (actor.Role == ActorRole.Lead && agent.IsLead)
            return new Refusal(403, TaskRuleCodes.LeadCannotAssignLead, "Board leads cannot assign tasks to themselves.");
        return null;
    }

    /// <summary>A new task with unfinished dependencies may only start in the inbox, unassigned.</summary>
    public static Refusal? CheckNewTask(string status, Guid? assignee, IReadOnlyList<Guid> blockedBy) =>
        blockedBy.Count > 0 && (status != TaskStatuses.Inbox || assignee is not null) ? Refusal.Blocked(blockedBy) : null;

    private static Refusal? LeadStatusRefusal(TaskState task, string target, TaskChange change)
    {
        // The one shortcut: start an inbox task while assigning it.
        var startsWithAssignee = task.Status == TaskStatuses.Inbox && target == TaskStatuses.InProgress
                                 && change.Has("assigned_agent_id") && change.AssignedAgentId is not null;
        if (startsWithAssignee) return null;
        if (task.Status != TaskStatuses.Review)
            return new Refusal(403, TaskRuleCodes.LeadStatusForbidden,
                "Lead status gate failed: board leads can only change status when the current task status is `review`.");
        if (target is not (TaskStatuses.Done or TaskStatuses.Inbox))
            return new Refusal(403, TaskRuleCodes.LeadStatusForbidden,
                "Lead status target gate failed: board leads can only move tasks from review to done or inbox.");
        return null;
    }

    /// <summary>The board-rule gates of reference §3.2, in their order.</summary>
    private static Refusal? GateRefusal(TaskActor actor, BoardRules rules, TaskState task, TaskChange change, TaskFacts facts, string target)
    {
        var noBlockers = new Dictionary<string, object?> { ["blocked_by_task_ids"] = Array.Empty<Guid>() };
        if (rules.BlockStatusChangesWithPendingApproval && facts.HasPendingApproval)
            return new Refusal(409, TaskRuleCodes.PendingApproval, "Task status cannot be changed while a linked approval is pending.", noBlockers);
        if (rules.RequireReviewBeforeDone && target == TaskStatuses.Done && task.Status != TaskStatuses.Review)
            return new Refusal(409, TaskRuleCodes.ReviewRequired, "Task can only be marked done from review when the board rule is enabled.", noBlockers);
        if (rules.RequireApprovalForDone && target == TaskStatuses.Done && !facts.HasApprovedApproval)
            return new Refusal(409, TaskRuleCodes.ApprovalRequired, "Task can only be marked done when a linked approval has been approved.", noBlockers);
        if (actor.Role != ActorRole.Lead && rules.CommentRequiredForReview && target == TaskStatuses.Review
            && string.IsNullOrWhiteSpace(change.Comment) && !facts.HasRecentAssigneeComment)
            return new Refusal(422, TaskRuleCodes.CommentRequired, "Comment is required.");
        return null;
    }

    private static TaskOutcome Outcome(TaskActor actor, TaskState task, TaskChange change, TaskFacts facts, string target, bool statusChanges)
    {
        var assignee = task.AssignedAgentId;
        var inProgress = InProgressChange.Keep;
        var reviewBy = task.ReviewRequestedByAgentId;
        Guid? rework = null;

        if (statusChanges)
        {
            switch (target)
            {
                case TaskStatuses.Inbox:
                    assignee = null;
                    inProgress = InProgressChange.Stop;
                    break;
                case TaskStatuses.Review:
                    // Review goes to the lead (a lead cannot move tasks to review).
                    assignee = facts.LeadAgentId;
                    inProgress = InProgressChange.Stop;
                    break;
                case TaskStatuses.InProgress:
                    inProgress = InProgressChange.Start;
                    break;
            }
            if (actor.Role == ActorRole.Worker)
            {
                if (target is TaskStatuses.InProgress or TaskStatuses.Done) assignee = actor.AgentId; // claiming
                if (target == TaskStatuses.Review) reviewBy = actor.AgentId;
            }
            if (actor.Role == ActorRole.Lead && task.Status == TaskStatuses.Review && target == TaskStatuses.Inbox)
            {
                // "Request changes": back to the worker who asked for the review.
                assignee = task.ReviewRequestedByAgentId;
                rework = assignee;
            }
        }
        if (actor.Role != ActorRole.Worker && change.Has("assigned_agent_id")) assignee = change.AssignedAgentId;

        var selfClaim = actor.Role == ActorRole.Worker && assignee == actor.AgentId;
        var newAssignee = assignee is not null && assignee != task.AssignedAgentId && !selfClaim && rework is null ? assignee : null;
        var backInInbox = actor.Role != ActorRole.Lead && target == TaskStatuses.Inbox && assignee is null
                          && (task.Status != TaskStatuses.Inbox || task.AssignedAgentId is not null);
        return new TaskOutcome
        {
            Status = target, AssignedAgentId = assignee, InProgress = inProgress, ReviewRequestedByAgentId = reviewBy,
            NotifyAssignee = newAssignee, NotifyRework = rework, NotifyLeadBackInInbox = backInInbox,
        };
    }
}
