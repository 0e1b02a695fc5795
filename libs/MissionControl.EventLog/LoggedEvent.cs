using System.Text.Json;
using MissionControl.InternalAuth;

namespace MissionControl.EventLog;

/// <summary>
/// One integration event as the metrics event log holds it. Seq is its position in the log: one total
/// order over every organization (so also per organization), and the id every SSE stream and webhook
/// cursor uses. Data is what clients see: the SSE payload and the webhook body's data.
/// </summary>
public sealed record LoggedEvent
{
    public required long Seq { get; init; }
    /// <summary>The integration event's message id (the log stores each one once).</summary>
    public required Guid Id { get; init; }
    public required Guid OrganizationId { get; init; }
    public Guid? BoardId { get; init; }
    public Guid? BoardGroupId { get; init; }
    public Guid? TaskId { get; init; }
    public Guid? AgentId { get; init; }
    /// <summary>The user who acted, when one did.</summary>
    public Guid? UserId { get; init; }
    /// <summary>Which stream it belongs to (<see cref="EventTopics"/>).</summary>
    public required string Topic { get; init; }
    /// <summary>The SSE event name (task, approval, memory, agent, …).</summary>
    public required string Name { get; init; }
    /// <summary>The activity type: task.created, task.status_changed, approval.resolved, agent.heartbeat, …</summary>
    public required string Type { get; init; }
    /// <summary>The human-readable activity message, when the event is an activity.</summary>
    public string? Message { get; init; }
    /// <summary>Who may see it (<see cref="EventAudiences"/>).</summary>
    public required string Audience { get; init; }
    public bool IsChat { get; init; }
    public required DateTime OccurredAt { get; init; }
    public required DateTime LoggedAt { get; init; }
    public required JsonElement Data { get; init; }
}

public static class EventTopics
{
    public const string Tasks = "tasks";
    public const string Approvals = "approvals";
    public const string Memory = "memory";
    public const string GroupMemory = "group-memory";
    public const string Agents = "agents";
    public const string Heartbeats = "heartbeats";
    /// <summary>What agents said in their gateway sessions.</summary>
    public const string Sessions = "sessions";
    public const string Boards = "boards";
    public const string Gateways = "gateways";
    public const string Tokens = "tokens";
    public const string Organization = "organization";
    public const string Webhooks = "webhooks";
    /// <summary>Service-to-service commands (provisioning runs, notifications): logged, never shown.</summary>
    public const string Internal = "internal";
}

/// <summary>Who may see a logged event, on a stream, in the activity feed or through a webhook.</summary>
public static class EventAudiences
{
    /// <summary>Readers of its board (an agent: its own board).</summary>
    public const string Board = "board";
    /// <summary>Its board group: organization admins and users who read every board.</summary>
    public const string Group = "group";
    /// <summary>Every user of the organization.</summary>
    public const string Organization = "organization";
    /// <summary>Organization admins.</summary>
    public const string Admins = "admins";
    /// <summary>Nobody outside the services (commands between services, anything carrying secrets' hashes).</summary>
    public const string Internal = "internal";

    public static bool CanSee(McPrincipal principal, Guid organizationId, string audience, Guid? boardId)
    {
        if (principal.OrganizationId != organizationId || audience == Internal) return false;
        if (principal.Kind == PrincipalKind.Agent)
            return audience == Board && boardId is { } agentBoard && principal.AgentBoardId == agentBoard;
        if (principal.Kind != PrincipalKind.User) return false;
        return audience switch
        {
            Board => principal.IsOrgAdmin || boardId is { } board && principal.CanReadBoard(board),
            Group => principal.IsOrgAdmin || principal.AllBoardsRead || principal.AllBoardsWrite,
            Organization => true,
            Admins => principal.IsOrgAdmin,
            _ => false,
        };
    }

    public static bool CanSee(McPrincipal principal, LoggedEvent e) => CanSee(principal, e.OrganizationId, e.Audience, e.BoardId);
}
