using MissionControl.GatewayBridge.Data;
using MissionControl.GatewayBridge.OpenClaw;

namespace MissionControl.GatewayBridge.Connections;

/// <summary>Sending one stored message into its agent's session.</summary>
public static class Dispatching
{
    /// <summary>A message for an agent that is not on its gateway yet; its provisioning run sends it.</summary>
    public const string AwaitingAgent = "awaiting_agent";

    /// <summary>The messages waiting for <paramref name="agentId"/> to be on its gateway, oldest first.</summary>
    public static IQueryable<Dispatch> AwaitingAgentOf(GatewayBridgeDbContext db, Guid agentId) =>
        db.Dispatches.Where(d => d.AgentId == agentId && d.State == AwaitingAgent).OrderBy(d => d.SentAt);

    /// <summary>
    /// chat.send with the dispatch id as idempotency key (the gateway answers a repeat with the same run),
    /// so sending again after a crash or a redelivery never produces a second turn. A gateway that cannot be
    /// reached leaves the dispatch pending; a refusal marks it failed.
    /// </summary>
    public static async Task<bool> TrySendAsync(IGatewayRpc rpc, Dispatch dispatch, ILogger log, CancellationToken ct)
    {
        try
        {
            await GatewayChat.SendAsync(rpc, dispatch.SessionKey, dispatch.Message, dispatch.Id.ToString(), dispatch.Deliver, ct);
            dispatch.State = "sent";
            dispatch.Error = null;
            log.LogInformation("Sent {Kind} {DispatchId} to {SessionKey}", dispatch.Kind, dispatch.Id, dispatch.SessionKey);
            return true;
        }
        catch (GatewayException e) when (IsTransient(e))
        {
            log.LogInformation("Message {DispatchId} for {SessionKey} waits for the gateway: {Code}", dispatch.Id, dispatch.SessionKey, e.Code);
            dispatch.State = "pending";
            dispatch.Error = e.Message;
            return false;
        }
        catch (GatewayException e)
        {
            log.LogWarning("Gateway refused message {DispatchId} for {SessionKey}: {Code} {Message}", dispatch.Id, dispatch.SessionKey, e.Code, e.Message);
            dispatch.State = "failed";
            dispatch.Error = $"{e.Code}: {e.Message}";
            return true;
        }
    }

    /// <summary>Network loss, timeouts, a gateway starting or restarting: worth trying again later.</summary>
    public static bool IsTransient(GatewayException e) =>
        e.Retryable || e.Code is "gateway_unreachable" or "timeout" or "connection_closed" or "UNAVAILABLE";
}
