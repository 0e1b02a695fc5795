using System.Text.Json;
using MassTransit;
using MissionControl.Contracts.Agents;
using MissionControl.Contracts.Orgs;
using MissionControl.Contracts.Tasks;
using MissionControl.Edge.Auth;

namespace MissionControl.Edge.Sse;

/// <summary>
/// Every edge instance gets every event on its own temporary queue: work events feed the SSE hub
/// (payloads as reference §4, the task as it was at event time), identity events drop cached
/// principals so a revoked key, a removed member or a changed role takes effect at once.
/// </summary>
public sealed class EdgeEventsConsumer(SseHub hub, PrincipalResolver principals) :
    IConsumer<TaskCreated>, IConsumer<TaskUpdated>, IConsumer<TaskDeleted>, IConsumer<TaskCommentAdded>,
    IConsumer<ApprovalChanged>, IConsumer<BoardMemoryAdded>, IConsumer<BoardGroupMemoryAdded>,
    IConsumer<OrganizationCreated>, IConsumer<OrganizationDeleted>, IConsumer<MemberChanged>, IConsumer<CredentialRevoked>,
    IConsumer<AgentCreated>, IConsumer<AgentUpdated>, IConsumer<AgentDeleted>
{
    public Task Consume(ConsumeContext<TaskCreated> c) =>
        Task(c, c.Message.OrganizationId, c.Message.BoardId, new { type = c.Message.Activity.EventType, activity = c.Message.Activity, task = c.Message.Task });

    public Task Consume(ConsumeContext<TaskUpdated> c) =>
        Task(c, c.Message.OrganizationId, c.Message.BoardId, new { type = c.Message.Activity.EventType, activity = c.Message.Activity, task = c.Message.Task });

    public Task Consume(ConsumeContext<TaskDeleted> c) =>
        Task(c, c.Message.OrganizationId, c.Message.BoardId, new { type = c.Message.Activity.EventType, activity = c.Message.Activity, task = c.Message.Task });

    public Task Consume(ConsumeContext<TaskCommentAdded> c) =>
        Task(c, c.Message.OrganizationId, c.Message.BoardId, new { type = "task.comment", activity = c.Message.Activity, comment = c.Message.Comment });

    public Task Consume(ConsumeContext<ApprovalChanged> c) => Publish(c, c.Message.OrganizationId, c.Message.BoardId, SseTopics.Approvals, "approval",
        new { approval = c.Message.Approval, pending_approvals_count = c.Message.PendingApprovalsCount, task_counts = c.Message.TaskCounts });

    public Task Consume(ConsumeContext<BoardMemoryAdded> c) =>
        Publish(c, c.Message.OrganizationId, c.Message.BoardId, SseTopics.Memory, "memory", new { memory = c.Message.Memory }, c.Message.Memory.IsChat);

    public Task Consume(ConsumeContext<BoardGroupMemoryAdded> c) =>
        Publish(c, c.Message.OrganizationId, c.Message.BoardGroupId, SseTopics.GroupMemory, "memory", new { memory = c.Message.Memory }, c.Message.Memory.IsChat);

    public Task Consume(ConsumeContext<OrganizationCreated> c) => Invalidate(() => principals.InvalidateSubject(c.Message.CreatedByUserId.ToString()));

    public Task Consume(ConsumeContext<OrganizationDeleted> c) => Invalidate(() => principals.InvalidateOrganization(c.Message.OrganizationId));

    public Task Consume(ConsumeContext<MemberChanged> c) => Invalidate(() => principals.InvalidateSubject(c.Message.UserId.ToString()));

    public Task Consume(ConsumeContext<CredentialRevoked> c) => Invalidate(() => principals.InvalidateSubject(c.Message.UserId.ToString()));

    // Agents stream (board agents only, as the reference): the agent as it was at event time.
    public Task Consume(ConsumeContext<AgentCreated> c) => c.Message.Agent.BoardId is { } board
        ? Publish(c, c.Message.OrganizationId, board, SseTopics.Agents, "agent", new { type = "agent.created", agent = c.Message.Agent })
        : System.Threading.Tasks.Task.CompletedTask;

    public Task Consume(ConsumeContext<AgentUpdated> c)
    {
        principals.InvalidateSubject(c.Message.Agent.Id.ToString());
        return c.Message.Agent.BoardId is { } board
            ? Publish(c, c.Message.OrganizationId, board, SseTopics.Agents, "agent",
                new { type = "agent.updated", agent = c.Message.Agent, changed_fields = c.Message.ChangedFields })
            : System.Threading.Tasks.Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<AgentDeleted> c)
    {
        principals.InvalidateSubject(c.Message.AgentId.ToString());
        return c.Message.BoardId is { } board
            ? Publish(c, c.Message.OrganizationId, board, SseTopics.Agents, "agent", new { type = "agent.deleted", agent_id = c.Message.AgentId })
            : System.Threading.Tasks.Task.CompletedTask;
    }

    private Task Task(ConsumeContext c, Guid org, Guid board, object payload) => Publish(c, org, board, SseTopics.Tasks, "task", payload);

    private Task Publish(ConsumeContext c, Guid org, Guid scope, string topic, string name, object payload, bool isChat = false)
    {
        hub.Publish(new SseEvent(c.MessageId ?? Guid.NewGuid(), org, scope, topic, name,
            new Lazy<byte[]>(() => JsonSerializer.SerializeToUtf8Bytes(payload, JsonDefaults.Api)), isChat));
        return System.Threading.Tasks.Task.CompletedTask;
    }

    private static Task Invalidate(Action invalidate)
    {
        invalidate();
        return System.Threading.Tasks.Task.CompletedTask;
    }
}

/// <summary>What an SSE event is about; a stream subscribes to one topic of one board or group.</summary>
public static class SseTopics
{
    public const string Tasks = "tasks";
    public const string Approvals = "approvals";
    public const string Memory = "memory";
    public const string GroupMemory = "group-memory";
    public const string Agents = "agents";
}
