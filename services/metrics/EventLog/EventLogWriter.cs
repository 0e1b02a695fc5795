using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts;
using MissionControl.Messaging;
using MissionControl.Metrics.Data;

namespace MissionControl.Metrics.EventLog;

/// <summary>
/// A read model metrics keeps beside the log (token usage, task status history, name copies). It is
/// applied in the same transaction as the log row, so it holds exactly the logged events, once.
/// </summary>
public interface ILogProjection
{
    Task ApplyAsync(MetricsDbContext db, IIntegrationEvent message, LogEntry entry, CancellationToken ct);
}

/// <summary>
/// Appends integration events to the log: each one once (a redelivered message id changes nothing),
/// numbered from the single head row, whose row lock also makes concurrent writers on PostgreSQL
/// commit in sequence order, so a reader that tails by seq never skips a row committed late.
/// </summary>
public sealed class EventLogWriter(
    IServiceScopeFactory scopes, DatabaseWriteGate gate, RecentEvents recent, TimeProvider clock, ILogger<EventLogWriter> log)
{
    public async Task AppendAsync(IIntegrationEvent message, Guid messageId, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<MetricsDbContext>();
        var projections = scope.ServiceProvider.GetServices<ILogProjection>();
        LogEntry entry;
        using (await gate.EnterAsync(ct))
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            if (await db.Events.AnyAsync(e => e.EventId == messageId, ct)) return;

            entry = EventProjection.Project(message, messageId, clock.GetUtcNow().UtcDateTime);
            entry.Seq = await NextSeqAsync(db, ct);
            db.Events.Add(entry);
            foreach (var projection in projections) await projection.ApplyAsync(db, message, entry, ct);
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }
        log.LogDebug("Logged {Type} as {Seq}", entry.Type, entry.Seq);
        recent.Add(entry.ToLogged());
    }

    private static async Task<long> NextSeqAsync(MetricsDbContext db, CancellationToken ct)
    {
        var connection = db.Database.GetDbConnection();
        await using var command = connection.CreateCommand();
        command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
        command.CommandText = "UPDATE event_log_head SET last_seq = last_seq + 1 WHERE id = 1 RETURNING last_seq";
        return Convert.ToInt64(await command.ExecuteScalarAsync(ct));
    }
}
