using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts;

namespace MissionControl.Messaging;

public static class OutboxModel
{
    /// <summary>Maps the outbox and inbox tables into a service's own DbContext.</summary>
    public static ModelBuilder AddOutboxAndInbox(this ModelBuilder model)
    {
        model.Entity<OutboxMessage>(e =>
        {
            e.ToTable("outbox_messages");
            e.HasKey(m => m.Sequence);
            e.Property(m => m.Sequence).HasColumnName("sequence").ValueGeneratedOnAdd();
            e.Property(m => m.MessageId).HasColumnName("message_id");
            e.HasIndex(m => m.MessageId).IsUnique();
            e.Property(m => m.Type).HasColumnName("type").HasMaxLength(300);
            e.Property(m => m.Payload).HasColumnName("payload");
            e.Property(m => m.OccurredAt).HasColumnName("occurred_at");
            e.Property(m => m.Attempts).HasColumnName("attempts");
            e.Property(m => m.LastError).HasColumnName("last_error");
            e.Property(m => m.DeadAt).HasColumnName("dead_at");
        });
        model.Entity<InboxMessage>(e =>
        {
            e.ToTable("inbox_messages");
            e.HasKey(m => new { m.MessageId, m.Consumer });
            e.Property(m => m.MessageId).HasColumnName("message_id");
            e.Property(m => m.Consumer).HasColumnName("consumer").HasMaxLength(200);
            e.Property(m => m.ProcessedAt).HasColumnName("processed_at");
        });
        return model;
    }

    /// <summary>
    /// Queues an integration event in this context: it is written by the same SaveChanges as the
    /// state change, and published by the relay once that commit has happened.
    /// </summary>
    public static void AddIntegrationEvent<T>(this DbContext db, T evt) where T : class, IIntegrationEvent =>
        db.Set<OutboxMessage>().Add(new OutboxMessage
        {
            MessageId = NewId(),
            Type = typeof(T).FullName!,
            Payload = JsonSerializer.Serialize(evt, EventRouting.Json),
            OccurredAt = evt.OccurredAt.UtcDateTime,
            QueuedOrder = Interlocked.Increment(ref _queued),
        });

    private static long _queued;

    /// <summary>Time-ordered ids (v7) so ids sort like the events they name.</summary>
    private static Guid NewId() => Ids.NewVersion7();
}
