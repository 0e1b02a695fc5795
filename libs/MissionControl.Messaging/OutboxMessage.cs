namespace MissionControl.Messaging;

/// <summary>An integration event waiting to be published, saved in the same transaction as the change.</summary>
public sealed class OutboxMessage
{
    public long Sequence { get; set; }
    public Guid MessageId { get; set; }
    public required string Type { get; set; }
    public required string Payload { get; set; }
    public DateTime OccurredAt { get; set; }
    public int Attempts { get; set; }
    public string? LastError { get; set; }
    /// <summary>Set when the row can never be published (unknown type, unreadable payload); kept for inspection.</summary>
    public DateTime? DeadAt { get; set; }

    /// <summary>
    /// The order this process queued its rows in (not stored): rows of one transaction are numbered, and
    /// so published, in that order, whatever order the change tracker lists them in.
    /// </summary>
    internal long QueuedOrder { get; init; }
}

/// <summary>A message a consumer has already handled: redeliveries of it are skipped.</summary>
public sealed class InboxMessage
{
    public Guid MessageId { get; set; }
    public required string Consumer { get; set; }
    public DateTime ProcessedAt { get; set; }
}
