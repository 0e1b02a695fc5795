using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Tasks;
using MissionControl.Messaging;
using MissionControl.Tasks.Data;

namespace MissionControl.Tasks.Tests;

/// <summary>
/// On PostgreSQL several instances of a service share one database: a relay must skip the outbox
/// rows another relay has claimed (and neither publish them twice nor wait for them).
/// </summary>
[Collection(InfrastructureCollection.Collection)]
public sealed class OutboxClaimTests(BrokerFixture broker, PostgresFixture postgres)
{
    private static TaskCreated Event(string title) => OutboxEvents.TaskCreated(title);

    [Fact]
    public async Task A_relay_skips_rows_another_instance_holds_and_publishes_them_once_released()
    {
        var cs = postgres.ConnectionStringForNewDatabase("tasks_claim");
        var options = new DbContextOptionsBuilder<PostgresTasksDbContext>().UseNpgsql(cs).UseSnakeCaseNamingConvention().Options;
        var held = Event("held by another relay");
        var free = Event("free to publish");
        await using (var setup = new PostgresTasksDbContext(options))
        {
            await setup.Database.MigrateAsync();
            setup.AddIntegrationEvent(held);
            setup.AddIntegrationEvent(free);
            await setup.SaveChangesAsync();
        }
        await using var probe = await BusProbe.StartAsync(broker.ConnectionString, typeof(TaskCreated));

        // "Another instance" claims the first row the way a relay does, and keeps its transaction open.
        await using var other = new PostgresTasksDbContext(options);
        await using var otherClaim = await other.Database.BeginTransactionAsync();
        var claimed = await other.Set<OutboxMessage>()
            .FromSql($"SELECT * FROM outbox_messages WHERE payload LIKE {"%held by another relay%"} FOR UPDATE").ToListAsync();
        Assert.Single(claimed);

        await using var tasks = new ServiceFactory<Program>(new Dictionary<string, string?>
        {
            ["ConnectionStrings:messaging"] = broker.ConnectionString,
            ["ConnectionStrings:tasksdb"] = cs,
            ["services:orgs:http:0"] = "http://127.0.0.1:9",
        });
        // Starts the host, and with it the relay; waiting for health lets the consumers finish starting too,
        // so stopping the host later leaves none of them behind on the shared queues.
        await tasks.CreateClient().WaitHealthyAsync();

        await probe.WaitForAsync<TaskCreated>(e => e.Task.Id == free.Task.Id, TimeSpan.FromSeconds(30));
        await Task.Delay(1500); // more than a relay poll interval
        Assert.Empty(probe.Received<TaskCreated>(e => e.Task.Id == held.Task.Id));

        await otherClaim.RollbackAsync(); // the other instance died without publishing
        await probe.WaitForAsync<TaskCreated>(e => e.Task.Id == held.Task.Id, TimeSpan.FromSeconds(30));
        await Task.Delay(1500);
        Assert.Single(probe.Received<TaskCreated>(e => e.Task.Id == held.Task.Id));
        Assert.Single(probe.Received<TaskCreated>(e => e.Task.Id == free.Task.Id));
    }
}
