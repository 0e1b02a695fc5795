using MassTransit;
using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Tasks;
using MissionControl.GatewayBridge.Connections;
using MissionControl.GatewayBridge.Data;
using MissionControl.Messaging;

namespace MissionControl.GatewayBridge.Consumers;

/// <summary>A message for one agent's main session, whatever asked for it (a notification, a dispatched task).</summary>
public sealed record AgentMessage(Guid OrganizationId, Guid? BoardId, Guid AgentId, string Kind, string Message, bool Deliver, Guid? TaskId);

/// <summary>
/// Delivers messages into an agent's main session. The dispatch row is stored with the inbox row whatever
/// happens: a gateway that is away gets it when it is back, and the reply finds its task through it.
/// </summary>
public sealed class AgentMessenger(
    GatewayBridgeDbContext db, DatabaseWriteGate writes, GatewayConnections connections, TimeProvider time, ILogger<AgentMessenger> log)
{
    /// <param name="id">The dispatch id (the bus message's): a redelivery finds its row and sends nothing twice.</param>
    /// <param name="knownAgentsOnly">Drop messages for agents the bridge has no copy of, instead of waiting for them on the board's gateway.</param>
    public async Task DeliverAsync(Guid id, AgentMessage message, bool knownAgentsOnly, CancellationToken ct)
    {
        if (await db.Dispatches.AnyAsync(d => d.Id == id, ct)) return; // a redelivery: already stored (and sent or pending)

        var agent = await db.Agents.AsNoTracking().FirstOrDefaultAsync(a => a.Id == message.AgentId && a.OrganizationId == message.OrganizationId, ct);
        // A copy from AgentCreated/AgentUpdated (named) without a gateway is a custom agent: nothing to receive here
        // (the agents service calls it back, or it pulls). An unnamed copy is a provisioning placeholder.
        if ((agent is null && knownAgentsOnly) || agent is { GatewayId: null, Name.Length: > 0 })
        {
            log.LogInformation("Agent {AgentId} is not a gateway agent known here; {Kind} not sent", message.AgentId, message.Kind);
            return;
        }
        if (agent?.SessionKey is null || agent.GatewayId is null)
        {
            // Not on its gateway yet (a lead created for this very message, a run still going): the message
            // waits for the agent's provisioning to finish, which sends it.
            var waitingOn = agent?.GatewayId
                ?? (await db.Boards.AsNoTracking().FirstOrDefaultAsync(b => b.Id == message.BoardId && b.OrganizationId == message.OrganizationId, ct))?.GatewayId;
            if (waitingOn is null)
            {
                log.LogInformation("No gateway for agent {AgentId}; {Kind} not sent", message.AgentId, message.Kind);
                return;
            }
            db.Dispatches.Add(new Dispatch
            {
                Id = id, OrganizationId = message.OrganizationId, GatewayId = waitingOn.Value, AgentId = message.AgentId, BoardId = message.BoardId,
                TaskId = message.TaskId, Kind = message.Kind, Message = message.Message, Deliver = message.Deliver, State = Dispatching.AwaitingAgent,
                SentAt = time.GetUtcNow().UtcDateTime,
            });
            using (await writes.EnterAsync(ct))
                await db.SaveChangesAsync(ct);
            log.LogInformation("{Kind} {DispatchId} waits until agent {AgentId} is on its gateway", message.Kind, id, message.AgentId);
            return;
        }
        await DispatchStore.SendAsync(db, writes, connections, new Dispatch
        {
            Id = id, OrganizationId = message.OrganizationId, GatewayId = agent.GatewayId.Value, AgentId = agent.Id, BoardId = message.BoardId,
            TaskId = message.TaskId, SessionKey = agent.SessionKey, Kind = message.Kind, Message = message.Message, Deliver = message.Deliver,
            SentAt = time.GetUtcNow().UtcDateTime,
        }, log, ct);
    }
}

/// <summary>The tasks service's notifications (assignment, mentions, review, approvals, nudges), into the agent's main session.</summary>
public sealed class AgentNotificationConsumer(AgentMessenger messenger) : IConsumer<AgentNotificationRequested>
{
    public Task Consume(ConsumeContext<AgentNotificationRequested> context)
    {
        var m = context.Message;
        return messenger.DeliverAsync(context.MessageId ?? throw new InvalidOperationException("Message has no MessageId"),
            new AgentMessage(m.OrganizationId, m.BoardId, m.AgentId, m.Kind, m.Message, m.Deliver, m.TaskId), knownAgentsOnly: false, context.CancellationToken);
    }
}

/// <summary>
/// A task dispatched to a gateway agent (seed 000's dispatch, seed 002's run): its Message into the agent's
/// session, recorded as a task.dispatched dispatch. Agents the bridge does not know, and custom agents
/// (the agents service calls those back), are ignored.
/// </summary>
public sealed class TaskDispatchedConsumer(AgentMessenger messenger) : IConsumer<TaskDispatched>
{
    public Task Consume(ConsumeContext<TaskDispatched> context)
    {
        var m = context.Message;
        return messenger.DeliverAsync(context.MessageId ?? throw new InvalidOperationException("Message has no MessageId"),
            new AgentMessage(m.OrganizationId, m.BoardId, m.AgentId, m.Activity.EventType, m.Message, Deliver: false, m.Task.Id),
            knownAgentsOnly: true, context.CancellationToken);
    }
}

/// <summary>Board onboarding prompts go to the gateway-main agent of the board's gateway.</summary>
public sealed class OnboardingMessageConsumer(
    GatewayBridgeDbContext db, DatabaseWriteGate writes, GatewayConnections connections, TimeProvider time, ILogger<OnboardingMessageConsumer> log)
    : IConsumer<OnboardingMessageRequested>
{
    public async Task Consume(ConsumeContext<OnboardingMessageRequested> context)
    {
        var message = context.Message;
        var id = context.MessageId ?? throw new InvalidOperationException("Message has no MessageId");
        if (await db.Dispatches.AnyAsync(d => d.Id == id, context.CancellationToken)) return;
        var gatewayId = message.GatewayId
            ?? (await db.Boards.AsNoTracking().FirstOrDefaultAsync(b => b.Id == message.BoardId, context.CancellationToken))?.GatewayId;
        var main = gatewayId is null
            ? null
            : await db.Agents.AsNoTracking().FirstOrDefaultAsync(a => a.GatewayId == gatewayId && a.IsGatewayMain && a.OrganizationId == message.OrganizationId, context.CancellationToken);
        if (main?.SessionKey is null)
        {
            log.LogWarning("Board {BoardId} has no provisioned gateway-main agent; onboarding message not sent", message.BoardId);
            return;
        }
        await DispatchStore.SendAsync(db, writes, connections, new Dispatch
        {
            Id = id, OrganizationId = message.OrganizationId, GatewayId = gatewayId!.Value, AgentId = main.Id, BoardId = message.BoardId,
            SessionKey = main.SessionKey, Kind = "board.onboarding", Message = message.Message, SentAt = time.GetUtcNow().UtcDateTime,
        }, log, context.CancellationToken);
    }
}

public static class DispatchStore
{
    /// <summary>Stores the dispatch as pending, then sends it; the row's final state is saved either way.</summary>
    public static async Task SendAsync(
        GatewayBridgeDbContext db, DatabaseWriteGate writes, GatewayConnections connections, Dispatch dispatch, ILogger log, CancellationToken ct)
    {
        db.Dispatches.Add(dispatch);
        using (await writes.EnterAsync(ct))
            await db.SaveChangesAsync(ct);

        var gateway = await db.Gateways.AsNoTracking().FirstOrDefaultAsync(g => g.Id == dispatch.GatewayId, ct);
        if (gateway is null)
        {
            dispatch.State = "failed";
            dispatch.Error = "gateway_unknown";
        }
        else
        {
            try
            {
                await using var rpc = await connections.OpenAsync(gateway, ct);
                await Dispatching.TrySendAsync(rpc, dispatch, log, ct);
            }
            catch (OpenClaw.GatewayException e) when (Dispatching.IsTransient(e))
            {
                dispatch.Error = e.Message; // stays pending: sent when the gateway's session connects again
            }
        }
        using (await writes.EnterAsync(ct))
            await db.SaveChangesAsync(ct);
    }
}
