using Microsoft.EntityFrameworkCore;
using MissionControl.Agents.Data;
using MissionControl.Agents.Domain;
using MissionControl.Messaging;

namespace MissionControl.Agents.Operations;

/// <summary>
/// Every Agents:SweepInterval: runs past their deadline are retried (with backoff) or failed, due
/// retries are sent, and agents whose presence expired are announced offline (AgentUpdated).
/// Decisions use the TimeProvider, so tests move time forward; each agent is handled in its own
/// transaction under its row lock, so several instances can sweep at once.
/// </summary>
public sealed class ProvisionSweeper(IServiceScopeFactory scopes, AgentClock clock, ILogger<ProvisionSweeper> log) : BackgroundService
{
    private const int Batch = 100;

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(clock.Options.SweepInterval, ct);
                await SweepAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
            catch (Exception ex)
            {
                log.LogWarning(ex, "Agent sweep failed; trying again next interval");
            }
        }
    }

    public async Task SweepAsync(CancellationToken ct)
    {
        var now = clock.Now;
        List<Guid> runs, expired;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AgentsDbContext>();
            runs = await db.Agents.AsNoTracking()
                .Where(a => (a.Status == AgentStatus.Provisioning || a.Status == AgentStatus.Updating)
                            && (a.ProvisionRetryAt != null ? a.ProvisionRetryAt <= now : a.ProvisionDeadlineAt <= now))
                .OrderBy(a => a.Id).Select(a => a.Id).Take(Batch).ToListAsync(ct);
            expired = await db.Agents.AsNoTracking()
                .Where(a => a.PresenceExpiresAt <= now && a.PublishedStatus != AgentStatus.Offline && a.Status != AgentStatus.Provisioning
                            && a.Status != AgentStatus.Updating && a.Status != AgentStatus.ProvisionFailed)
                .OrderBy(a => a.Id).Select(a => a.Id).Take(Batch).ToListAsync(ct);
        }
        foreach (var id in runs) await OneAsync(id, now, (p, agent) => p.SweepAsync(agent, now, ct), ct);
        foreach (var id in expired)
            await OneAsync(id, now, (p, agent) =>
            {
                p.PublishIfChanged(agent, [], now);
                return Task.FromResult(true);
            }, ct);
    }

    private async Task OneAsync(Guid agentId, DateTime now, Func<Provisioning, Agent, Task<bool>> step, CancellationToken ct)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AgentsDbContext>();
            await using var unit = await WriteUnit.BeginAsync(db, scope.ServiceProvider.GetRequiredService<DatabaseWriteGate>(), ct);
            var agent = await unit.LockAgentAsync(agentId, ct);
            if (agent is null) return;
            if (await step(scope.ServiceProvider.GetRequiredService<Provisioning>(), agent)) await unit.CommitAsync(ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            log.LogDebug("Agent {AgentId} changed while being swept at {Now}; the next sweep looks again", agentId, now);
        }
    }
}
