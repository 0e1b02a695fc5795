using MissionControl.Contracts.Tasks;
using MissionControl.InternalAuth;
using MissionControl.Messaging;
using MissionControl.Tasks.Data;
using MissionControl.Tasks.Domain;

namespace MissionControl.Tasks.Operations;

/// <summary>Builders for the integration events every change writes to the outbox with it.</summary>
public static class Events
{
    public static ActivityInfo Activity(string type, string message, McPrincipal? actor, Guid? taskId, DateTime now) => new()
    {
        Id = Ids.NewVersion7(), EventType = type, Message = message, AgentId = actor?.AgentId, UserId = actor?.UserId, TaskId = taskId,
        CreatedAt = now,
    };

    public static NoticeTask Notice(TaskItem task) => new(task.Id, task.Title, task.Status, task.Description);

    /// <summary>Queues a message for one agent's session (the gateway-bridge delivers it).</summary>
    public static void NotifyAgent(TasksDbContext db, BoardCopy board, Guid agentId, string kind, string message, Guid? taskId, DateTime now,
        bool deliver = false) =>
        db.AddIntegrationEvent(new AgentNotificationRequested
        {
            OrganizationId = board.OrganizationId, BoardId = board.Id, AgentId = agentId, Kind = kind, Message = message, Deliver = deliver,
            TaskId = taskId, OccurredAt = now,
        });

    public static TaskUpdated Updated(BoardCopy board, TaskSnapshot task, string previousStatus, IReadOnlyList<string> changed, ActivityInfo activity,
        DateTime now) => new()
    {
        OrganizationId = board.OrganizationId, BoardId = board.Id, Task = task, PreviousStatus = previousStatus, ChangedFields = changed,
        Activity = activity, OccurredAt = now,
    };

    /// <summary>For orgs' tag counts, written only when a task's tags change (most task events carry none).</summary>
    public static void TagsChanged(TasksDbContext db, BoardCopy board, Guid taskId, IEnumerable<Guid> tagIds, DateTime taskUpdatedAt, DateTime now) =>
        db.AddIntegrationEvent(new TaskTagsChanged
        {
            OrganizationId = board.OrganizationId, BoardId = board.Id, TaskId = taskId, TagIds = tagIds.ToList(), TaskUpdatedAt = taskUpdatedAt,
            OccurredAt = now,
        });

    public static string StatusMessage(string status, string title) => $"Task moved to {status}: {title}.";
}
