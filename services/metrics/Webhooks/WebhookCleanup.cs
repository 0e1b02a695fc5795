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
        // Through the organization's subscriptions, so each step seeks an index (deliveries have none by organization).
        var subscriptions = db.WebhookSubscriptions.Where(s => s.OrganizationId == org).Select(s => s.Id);
        await db.WebhookDeliveries.Where(d => subscriptions.Contains(d.SubscriptionId)).DeleteWithAttemptsAsync(db, ct);
        await db.WebhookSubscriptions.Where(s => s.OrganizationId == org).ExecuteDeleteAsync(ct);
    }
}
