using System.Collections.Concurrent;
using MissionControl.Agents.Data;
using MissionControl.Messaging;

namespace MissionControl.Agents.Operations;

/// <summary>
/// Any authenticated agent request counts as being seen (reference §5.6), at most one write per agent
/// every <see cref="Resolution"/>: requests in between only read an in-memory timestamp.
/// </summary>
public sealed class Presence(IServiceScopeFactory scopes, TimeProvider time)
{
    public static readonly TimeSpan Resolution = TimeSpan.FromSeconds(30);
    private readonly ConcurrentDictionary<Guid, DateTime> _touched = new();

    public async Task TouchAsync(Guid agentId, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        if (_touched.TryGetValue(agentId, out var last) && now - last < Resolution) return;
        if (_touched.Count > 100_000) _touched.Clear();
        _touched[agentId] = now;

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AgentsDbContext>();
        var clock = scope.ServiceProvider.GetRequiredService<AgentClock>();
        await using var unit = await WriteUnit.BeginAsync(db, scope.ServiceProvider.GetRequiredService<DatabaseWriteGate>(), ct);
        var agent = await unit.LockAgentAsync(agentId, ct);
        if (agent is null || (agent.LastSeenAt is { } seen && now - seen < Resolution)) return;
        clock.MarkSeen(agent, now);
        var status = clock.StatusOf(agent, now);
        if (status != agent.PublishedStatus) Events.Updated(db, agent, status, ["status"], now);
        await unit.CommitAsync(ct);
    }

    /// <summary>Forget the in-memory timestamp (a heartbeat just wrote last_seen_at itself).</summary>
    public void Seen(Guid agentId) => _touched[agentId] = time.GetUtcNow().UtcDateTime;
}
