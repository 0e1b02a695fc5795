using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Agents;
using MissionControl.GatewayBridge.Connections;
using MissionControl.GatewayBridge.Data;
using MissionControl.GatewayBridge.OpenClaw;
using MissionControl.InternalAuth;
using MissionControl.Messaging;

namespace MissionControl.GatewayBridge.Consumers;

/// <summary>
/// Runs one provisioning request on the gateway and answers AgentProvisioned or AgentProvisioningFailed.
/// The answer is written with the inbox row, so a run interrupted by a crash is redelivered and repeated
/// (agents.create tolerates the agent already being there), and a repeated message is answered once.
/// </summary>
public sealed partial class AgentProvisioningConsumer(
    GatewayBridgeDbContext db, DatabaseWriteGate writes, GatewayConnections connections, TimeProvider time, ILogger<AgentProvisioningConsumer> log)
    : IdempotentConsumer<AgentProvisioningRequested, GatewayBridgeDbContext>(db, writes)
{
    [GeneratedRegex(@"AUTH_TOKEN=(mca_[A-Za-z0-9_\-]+)")]
    private static partial Regex WrittenToken();

    protected override async Task Handle(AgentProvisioningRequested message, CancellationToken ct)
    {
        // The request can overtake the AgentCreated event (different queues): the copy starts from it then.
        var agent = await AgentCopies.EnsureAsync(Db, message.AgentId, message.OrganizationId, ct);
        agent.BoardId ??= message.BoardId;
        agent.IsGatewayMain = agent.IsGatewayMain || message.BoardId is null;
        if (message.Generation < agent.ProvisionGeneration)
        {
            log.LogInformation("Skipping stale provisioning run {Generation} of agent {AgentId} (now at {Current})", message.Generation, message.AgentId, agent.ProvisionGeneration);
            return;
        }
        agent.ProvisionGeneration = message.Generation;
        agent.SessionKey = message.SessionKey;
        agent.GatewayId = message.GatewayId;

        var gateway = await Db.Gateways.AsNoTracking().FirstOrDefaultAsync(g => g.Id == message.GatewayId && g.OrganizationId == message.OrganizationId, ct);
        if (gateway is null)
        {
            Fail(message, "gateway_unknown", "The agent's gateway is not registered (deleted, or of another organization).", retryable: false);
            return;
        }

        var started = Stopwatch.GetTimestamp();
        var workspace = $"{gateway.WorkspaceRoot.TrimEnd('/')}/workspace-{message.GatewayAgentId}";
        try
        {
            await using var rpc = await connections.OpenAsync(gateway, ct);
            var token = message.IssueToken ? null : await ReadWrittenTokenAsync(rpc, message.GatewayAgentId, ct);
            token ??= AgentTokens.New();
            var files = message.Files.ToDictionary(
                f => f.Key,
                f => f.Value.Replace(ProvisioningMarkers.AgentToken, token).Replace(ProvisioningMarkers.WorkspacePath, workspace));
            var result = await AgentProvisioner.ProvisionAsync(rpc, message.GatewayAgentId, workspace, files, message.PreserveIfPresent, ct);
            if (message.WakeMessage is { Length: > 0 } wake)
            {
                // A dispatch like any other (so its reply is told apart from the next message's), with an id
                // fixed by the run: a repeated run wakes the agent once.
                var dispatch = new Dispatch
                {
                    Id = WakeId(message.AgentId, message.Generation), OrganizationId = message.OrganizationId, GatewayId = gateway.Id, AgentId = message.AgentId,
                    BoardId = message.BoardId, SessionKey = message.SessionKey, Kind = "agent.wake", Message = wake, SentAt = time.GetUtcNow().UtcDateTime,
                };
                if (await Db.Dispatches.AnyAsync(d => d.Id == dispatch.Id, ct) is false)
                {
                    Db.Dispatches.Add(dispatch);
                    await Dispatching.TrySendAsync(rpc, dispatch, log, ct);
                }
            }
            // Messages that arrived before the agent was on its gateway go out now, in order.
            var waiting = await Dispatching.AwaitingAgentOf(Db, message.AgentId).ToListAsync(ct);
            foreach (var dispatch in waiting)
            {
                dispatch.SessionKey = message.SessionKey;
                dispatch.GatewayId = gateway.Id;
                await Dispatching.TrySendAsync(rpc, dispatch, log, ct);
            }
            log.LogInformation(
                "Provisioned agent {AgentId} as {GatewayAgentId} on gateway {GatewayId} in {TotalMs:F0} ms (create {CreateMs:F0}, visible after {VisibleMs:F0}, files {FilesMs:F0}); skipped {Skipped}",
                message.AgentId, message.GatewayAgentId, gateway.Id, result.TotalMs, result.CreateMs, result.VisibleAfterMs, result.FilesMs, string.Join(",", result.FilesSkipped));
            Db.AddIntegrationEvent(new AgentProvisioned
            {
                OrganizationId = message.OrganizationId, AgentId = message.AgentId, GatewayId = gateway.Id, Generation = message.Generation,
                GatewayAgentId = message.GatewayAgentId, SessionKey = message.SessionKey, WorkspacePath = workspace, TokenHash = AgentTokens.Hash(token),
                FilesWritten = result.FilesWritten, ElapsedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds, OccurredAt = time.GetUtcNow(),
            });
        }
        catch (GatewayException e)
        {
            log.LogWarning("Provisioning agent {AgentId} on gateway {GatewayId} failed: {Code} {Message}", message.AgentId, gateway.Id, e.DetailCode ?? e.Code, e.Message);
            Fail(message, e.DetailCode ?? e.Code, e.Message, Dispatching.IsTransient(e));
        }
    }

    private static Guid WakeId(Guid agentId, long generation) =>
        new(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"wake:{agentId}:{generation}")).AsSpan(0, 16));

    /// <summary>An update that keeps the token reads it back from the workspace it was written to.</summary>
    private static async Task<string?> ReadWrittenTokenAsync(IGatewayRpc rpc, string gatewayAgentId, CancellationToken ct)
    {
        try
        {
            var answer = await rpc.RequestAsync("agents.files.get", new { agentId = gatewayAgentId, name = "AGENTS.md" }, ct);
            var content = answer.TryGetProperty("file", out var file) && file.TryGetProperty("content", out var c) ? c.GetString() : null;
            return content is null ? null : WrittenToken().Match(content) is { Success: true } m ? m.Groups[1].Value : null;
        }
        catch (GatewayException)
        {
            return null; // not there yet: a fresh token is minted
        }
    }

    private void Fail(AgentProvisioningRequested message, string code, string error, bool retryable) =>
        Db.AddIntegrationEvent(new AgentProvisioningFailed
        {
            OrganizationId = message.OrganizationId, AgentId = message.AgentId, GatewayId = message.GatewayId, Generation = message.Generation,
            ErrorCode = code, Error = error, Retryable = retryable, OccurredAt = time.GetUtcNow(),
        });
}

/// <summary>Removes a deleted agent from its gateway. Best effort: a gateway that is gone has nothing to remove.</summary>
public sealed class AgentDeprovisionConsumer(
    GatewayBridgeDbContext db, DatabaseWriteGate writes, GatewayConnections connections, ILogger<AgentDeprovisionConsumer> log)
    : IdempotentConsumer<AgentDeprovisionRequested, GatewayBridgeDbContext>(db, writes)
{
    protected override async Task Handle(AgentDeprovisionRequested message, CancellationToken ct)
    {
        var gateway = await Db.Gateways.AsNoTracking().FirstOrDefaultAsync(g => g.Id == message.GatewayId && g.OrganizationId == message.OrganizationId, ct);
        if (gateway is null) return;
        try
        {
            await using var rpc = await connections.OpenAsync(gateway, ct);
            await AgentProvisioner.DeleteAsync(rpc, message.GatewayAgentId, message.SessionKey, ct);
            log.LogInformation("Removed agent {GatewayAgentId} from gateway {GatewayId}", message.GatewayAgentId, gateway.Id);
        }
        catch (GatewayException e) when (Dispatching.IsTransient(e))
        {
            throw; // the bus retries with backoff
        }
        catch (GatewayException e)
        {
            log.LogWarning("Gateway {GatewayId} refused to remove {GatewayAgentId}: {Code} {Message}", gateway.Id, message.GatewayAgentId, e.Code, e.Message);
        }
    }
}
