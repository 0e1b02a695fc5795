using System.Text.Json;
using Microsoft.Data.Sqlite;
using MissionControl.LocalServers;

namespace MissionControl.EndToEnd.Tests;

/// <summary>
/// The event log's batches go out transient (the broker confirms them without writing them to disk), and the
/// publisher keeps their outbox rows until metrics reports them logged. A broker that restarts loses what it
/// held in memory: here metrics is down while tasks are created, so the broker holds their events when it
/// restarts, and the tasks service, its bus reconnected, publishes them again. Nothing is lost and the log has
/// each event once, in the order of the writes. The system runs on a broker of the test's own.
/// </summary>
[Collection(SystemCollection.Collection)]
public sealed class BrokerRestartTests
{
    [Fact]
    public async Task Events_a_restarted_broker_lost_are_published_again_and_logged_once_in_order()
    {
        var workDir = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"mc-test-broker-restart-{Guid.NewGuid():N}"[..40])).FullName;
        var broker = await RabbitMqServer.StartAsync(workDir);
        try
        {
            await using var system = await EdgeSystem.StartAsync(broker.ConnectionString);
            var admin = system.Admin;
            var board = await EdgeSystem.BoardAsync(admin);
            var created = new List<Guid>();
            for (var i = 0; i < 3; i++) created.Add(await EdgeSystem.CreateAsync(admin, $"/api/v1/boards/{board}/tasks", new { title = $"before {i}" }));
            await EdgeSystem.EventuallyAsync(async () => (await LoggedAsync(admin, created)).Count == 3, TimeSpan.FromSeconds(15), "the first tasks logged");
            // The log's reports come back, and the rows go.
            await EdgeSystem.EventuallyAsync(() => Task.FromResult(OutboxRows(system) == 0), TimeSpan.FromSeconds(10), "the tasks outbox emptied");

            await system.KillAsync("metrics");
            for (var i = 0; i < 10; i++) created.Add(await EdgeSystem.CreateAsync(admin, $"/api/v1/boards/{board}/tasks", new { title = $"while the log is down {i}" }));
            await Task.Delay(1500); // several delete intervals and a poll: the rows wait for the log's report
            Assert.True(OutboxRows(system) >= 10, $"{OutboxRows(system)} outbox rows kept for the log");

            broker = await broker.StartAgainAsync(); // same port and data: the queues survive, the transient messages do not
            await system.RestartAsync("metrics");
            await EdgeSystem.EventuallyAsync(async () => (await LoggedAsync(admin, created)).Count == created.Count, TimeSpan.FromSeconds(30),
                "every task's creation logged after the restart");

            Assert.Equal(created, await LoggedAsync(admin, created)); // once each, in the order of the writes
            Assert.Contains("the bus lost its broker connection", system.Log("tasks"));
            await EdgeSystem.EventuallyAsync(() => Task.FromResult(OutboxRows(system) == 0), TimeSpan.FromSeconds(10), "the tasks outbox emptied again");
        }
        finally
        {
            await broker.DisposeAsync();
            Directory.Delete(workDir, recursive: true);
        }
    }

    /// <summary>The tasks of <paramref name="tasks"/> whose task.created is in the log, in log order (repeats kept).</summary>
    private static async Task<List<Guid>> LoggedAsync(HttpClient admin, List<Guid> tasks) =>
        (await EdgeSystem.EventsAsync(admin, "task.created"))
            .Where(e => e.TryGetProperty("task_id", out var id) && id.ValueKind == JsonValueKind.String && tasks.Contains(id.GetGuid()))
            .Select(e => e.GetProperty("task_id").GetGuid()).ToList();

    private static long OutboxRows(EdgeSystem system)
    {
        using var db = new SqliteConnection($"Data Source={Path.Combine(system.WorkDir, "tasks.db")};Mode=ReadOnly;Pooling=false");
        db.Open();
        using var count = db.CreateCommand();
        count.CommandText = "SELECT count(*) FROM outbox_messages WHERE dead_at IS NULL";
        return (long)count.ExecuteScalar()!;
    }
}
