using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MissionControl.Messaging;

/// <summary>
/// Deletes what a service no longer needs (old, finished rows) in a background pass: first
/// <see cref="FirstDelay"/> after the start, then every <see cref="Interval"/>. A pass deletes chunk by chunk, each
/// chunk under the write gate, so writers never wait long; a pass that fails is logged and tried again later.
/// </summary>
public abstract class RetentionSweep(IServiceScopeFactory scopes, DatabaseWriteGate gate, TimeProvider clock, ILogger log) : BackgroundService
{
    /// <summary>
    /// Nothing expires in the first minute, and at start a pass's query compilation (about 0.2 s of CPU for the
    /// event log's, measured) would land on a service that is still getting healthy.
    /// </summary>
    protected virtual TimeSpan FirstDelay => TimeSpan.FromMinutes(1);

    protected virtual TimeSpan Interval => TimeSpan.FromHours(1);

    /// <summary>What a pass deletes, for the log: "events older than 30 days".</summary>
    protected abstract string What { get; }

    /// <summary>One pass: the number of rows deleted.</summary>
    public abstract Task<int> SweepAsync(CancellationToken ct);

    protected DateTime UtcNow => clock.GetUtcNow().UtcDateTime;

    protected IServiceScopeFactory Scopes => scopes;

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        await Task.Delay(FirstDelay, clock, ct);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var removed = await SweepAsync(ct);
                if (removed > 0) log.LogInformation("Retention removed {Count} {What}", removed, What);
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                log.LogWarning(ex, "Retention of {What} failed; trying again later", What);
            }
            await Task.Delay(Interval, clock, ct);
        }
    }

    /// <summary>
    /// Deletes, chunk after chunk, the rows <paramref name="next"/> names (a bounded query of keys, oldest first,
    /// that should seek an index), each chunk by <paramref name="delete"/> under the write gate, until a chunk
    /// comes back empty. Returns what <paramref name="delete"/> counted.
    /// </summary>
    protected async Task<int> DeleteInChunksAsync<TContext, TKey>(Func<TContext, IQueryable<TKey>> next,
        Func<TContext, List<TKey>, CancellationToken, Task<int>> delete, CancellationToken ct) where TContext : DbContext
    {
        var total = 0;
        while (true)
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<TContext>();
            var keys = await next(db).ToListAsync(ct);
            if (keys.Count == 0) return total;
            int deleted;
            using (await gate.EnterAsync(ct))
                deleted = await delete(db, keys, ct);
            total += deleted;
            if (deleted == 0) return total; // gone meanwhile, or not deletable: do not ask for the same chunk again
        }
    }
}
