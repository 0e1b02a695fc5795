using System.Text.Json;
using System.Text.RegularExpressions;
using MissionControl.Contracts;
using MissionControl.Contracts.Agents;
using MissionControl.Contracts.Gateways;
using MissionControl.Contracts.Orgs;
using MissionControl.Contracts.Tasks;
using MissionControl.Contracts.Webhooks;
using MissionControl.EventLog;

namespace MissionControl.Metrics.EventLog;

/// <summary>
/// How each integration event enters the log: its stream, SSE name, activity type and message, who may
/// see it, and the payload clients get (reference §4 shapes; the task as it was at event time).
/// An event type not listed here is logged as internal, under a type derived from its name.
/// </summary>
public static partial class EventProjection
{
    public static LogEntry Project(IIntegrationEvent message, Guid messageId, DateTime loggedAt)
    {
        var entry = message switch
        {
            TaskCreated m => Activity(m.Activity, EventTopics.Tasks, "task", m.BoardId,
                new { type = m.Activity.EventType, activity = m.Activity, task = m.Task }) with { TaskId = m.Task.Id },
            TaskUpdated m => Activity(m.Activity, EventTopics.Tasks, "task", m.BoardId,
                new { type = m.Activity.EventType, activity = m.Activity, task = m.Task, previous_status = m.PreviousStatus, changed_fields = m.ChangedFields })
                with { TaskId = m.Task.Id },
            TaskDeleted m => Activity(m.Activity, EventTopics.Tasks, "task", m.BoardId,
                new { type = m.Activity.EventType, activity = m.Activity, task = m.Task }) with { TaskId = m.Task.Id },
            // A task sent to its agent (the /api dialect's dispatch): on the task's stream, so its board sees it.
            TaskDispatched m => Activity(m.Activity, EventTopics.Tasks, "task", m.BoardId,
                new { type = m.Activity.EventType, activity = m.Activity, task = m.Task, agent_id = m.AgentId, kind = m.Kind })
                with { TaskId = m.Task.Id, AgentId = m.AgentId },
            TaskCommentAdded m => Activity(m.Activity, EventTopics.Tasks, "task", m.BoardId,
                new { type = "task.comment", activity = m.Activity, comment = m.Comment, feed_item = CommentFeedItem(m) })
                with { TaskId = m.Comment.TaskId, Type = "task.comment" },
            ApprovalChanged m => Activity(m.Activity, EventTopics.Approvals, "approval", m.BoardId,
                new { approval = m.Approval, pending_approvals_count = m.PendingApprovalsCount, task_counts = m.TaskCounts })
                with { TaskId = m.Approval.TaskId, AgentId = m.Activity.AgentId ?? m.Approval.AgentId },
            BoardMemoryAdded m => Activity(m.Activity, EventTopics.Memory, "memory", m.BoardId, new { memory = m.Memory }) with { IsChat = m.Memory.IsChat },
            BoardGroupMemoryAdded m => Activity(m.Activity, EventTopics.GroupMemory, "memory", null, new { memory = m.Memory })
                with { BoardGroupId = m.BoardGroupId, Audience = EventAudiences.Group, IsChat = m.Memory.IsChat },

            AgentCreated m => Agent(m.Agent, "agent.created", $"Agent created: {m.Agent.Name}.", new { type = "agent.created", agent = m.Agent }),
            AgentUpdated m => Agent(m.Agent, "agent.updated", $"Agent updated: {m.Agent.Name}.",
                new { type = "agent.updated", agent = m.Agent, changed_fields = m.ChangedFields }),
            AgentDeleted m => Row(EventTopics.Agents, "agent", "agent.deleted", m.BoardId is null ? EventAudiences.Admins : EventAudiences.Board,
                new { type = "agent.deleted", agent_id = m.AgentId }) with { BoardId = m.BoardId, AgentId = m.AgentId, Message = "Agent deleted." },
            AgentHeartbeat m => Row(EventTopics.Heartbeats, "heartbeat", "agent.heartbeat", m.BoardId is null ? EventAudiences.Admins : EventAudiences.Board,
                new { agent_id = m.AgentId, board_id = m.BoardId, status = m.Status }) with { BoardId = m.BoardId, AgentId = m.AgentId },
            AgentProvisioningFailed m => Row(EventTopics.Agents, "provisioning", "agent.provision.failed", EventAudiences.Admins,
                new { agent_id = m.AgentId, gateway_id = m.GatewayId, error_code = m.ErrorCode, error = m.Error, retryable = m.Retryable })
                with { AgentId = m.AgentId, Message = $"Provisioning failed: {m.ErrorCode}." },
            AgentMessageReceived m => Row(EventTopics.Sessions, "message", m.State == "final" ? "agent.message" : "agent.message.failed",
                m.BoardId is null ? EventAudiences.Admins : EventAudiences.Board, m) with { BoardId = m.BoardId, TaskId = m.TaskId, AgentId = m.AgentId },
            TokenUsageReported m => Row(EventTopics.Tokens, "usage", "token.usage", m.BoardId is null ? EventAudiences.Admins : EventAudiences.Board, m)
                with { BoardId = m.BoardId, TaskId = m.TaskId, AgentId = m.AgentId },

            GatewayCreated m => Row(EventTopics.Gateways, "gateway", "gateway.created", EventAudiences.Admins, new { gateway = m.Gateway })
                with { Message = $"Gateway registered: {m.Gateway.Name}." },
            GatewayUpdated m => Row(EventTopics.Gateways, "gateway", "gateway.updated", EventAudiences.Admins, new { gateway = m.Gateway, changed_fields = m.ChangedFields }),
            GatewayDeleted m => Row(EventTopics.Gateways, "gateway", "gateway.deleted", EventAudiences.Admins, new { gateway_id = m.GatewayId }),
            GatewayConnectionChanged m => Row(EventTopics.Gateways, "connection", "gateway.connection_changed", EventAudiences.Admins, m),

            BoardCreated m => Row(EventTopics.Boards, "board", "board.created", EventAudiences.Board, new { board = m.Board })
                with { BoardId = m.BoardId, Message = $"Board created: {m.Board.Name}." },
            BoardUpdated m => Row(EventTopics.Boards, "board", "board.updated", EventAudiences.Board, new { board = m.Board, changed_fields = m.ChangedFields })
                with { BoardId = m.BoardId },
            BoardDeleted m => Row(EventTopics.Boards, "board", "board.deleted", EventAudiences.Board, new { board_id = m.BoardId }) with { BoardId = m.BoardId },
            BoardGroupChanged m => Row(EventTopics.Boards, "board_group", "board_group.changed", EventAudiences.Group, new { group = m.Group })
                with { BoardGroupId = m.Group.Id },
            BoardGroupDeleted m => Row(EventTopics.Boards, "board_group", "board_group.deleted", EventAudiences.Group, new { group_id = m.GroupId })
                with { BoardGroupId = m.GroupId },
            TagChanged or TagDeleted or CustomFieldDefinitionChanged or CustomFieldDefinitionDeleted or OrganizationCreated =>
                Row(EventTopics.Organization, "organization", TypeName(message.GetType()), EventAudiences.Organization, message),
            MemberChanged m => Row(EventTopics.Organization, "member", "member.changed", EventAudiences.Admins, m),
            WebhookDeliveryFailed m => Row(EventTopics.Webhooks, "webhook", "webhook.delivery_failed", EventAudiences.Admins, m)
                with { Message = $"Webhook delivery failed; the webhook is disabled: {m.Url}." },

            // Commands between services, and events that only make sense to them (token hashes, files).
            _ => Row(EventTopics.Internal, "internal", TypeName(message.GetType()), EventAudiences.Internal, message),
        };
        return new LogEntry
        {
            EventId = messageId,
            OrganizationId = message.OrganizationId,
            BoardId = entry.BoardId,
            BoardGroupId = entry.BoardGroupId,
            TaskId = entry.TaskId,
            AgentId = entry.AgentId,
            UserId = entry.UserId,
            Topic = entry.Topic,
            Name = entry.Name,
            Type = entry.Type,
            Message = entry.Message,
            // An event of no organization (a revoked credential) is never shown to anyone.
            Audience = message.OrganizationId == Guid.Empty ? EventAudiences.Internal : entry.Audience,
            IsChat = entry.IsChat,
            OccurredAt = message.OccurredAt.UtcDateTime,
            LoggedAt = loggedAt,
            Data = JsonSerializer.Serialize(entry.Payload, entry.Payload.GetType(), JsonDefaults.Api),
        };
    }

    /// <summary>The reference's task-comments feed item (ActivityTaskCommentFeedItemRead), carried in the log for its stream.</summary>
    public static object CommentFeedItem(TaskCommentAdded m) => new
    {
        id = m.Comment.Id, created_at = m.Comment.CreatedAt, message = m.Comment.Message,
        agent_id = m.Comment.AgentId, agent_name = m.Comment.AgentId is null ? null : m.Comment.AuthorName, agent_role = m.AuthorRole,
        user_id = m.Comment.UserId, author_name = m.Comment.AuthorName,
        task_id = m.Comment.TaskId, task_title = m.TaskTitle, board_id = m.BoardId, board_name = m.BoardName,
    };

    /// <summary>TaskTagsChanged → task_tags.changed; WebhookDeliveryFailed → webhook_delivery.failed.</summary>
    public static string TypeName(Type type)
    {
        var words = Words().Matches(type.Name).Select(w => w.Value.ToLowerInvariant()).ToList();
        return words.Count < 2 ? words.FirstOrDefault() ?? type.Name : string.Join('_', words[..^1]) + "." + words[^1];
    }

    [GeneratedRegex("[A-Z][a-z0-9]*")]
    private static partial Regex Words();

    private sealed record Shape(string Topic, string Name, string Type, string Audience, object Payload)
    {
        public Guid? BoardId { get; init; }
        public Guid? BoardGroupId { get; init; }
        public Guid? TaskId { get; init; }
        public Guid? AgentId { get; init; }
        public Guid? UserId { get; init; }
        public string? Message { get; init; }
        public bool IsChat { get; init; }
    }

    private static Shape Row(string topic, string name, string type, string audience, object payload) => new(topic, name, type, audience, payload);

    private static Shape Activity(ActivityInfo activity, string topic, string name, Guid? boardId, object payload) =>
        new(topic, name, activity.EventType, EventAudiences.Board, payload)
        {
            BoardId = boardId, TaskId = activity.TaskId, AgentId = activity.AgentId, UserId = activity.UserId, Message = activity.Message,
        };

    // Board agents are seen by the board's readers; a gateway-main agent (no board) by admins only.
    private static Shape Agent(AgentState agent, string type, string message, object payload) =>
        new(EventTopics.Agents, "agent", type, agent.BoardId is null ? EventAudiences.Admins : EventAudiences.Board, payload)
        {
            BoardId = agent.BoardId, AgentId = agent.Id, Message = message,
        };
}
