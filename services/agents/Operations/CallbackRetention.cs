using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using MissionControl.Agents.Data;
using MissionControl.Messaging;

namespace MissionControl.Agents.Operations;

/// <summary>
/// Callback deliveries that finished (delivered, failed, cancelled) more than Agents:CallbackRetentionDays ago
/// (30) are deleted; pending ones stay whatever their age. Each status is one range of the (status, created_at)
/// index. Without it the table kept every task ever dispatched to a custom agent, with its body.
/// </summary>
public sealed class CallbackRetention(IServiceScopeFactory scopes, DatabaseWriteGate gate, IOptions<AgentsOptions> options, TimeProvider clock,
    ILogger<CallbackRetention> log) : RetentionSweep(scopes, gate, clock, log)
{
    private static readonly string[] Finished = [CallbackStatus.Delivered, CallbackStatus.Failed, CallbackStatus.Cancelled];

    protected override string What => $"callback deliveries finished over {options.Value.CallbackRetentionDays} days ago";

    public override async Task<int> SweepAsync(CancellationToken ct)
    {
        var cutoff = UtcNow.AddDays(-options.Value.CallbackRetentionDays);
        var total = 0;
        foreach (var status in Finished)
            total += await DeleteInChunksAsync<AgentsDbContext, Guid>(
                db => db.CallbackDeliveries.Where(d => d.Status == status && d.CreatedAt < cutoff).OrderBy(d => d.CreatedAt).Select(d => d.Id).Take(500),
                (db, ids, c) => db.CallbackDeliveries.Where(d => ids.Contains(d.Id)).ExecuteDeleteAsync(c), ct);
        return total;
    }
}
