using MassTransit;
using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Tasks;
using MissionControl.GatewayBridge.Connections;
using MissionControl.GatewayBridge.Data;
using MissionControl.Messaging;

namespace MissionControl.GatewayBridge.Consumers;

/// <summary>
/// Delivers the tasks service's notifications (assignment, mentions, review, approvals, nudges) into the
/// agent's main session. The dispatch row is stored with the inbox row whatever happens: a gateway that is
/// away gets it when it is back, and the reply finds its task through it.
/// </summary>
public sealed class AgentNotificationConsumer(
    GatewayBridgeDbContext db, DatabaseWriteGate writes, GatewayConnections connections, TimeProvider time, ILogger<AgentNotificationConsumer> log)
    : IConsumer<AgentNotificationRequested>
{
    public async Task Consume(ConsumeContext<AgentNotificationRequested> context)
    {
        var message = context.Message;
        var id = context.MessageId ?? throw new InvalidOperationException("Message has no MessageId");
        if (await db.Dispatches.AnyAsync(d => d.Id == id, context.CancellationToken)) return; // a redelivery: already stored (and sent or pending)

        var agent = await db.Agents.AsNoTracking().FirstOrDefaultAsync(a => a.Id == message.AgentId && a.OrganizationId == message.OrganizationId, context.CancellationToken);
        if (agent?.SessionKey is null || agent.GatewayId is null)
        {
            // Not on its gateway yet (a lead created for this very message, a run still going): the message
            // waits for the agent's provisioning to finish, which sends it. Agents with no gateway at all
            // (custom agents) have nothing to receive here.
            var waitingOn = agent?.GatewayId
                ?? (await db.Boards.AsNoTracking().FirstOrDefaultAsync(b => b.Id == message.BoardId && b.OrganizationId == message.OrganizationId, context.CancellationToken))?.GatewayId;
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
            using (await writes.EnterAsync(context.CancellationToken))
                await db.SaveChangesAsync(context.CancellationToken);
            log.LogInformation("{Kind} {DispatchId} waits until agent {AgentId} is on its gateway", message.Kind, id, message.AgentId);
            return;
        }
        var gatewayId = agent.GatewayId!.Value;
        await DispatchStore.SendAsync(db, writes, connections, new Dispatch
        {
            Id = id, OrganizationId = message.OrganizationId, GatewayId = gatewayId, AgentId = agent.Id, BoardId = message.BoardId, TaskId = message.TaskId,
            SessionKey = agent.SessionKey, Kind = message.Kind, Message = message.Message, Deliver = message.Deliver, SentAt = time.GetUtcNow().UtcDateTime,
        }, log, context.CancellationToken);
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
