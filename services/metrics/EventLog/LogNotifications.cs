using Microsoft.EntityFrameworkCore;
using MissionControl.Metrics.Data;
using Npgsql;

namespace MissionControl.Metrics.EventLog;

/// <summary>
/// With several metrics instances (PostgreSQL), one writes the log: the event-log queue has a single
/// active consumer. The others serve feeds too (an edge follows whichever instance it reached), and learn
/// of the writer's batches here: the writer's transaction sends a NOTIFY with the new head, which
/// PostgreSQL delivers when it commits, and this instance's feeds and webhook dispatcher wake and read the
/// database. Without it they found another instance's events at their next poll, about 250 ms later
/// (measured through the edge at --replicas 2). The poll stays, for a notification missed while this
/// listener reconnects. On SQLite (one instance) it does nothing.
/// </summary>
public sealed class LogNotifications(IServiceScopeFactory scopes, RecentEvents recent, ILogger<LogNotifications> log) : BackgroundService
{
    public const string Channel = "mc_event_log";

    /// <summary>Signs this instance's notifications, so it ignores its own: its feeds have those batches in memory.</summary>
    public string InstanceId { get; } = Guid.NewGuid().ToString("N");

    /// <summary>The payload the writer sends: the new head, then the writer's <see cref="InstanceId"/>.</summary>
    private static (long Head, string Instance)? Parse(string payload)
    {
        var space = payload.IndexOf(' ');
        return space > 0 && long.TryParse(payload.AsSpan(0, space), out var head) ? (head, payload[(space + 1)..]) : null;
    }

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        string? connectionString;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<MetricsDbContext>();
            if (!db.Database.IsNpgsql()) return;
            connectionString = db.Database.GetConnectionString();
        }
        var delay = TimeSpan.FromMilliseconds(200);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync(ct);
                connection.Notification += (_, e) =>
                {
                    if (Parse(e.Payload) is { } n && n.Instance != InstanceId) recent.LoggedElsewhere(n.Head);
                };
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection)) await listen.ExecuteNonQueryAsync(ct);
                delay = TimeSpan.FromMilliseconds(200);
                while (true) await connection.WaitAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
            catch (Exception ex)
            {
                log.LogWarning("Event log notifications unavailable ({Error}); retrying in {Delay} ms", ex.Message, (int)delay.TotalMilliseconds);
                try { await Task.Delay(delay, ct); } catch (OperationCanceledException) { }
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 5000));
            }
        }
    }
}
