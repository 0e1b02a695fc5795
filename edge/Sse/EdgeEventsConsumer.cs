using System.Text.Json;
using MassTransit;
using MissionControl.Contracts.Orgs;
using MissionControl.Contracts.Tasks;
using MissionControl.Edge.Auth;

namespace MissionControl.Edge.Sse;

/// <summary>
/// Every edge instance gets every event on its own temporary queue: task events feed the SSE hub,
/// membership events drop cached principals.
/// </summary>
public sealed class EdgeEventsConsumer(SseHub hub, PrincipalResolver principals) :
    IConsumer<TaskCreated>, IConsumer<OrganizationCreated>, IConsumer<MemberChanged>
{
    public const string TasksTopic = "tasks";

    public Task Consume(ConsumeContext<TaskCreated> context)
    {
        var evt = context.Message;
        hub.Publish(new SseEvent(context.MessageId ?? Guid.NewGuid(), evt.OrganizationId, evt.BoardId, TasksTopic, "task",
            JsonSerializer.SerializeToUtf8Bytes(new { type = "task.created", task = evt.Task }, JsonDefaults.Api)));
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<OrganizationCreated> context)
    {
        principals.InvalidateAll();
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<MemberChanged> context)
    {
        principals.InvalidateAll();
        return Task.CompletedTask;
    }
}
