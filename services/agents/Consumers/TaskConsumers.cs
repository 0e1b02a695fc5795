using Microsoft.EntityFrameworkCore;
using MissionControl.Agents.Data;
using MissionControl.Agents.Operations;
using MissionControl.Contracts.Tasks;
using MissionControl.Messaging;

namespace MissionControl.Agents.Consumers;

/// <summary>
/// A task dispatched to a custom agent with a callbackUrl: a callback delivery, stored with the inbox row
/// (so a redelivery queues nothing twice) and sent by the CallbackSender. Gateway agents get the task from
/// the gateway-bridge (chat.send); custom agents without a callbackUrl pull it from GET /api/tasks/queue.
/// </summary>
public sealed class TaskDispatchedConsumer(AgentsDbContext db, DatabaseWriteGate writes, AgentClock clock, CallbackSender sender)
    : IdempotentConsumer<TaskDispatched, AgentsDbContext>(db, writes)
{
    protected override async Task Handle(TaskDispatched message, CancellationToken ct)
    {
        var agent = await Db.Agents.AsNoTracking().FirstOrDefaultAsync(a => a.Id == message.AgentId && a.OrganizationId == message.OrganizationId, ct);
        if (agent is not { IsCustom: true, CallbackUrl: not null }) return;
        var id = Guid.NewGuid();
        Db.CallbackDeliveries.Add(new CallbackDelivery
        {
            Id = id, OrganizationId = agent.OrganizationId, AgentId = agent.Id, Event = CallbackSender.TaskDispatchedEvent,
            Body = CallbackSender.Body(id, message), Status = CallbackStatus.Pending, NextAttemptAt = clock.Now,
            // Arrival order (wall clock, so deliveries queued at one simulated instant still keep theirs).
            CreatedAt = DateTime.UtcNow,
        });
        sender.Wake(); // may look before this commits: then the next poll finds it
    }
}
