using MassTransit;
using Microsoft.Extensions.Hosting;
using MissionControl.Contracts;
using MissionControl.Contracts.Orgs;
using MissionControl.Contracts.Tasks;
using MissionControl.Messaging;

namespace MissionControl.UnitTests;

/// <summary>Which events go out on their own exchange and which in batches to the event log, and the guard that keeps that true.</summary>
public sealed class EventRoutingTests
{
    private sealed class TaskCreatedConsumer : IConsumer<TaskCreated>
    {
        public Task Consume(ConsumeContext<TaskCreated> context) => Task.CompletedTask;
    }

    private sealed class BoardCreatedConsumer : IConsumer<BoardCreated>
    {
        public Task Consume(ConsumeContext<BoardCreated> context) => Task.CompletedTask;
    }

    private static HostApplicationBuilder Builder()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration["ConnectionStrings:messaging"] = "amqp://guest:guest@127.0.0.1:5672";
        return builder;
    }

    [Fact]
    public void A_service_that_consumes_an_event_only_the_log_reads_does_not_start()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Builder().AddMissionControlBus("test", x => x.AddConsumer<TaskCreatedConsumer>()));
        Assert.Contains("TaskCreated", error.Message);
        Assert.Contains(nameof(EventRouting.ConsumedByType), error.Message);
    }

    [Fact]
    public void A_consumer_of_an_event_consumed_by_type_is_accepted()
    {
        var builder = Builder().AddMissionControlBus("test", x => x.AddConsumer<BoardCreatedConsumer>());
        Assert.NotNull(builder);
    }

    [Fact]
    public void Task_changes_travel_in_batches_and_board_changes_on_their_own()
    {
        Assert.True(EventRouting.IsLogOnly(typeof(TaskCreated)));
        Assert.True(EventRouting.IsLogOnly(typeof(TaskUpdated)));
        Assert.False(EventRouting.IsLogOnly(typeof(BoardCreated)));
        Assert.False(EventRouting.IsLogOnly(typeof(TaskTagsChanged)));
        Assert.False(EventRouting.IsLogOnly(typeof(EventBatch))); // not an event of its own
    }

    [Fact]
    public void A_batched_event_reads_back_as_its_own_type_and_an_unknown_one_as_nothing()
    {
        var now = DateTimeOffset.UtcNow;
        var created = new TaskCreated
        {
            OrganizationId = Guid.NewGuid(), BoardId = Guid.NewGuid(), OccurredAt = now,
            Task = new TaskSnapshot { Id = Guid.NewGuid(), BoardId = Guid.NewGuid(), Title = "t", Status = "inbox", Priority = "low", CreatedAt = now, UpdatedAt = now },
            Activity = new ActivityInfo { Id = Guid.NewGuid(), EventType = "task.created", CreatedAt = now },
        };
        var json = System.Text.Json.JsonSerializer.SerializeToElement(created, EventRouting.Json);
        var read = Assert.IsType<TaskCreated>(EventRouting.Read(new BatchedEvent(Guid.NewGuid(), typeof(TaskCreated).FullName!, json)));
        Assert.Equal(created.Task.Id, read.Task.Id);
        Assert.Null(EventRouting.Read(new BatchedEvent(Guid.NewGuid(), "No.Such.Event", json)));
        Assert.Null(EventRouting.Read(new BatchedEvent(Guid.NewGuid(), typeof(TaskCreated).FullName!, System.Text.Json.JsonSerializer.SerializeToElement(42))));
    }
}
