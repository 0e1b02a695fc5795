using Microsoft.EntityFrameworkCore;
using MissionControl.Metrics.Data;

namespace MissionControl.Metrics.Webhooks;

/// <summary>An organization's outbound webhook: where to POST, which event types, and where in the log it is.</summary>
public sealed class WebhookSubscription
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public required string Url { get; set; }
    /// <summary>Patterns, one per line: "*", an exact type, or "prefix.*".</summary>
    public required string Events { get; set; }
    public string? Description { get; set; }
    public bool Enabled { get; set; }
    /// <summary>Why it is disabled when the system disabled it (circuit_open); null otherwise.</summary>
    public string? DisabledReason { get; set; }
    public int ConsecutiveFailures { get; set; }
    /// <summary>The secret, encrypted with Data Protection (it is needed in clear to sign).</summary>
    public required string ProtectedSecret { get; set; }
    /// <summary>The seq of the last log event this subscription finished (delivered, or skipped as not matching).</summary>
    public long Cursor { get; set; }
    /// <summary>The metrics instance delivering it now, until LeaseUntil.</summary>
    public string? LeaseOwner { get; set; }
    public DateTime? LeaseUntil { get; set; }
    public Guid? CreatedBy { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }

    public IReadOnlyList<string> Patterns => WebhookEvents.Split(Events);
}

public static class WebhookDeliveryStatus
{
    public const string Pending = "pending";
    public const string Retrying = "retrying";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
}

public static class WebhookDeliveryKinds
{
    /// <summary>The subscription's ordered stream: retried on the schedule, then the circuit opens.</summary>
    public const string Event = "event";
    /// <summary>POST …/test: one attempt, at once.</summary>
    public const string Test = "test";
    /// <summary>POST …/redeliver: one attempt, out of order.</summary>
    public const string Redelivery = "redelivery";
}

/// <summary>One event sent (or being sent) to one webhook, with its attempts.</summary>
public sealed class WebhookDelivery
{
    public Guid Id { get; set; }
    public Guid SubscriptionId { get; set; }
    public Guid OrganizationId { get; set; }
    public Guid EventId { get; set; }
    public required string EventType { get; set; }
    public long? Seq { get; set; }
    public required string Kind { get; set; }
    public required string Status { get; set; }
    /// <summary>The JSON body sent ({id, event, timestamp, data}); the same bytes on every attempt.</summary>
    public required string Body { get; set; }
    public int AttemptCount { get; set; }
    public DateTime? NextRetryAt { get; set; }
    public Guid? RedeliveryOf { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? CompletedAt { get; set; }
    public List<WebhookAttempt> Attempts { get; set; } = [];
}

public sealed class WebhookAttempt
{
    public Guid Id { get; set; }
    public Guid DeliveryId { get; set; }
    public int Number { get; set; }
    public int? StatusCode { get; set; }
    public long LatencyMs { get; set; }
    public string? Error { get; set; }
    public DateTime AttemptedAt { get; set; }
}

public static class WebhookModel
{
    /// <summary>Called once from MetricsDbContext.OnModelCreating.</summary>
    public static void Configure(ModelBuilder model)
    {
        model.Entity<WebhookSubscription>(e =>
        {
            e.ToTable("webhook_subscriptions");
            e.Property(x => x.Id).ValueGeneratedNever();
            e.HasIndex(x => new { x.OrganizationId, x.CreatedAt });
            e.HasIndex(x => x.Enabled);
            e.Property(x => x.Url).HasMaxLength(2048);
            e.Property(x => x.Events).HasMaxLength(4000);
            e.Property(x => x.Description).HasMaxLength(2000);
            e.Property(x => x.DisabledReason).HasMaxLength(32);
            e.Property(x => x.LeaseOwner).HasMaxLength(100);
            e.Ignore(x => x.Patterns);
        });
        model.Entity<WebhookDelivery>(e =>
        {
            e.ToTable("webhook_deliveries");
            e.Property(x => x.Id).ValueGeneratedNever();
            e.HasIndex(x => new { x.SubscriptionId, x.CreatedAt });
            e.HasIndex(x => new { x.SubscriptionId, x.Status });
            e.Property(x => x.EventType).HasMaxLength(80);
            e.Property(x => x.Kind).HasMaxLength(16);
            e.Property(x => x.Status).HasMaxLength(16);
            e.HasMany(x => x.Attempts).WithOne().HasForeignKey(a => a.DeliveryId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<WebhookSubscription>().WithMany().HasForeignKey(x => x.SubscriptionId).OnDelete(DeleteBehavior.Cascade);
        });
        model.Entity<WebhookAttempt>(e =>
        {
            e.ToTable("webhook_delivery_attempts");
            e.Property(x => x.Id).ValueGeneratedNever();
            e.HasIndex(x => new { x.DeliveryId, x.Number });
            e.Property(x => x.Error).HasMaxLength(500);
        });
    }

    /// <summary>
    /// Deletes these deliveries and their attempts (bulk statements: the database's cascade would need the rows
    /// loaded). The attempts go by IN (the deliveries' ids), which seeks their delivery index; a correlated
    /// EXISTS read every attempt of every webhook.
    /// </summary>
    public static async Task DeleteWithAttemptsAsync(this IQueryable<WebhookDelivery> deliveries, MetricsDbContext db, CancellationToken ct)
    {
        await db.WebhookAttempts.Where(a => deliveries.Select(d => d.Id).Contains(a.DeliveryId)).ExecuteDeleteAsync(ct);
        await deliveries.ExecuteDeleteAsync(ct);
    }
}
