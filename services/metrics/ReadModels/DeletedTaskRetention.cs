using Microsoft.EntityFrameworkCore;
using MissionControl.Messaging;
using MissionControl.Metrics.Dashboard;
using MissionControl.Metrics.Data;

namespace MissionControl.Metrics.ReadModels;

/// <summary>
/// Forgets a deleted task, its state and its status history, once no dashboard window can reach its deletion:
/// the longest range and the comparison window before it (two years), and a day for clocks that differ.
/// Until then the dashboard needs both (a task deleted in a window still counted in it). Without this sweep
/// the two tables kept every task the organization ever deleted, with each of its transitions.
/// Live tasks keep their whole history: it is theirs, and it grows only when they move.
/// </summary>
public sealed class DeletedTaskRetention(IServiceScopeFactory scopes, DatabaseWriteGate gate, TimeProvider clock, ILogger<DeletedTaskRetention> log)
    : RetentionSweep(scopes, gate, clock, log)
{
    public static readonly TimeSpan Kept = DashboardRange.All.Max(r => r.Duration) * 2 + TimeSpan.FromDays(1);

    protected override string What => $"tasks deleted over {Kept.TotalDays} days ago (states and status histories)";

    /// <summary>One pass; returns the number of tasks forgotten.</summary>
    public override Task<int> SweepAsync(CancellationToken ct)
    {
        var cutoff = UtcNow - Kept;
        // The partial index of deletion times (deleted tasks only), oldest first.
        return DeleteInChunksAsync<MetricsDbContext, Guid>(
            db => db.TaskStates.Where(t => t.DeletedAt != null && t.DeletedAt < cutoff).OrderBy(t => t.DeletedAt).Select(t => t.Id).Take(500),
            async (db, ids, c) =>
            {
                await using var tx = await db.Database.BeginTransactionAsync(c);
                await db.TaskStatusHistory.Where(h => ids.Contains(h.TaskId)).ExecuteDeleteAsync(c);
                var forgotten = await db.TaskStates.Where(t => ids.Contains(t.Id)).ExecuteDeleteAsync(c);
                await tx.CommitAsync(c);
                return forgotten;
            }, ct);
    }
}
