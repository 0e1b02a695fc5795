using System.Text.Json;
using MissionControl.EventLog;

namespace MissionControl.Metrics.EventLog;

/// <summary>A row of the event log (table events). See <see cref="LoggedEvent"/> for what each column means.</summary>
public sealed class LogEntry
{
    public long Seq { get; set; }
    public Guid EventId { get; set; }
    public Guid OrganizationId { get; set; }
    public Guid? BoardId { get; set; }
    public Guid? BoardGroupId { get; set; }
    public Guid? TaskId { get; set; }
    public Guid? AgentId { get; set; }
    public Guid? UserId { get; set; }
    public required string Topic { get; set; }
    public required string Name { get; set; }
    public required string Type { get; set; }
    public string? Message { get; set; }
    public required string Audience { get; set; }
    public bool IsChat { get; set; }
    public DateTime OccurredAt { get; set; }
    public DateTime LoggedAt { get; set; }
    /// <summary>JSON: the payload clients see.</summary>
    public required string Data { get; set; }

    public LoggedEvent ToLogged() => new()
    {
        Seq = Seq, Id = EventId, OrganizationId = OrganizationId, BoardId = BoardId, BoardGroupId = BoardGroupId,
        TaskId = TaskId, AgentId = AgentId, UserId = UserId, Topic = Topic, Name = Name, Type = Type, Message = Message,
        Audience = Audience, IsChat = IsChat, OccurredAt = OccurredAt, LoggedAt = LoggedAt,
        Data = JsonDocument.Parse(Data).RootElement.Clone(),
    };
}

/// <summary>The last sequence number handed out (one row). Its row lock orders concurrent writers on PostgreSQL.</summary>
public sealed class LogHead
{
    public int Id { get; set; }
    public long LastSeq { get; set; }
}
