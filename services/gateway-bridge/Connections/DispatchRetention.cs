using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using MissionControl.GatewayBridge.Data;
using MissionControl.Messaging;

namespace MissionControl.GatewayBridge.Connections;

/// <summary>
/// Messages to agents that are done with (sent, replied, failed) are deleted GatewayBridge:DispatchRetentionDays
/// (30) after they were sent; those still waiting (pending, awaiting_agent) stay. A reply correlates with its
/// dispatch within minutes, and a redelivered request is recognised within the broker's redelivery window, so
/// a month is far past both. Per gateway and state, each chunk is one range of the (gateway, state, sent_at) index.
/// </summary>
public sealed class DispatchRetention(IServiceScopeFactory scopes, DatabaseWriteGate gate, IOptions<BridgeOptions> options, TimeProvider clock,
    ILogger<DispatchRetention> log) : RetentionSweep(scopes, gate, clock, log)
{
    private static readonly string[] Finished = ["sent", "replied", "failed"];

    protected override string What => $"dispatches finished over {options.Value.DispatchRetentionDays} days ago";

    public override async Task<int> SweepAsync(CancellationToken ct)
    {
        var cutoff = UtcNow.AddDays(-options.Value.DispatchRetentionDays);
        List<Guid> gateways;
        await using (var scope = Scopes.CreateAsyncScope())
            // Of the dispatches rather than of the gateways: a deleted gateway's messages go too.
            gateways = await scope.ServiceProvider.GetRequiredService<GatewayBridgeDbContext>().Dispatches.Select(d => d.GatewayId).Distinct().ToListAsync(ct);
        var total = 0;
        foreach (var gateway in gateways)
            foreach (var state in Finished)
                total += await DeleteInChunksAsync<GatewayBridgeDbContext, Guid>(
                    db => db.Dispatches.Where(d => d.GatewayId == gateway && d.State == state && d.SentAt < cutoff).OrderBy(d => d.SentAt).Select(d => d.Id).Take(500),
                    (db, ids, c) => db.Dispatches.Where(d => ids.Contains(d.Id)).ExecuteDeleteAsync(c), ct);
        return total;
    }
}
