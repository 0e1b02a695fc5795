using System.Text.Json;

namespace MissionControl.Contracts.Tasks;

/// <summary>
/// What happened, as the activity feed and the event log record it: the event type of the reference's
/// activity catalog (task.created, task.updated, task.status_changed, task.comment, approval.*, …)
/// and its human message ("Task moved to review: Write the plan.").
/// </summary>
public sealed record ActivityInfo
{
    public required Guid Id { get; init; }
    public required string EventType { get; init; }
    public string? Message { get; init; }
    /// <summary>Who acted: an agent, or a user (null when neither, e.g. a dependency cascade).</summary>
    public Guid? AgentId { get; init; }
    public Guid? UserId { get; init; }
    public Guid? TaskId { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
}

public sealed record TagRef(Guid Id, string Name, string Slug, string Color);

/// <summary>The task as it was right after the change (the /api/v1 TaskRead), so consumers (SSE, event log) need no call back.</summary>
public sealed record TaskSnapshot
{
    public required Guid Id { get; init; }
    public required Guid BoardId { get; init; }
    public required string Title { get; init; }
    public string? Description { get; init; }
    public required string Status { get; init; }
    public required string Priority { get; init; }
    public DateTimeOffset? DueAt { get; init; }
    public Guid? AssignedAgentId { get; init; }
    public Guid? CreatedByUserId { get; init; }
    public DateTimeOffset? InProgressAt { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
    public IReadOnlyList<Guid> DependsOnTaskIds { get; init; } = [];
    public IReadOnlyList<Guid> TagIds { get; init; } = [];
    public IReadOnlyList<TagRef> Tags { get; init; } = [];
    public IReadOnlyList<Guid> BlockedByTaskIds { get; init; } = [];
    public bool IsBlocked { get; init; }
    public IReadOnlyDictionary<string, JsonElement> CustomFieldValues { get; init; } = new Dictionary<string, JsonElement>();
    /// <summary>What the agent reported when it finished (or why it failed); null until then.</summary>
    public string? Result { get; init; }
}

public sealed record TaskCreated : IIntegrationEvent
{
    public required Guid OrganizationId { get; init; }
    public required Guid BoardId { get; init; }
    public required TaskSnapshot Task { get; init; }
    /// <summary>task.created</summary>
    public required ActivityInfo Activity { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
}

/// <summary>Any change to a task; Activity.EventType is task.status_changed when the status moved, else task.updated.</summary>
public sealed record TaskUpdated : IIntegrationEvent
{
    public required Guid OrganizationId { get; init; }
    public required Guid BoardId { get; init; }
    public required TaskSnapshot Task { get; init; }
    public required string PreviousStatus { get; init; }
    /// <summary>snake_case names of the fields that changed.</summary>
    public IReadOnlyList<string> ChangedFields { get; init; } = [];
    public required ActivityInfo Activity { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
}

public sealed record TaskDeleted : IIntegrationEvent
{
    public required Guid OrganizationId { get; init; }
    public required Guid BoardId { get; init; }
    /// <summary>The task as it was just before it was deleted.</summary>
    public required TaskSnapshot Task { get; init; }
    /// <summary>task.deleted</summary>
    public required ActivityInfo Activity { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
}

/// <summary>
/// A task's tags changed: it was created with tags, retagged, or deleted while tagged (TagIds is then
/// empty). orgs keeps its tags' task counts from this alone instead of taking every task event.
/// </summary>
public sealed record TaskTagsChanged : IIntegrationEvent
{
    public required Guid OrganizationId { get; init; }
    public required Guid BoardId { get; init; }
    public required Guid TaskId { get; init; }
    public required IReadOnlyList<Guid> TagIds { get; init; }
    /// <summary>The task's updated_at: an older change than one already applied changes nothing.</summary>
    public required DateTimeOffset TaskUpdatedAt { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
}

/// <summary>A task comment with its author (an agent, or a user: the reference loses human authors).</summary>
public sealed record TaskCommentState
{
    public required Guid Id { get; init; }
    public required Guid TaskId { get; init; }
    public required string Message { get; init; }
    public Guid? AgentId { get; init; }
    public Guid? UserId { get; init; }
    public string? AuthorName { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
}

public sealed record TaskCommentAdded : IIntegrationEvent
{
    public required Guid OrganizationId { get; init; }
    public required Guid BoardId { get; init; }
    public required TaskCommentState Comment { get; init; }
    /// <summary>For the task-comments feed: the task's title, the board's name, and an agent author's role (lead, worker).</summary>
    public string? TaskTitle { get; init; }
    public string? BoardName { get; init; }
    public string? AuthorRole { get; init; }
    /// <summary>task.comment</summary>
    public required ActivityInfo Activity { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
}

public sealed record ApprovalState
{
    public required Guid Id { get; init; }
    public required Guid BoardId { get; init; }
    /// <summary>The primary (first) linked task.</summary>
    public Guid? TaskId { get; init; }
    public IReadOnlyList<Guid> TaskIds { get; init; } = [];
    public Guid? AgentId { get; init; }
    public required string ActionType { get; init; }
    public JsonElement? Payload { get; init; }
    public required double Confidence { get; init; }
    public IReadOnlyDictionary<string, int>? RubricScores { get; init; }
    /// <summary>pending | approved | rejected</summary>
    public required string Status { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? ResolvedAt { get; init; }
}

public sealed record ApprovalTaskCount(Guid TaskId, int ApprovalsCount, int ApprovalsPendingCount);

/// <summary>An approval was created (Activity approval.created) or resolved / reopened (approval.resolved).</summary>
public sealed record ApprovalChanged : IIntegrationEvent
{
    public required Guid OrganizationId { get; init; }
    public required Guid BoardId { get; init; }
    public required ApprovalState Approval { get; init; }
    /// <summary>Pending approvals on the board after the change.</summary>
    public required int PendingApprovalsCount { get; init; }
    /// <summary>Per linked task: its approvals and pending approvals after the change.</summary>
    public IReadOnlyList<ApprovalTaskCount> TaskCounts { get; init; } = [];
    public required ActivityInfo Activity { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
}

/// <summary>Board memory or board-group memory (chat when its tags contain "chat").</summary>
public sealed record MemoryState
{
    public required Guid Id { get; init; }
    /// <summary>Set for board memory.</summary>
    public Guid? BoardId { get; init; }
    /// <summary>Set for board-group memory.</summary>
    public Guid? BoardGroupId { get; init; }
    public required string Content { get; init; }
    public IReadOnlyList<string> Tags { get; init; } = [];
    public bool IsChat { get; init; }
    public string? Source { get; init; }
    public Guid? AgentId { get; init; }
    public Guid? UserId { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
}

public sealed record BoardMemoryAdded : IIntegrationEvent
{
    public required Guid OrganizationId { get; init; }
    public required Guid BoardId { get; init; }
    public required MemoryState Memory { get; init; }
    /// <summary>board.memory (board.chat when is_chat)</summary>
    public required ActivityInfo Activity { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
}

public sealed record BoardGroupMemoryAdded : IIntegrationEvent
{
    public required Guid OrganizationId { get; init; }
    public required Guid BoardGroupId { get; init; }
    public required MemoryState Memory { get; init; }
    public required ActivityInfo Activity { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
}

/// <summary>
/// A message for one agent's gateway session (reference §3.7 notifications: TASK ASSIGNED, NEW TASK
/// COMMENT, BOARD CHAT, …). The gateway-bridge delivers it with chat.send and reports the outcome.
/// </summary>
public sealed record AgentNotificationRequested : IIntegrationEvent
{
    public required Guid OrganizationId { get; init; }
    public Guid? BoardId { get; init; }
    public required Guid AgentId { get; init; }
    /// <summary>The activity type the delivery will record, e.g. task.assignee_notified, task.lead_notified.</summary>
    public required string Kind { get; init; }
    public required string Message { get; init; }
    /// <summary>chat.send deliver flag (true only for /pause and /resume).</summary>
    public bool Deliver { get; init; }
    public Guid? TaskId { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
}

/// <summary>A board onboarding prompt or answer for the gateway-main agent of the board's gateway.</summary>
public sealed record OnboardingMessageRequested : IIntegrationEvent
{
    public required Guid OrganizationId { get; init; }
    public required Guid BoardId { get; init; }
    public required Guid SessionId { get; init; }
    public Guid? GatewayId { get; init; }
    public required string Message { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
}

/// <summary>
/// A task sent to its agent now: seed 000's <c>POST /api/tasks/{id}/dispatch</c> and seed 002's <c>run</c>.
/// The gateway-bridge delivers Message to a gateway agent's session (chat.send); the agents service
/// delivers the task to a custom agent's callbackUrl (signed, retried). A custom agent without a
/// callbackUrl pulls it from <c>GET /api/tasks/queue</c> instead.
/// </summary>
public sealed record TaskDispatched : IIntegrationEvent
{
    public required Guid OrganizationId { get; init; }
    public required Guid BoardId { get; init; }
    public required Guid AgentId { get; init; }
    /// <summary>The task as dispatched (assigned to AgentId).</summary>
    public required TaskSnapshot Task { get; init; }
    /// <summary>prompt (the default: work on the task) or command (seed 002: run Message as an explicit command).</summary>
    public required string Kind { get; init; }
    /// <summary>What the agent's session is sent: the task's title and description, or the command.</summary>
    public required string Message { get; init; }
    /// <summary>task.dispatched</summary>
    public required ActivityInfo Activity { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
}
