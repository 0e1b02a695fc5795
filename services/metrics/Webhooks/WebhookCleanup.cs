using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts;
using MissionControl.Contracts.Orgs;
using MissionControl.Metrics.Data;
using MissionControl.Metrics.EventLog;

namespace MissionControl.Metrics.Webhooks;

/// <summary>A deleted organization's webhooks go with it (their secrets, deliveries and attempts).</summary>
public sealed class WebhookCleanup : ILogProjection
{
    public async Task ApplyAsync(MetricsDbContext db, IIntegrationEvent message, LogEntry entry, CancellationToken ct)
    {
        if (message is not OrganizationDeleted deleted) return;
        var org = deleted.OrganizationId;
        // Through the organization's subscriptions and their deliveries' ids, so each step seeks an index
        // (deliveries have none by organization; a correlated EXISTS read every attempt).
        var subscriptions = db.WebhookSubscriptions.Where(s => s.OrganizationId == org).Select(s => s.Id);
        var deliveries = db.WebhookDeliveries.Where(d => subscriptions.Contains(d.SubscriptionId));
        await db.WebhookAttempts.Where(a => deliveries.Select(d => d.Id).Contains(a.DeliveryId)).ExecuteDeleteAsync(ct);
        await deliveries.ExecuteDeleteAsync(ct);
        await db.WebhookSubscriptions.Where(s => s.OrganizationId == org).ExecuteDeleteAsync(ct);
    }
}
