using MissionControl.Agents.Data;
using MissionControl.Agents.Domain;
using MissionControl.Agents.Templates;
using MissionControl.Contracts.Agents;
using MissionControl.Messaging;

namespace MissionControl.Agents.Operations;

public static class ProvisionActions
{
    public const string Provision = "provision";
    public const string Update = "update";
}

/// <summary>
/// The agents side of the provisioning conversation with the gateway-bridge: starting runs (a new
/// generation each request, with the rendered files and a deadline), and applying the bridge's
/// answers, missed deadlines and retries. Methods change the tracked agent and queue events in the
/// context; the caller saves.
/// </summary>
public sealed class Provisioning(AgentsDbContext db, AgentClock clock, IConfiguration configuration)
{
    public string BaseUrl => configuration["MissionControl:PublicUrl"] is { Length: > 0 } url ? url : "http://localhost:4000";

    /// <summary>
    /// A new run: provision (first time, or again after a failed first time) or update. Publishes
    /// AgentUpdated when the status changes (the caller publishes AgentCreated for a new agent first).
    /// </summary>
    public async Task StartRunAsync(Agent agent, string action, bool issueToken, bool wake, IReadOnlyList<string> changed, DateTime now,
        CancellationToken ct, bool created = false)
    {
        if (agent.IsCustom)
        {
            // Nothing of a custom agent lives on a gateway: a change only needs announcing.
            agent.UpdatedAt = now;
            PublishIfChanged(agent, changed, now);
            return;
        }
        agent.ProvisionAction = action;
        agent.ProvisionIssueToken = issueToken || action == ProvisionActions.Provision;
        agent.ProvisionWake = wake;
        agent.ProvisionAttempts = 0;
        agent.LastProvisionError = null;
        agent.Status = action == ProvisionActions.Provision ? AgentStatus.Provisioning : AgentStatus.Updating;
        agent.UpdatedAt = now;
        if (created) Events.Created(db, agent, clock.StatusOf(agent, now), now);
        await SendAsync(agent, now, ct);
        PublishIfChanged(agent, changed, now);
    }

    /// <summary>Whether a change of what the agent's files show calls for a new run: once provisioned, or while a run is in flight (its files are stale).</summary>
    public static bool NeedsRerender(Agent agent) => agent.SessionKey is not null || AgentStatus.IsRunning(agent.Status);

    /// <summary>
    /// Files re-rendered after a board or gateway change: an update run without a new token or wake, or,
    /// superseding a run in flight, a new generation of it that keeps its token and wake.
    /// </summary>
    public Task RerenderAsync(Agent agent, DateTime now, CancellationToken ct)
    {
        var running = AgentStatus.IsRunning(agent.Status);
        return StartRunAsync(agent, ActionFor(agent), issueToken: running && agent.ProvisionIssueToken, wake: running && agent.ProvisionWake, [], now, ct);
    }

    /// <summary>The action a retry or a re-render should use: provision until the bridge has once said provisioned.</summary>
    public static string ActionFor(Agent agent) => agent.SessionKey is null ? ProvisionActions.Provision : ProvisionActions.Update;

    /// <summary>One request of the current run: the next generation, one more attempt, a fresh deadline.</summary>
    private async Task SendAsync(Agent agent, DateTime now, CancellationToken ct)
    {
        agent.ProvisionGeneration++;
        agent.ProvisionAttempts++;
        agent.ProvisionRetryAt = null;
        agent.ProvisionDeadlineAt = now + clock.Options.ProvisionTimeout;
        // Find, not a query: a gateway copy added in this same unit (GatewayCreated) is not saved yet.
        var gateway = agent.GatewayId is { } g ? await db.Gateways.FindAsync([g], ct) : null;
        if (gateway is null)
        {
            Fail(agent, "gateway_unknown: the agent's gateway is not known to Mission Control");
            return;
        }
        var board = agent.BoardId is { } b ? await db.Boards.FindAsync([b], ct) : null;
        agent.GatewayAgentId ??= AgentIdentities.GatewayAgentId(agent.Id, agent.BoardId, gateway.Id, agent.IsBoardLead, agent.IsGatewayMain);
        var update = agent.ProvisionAction == ProvisionActions.Update;
        db.AddIntegrationEvent(new AgentProvisioningRequested
        {
            OrganizationId = agent.OrganizationId, AgentId = agent.Id, GatewayId = gateway.Id, BoardId = agent.BoardId,
            Action = agent.ProvisionAction ?? ProvisionActions.Provision, Generation = agent.ProvisionGeneration,
            GatewayAgentId = agent.GatewayAgentId, SessionKey = agent.SessionKey ?? AgentIdentities.SessionKey(agent.GatewayAgentId),
            Files = WorkspaceTemplates.RenderFiles(agent, board, gateway, BaseUrl),
            PreserveIfPresent = update ? WorkspaceTemplates.PreservedOnUpdate(agent.IsGatewayMain) : [],
            IssueToken = agent.ProvisionIssueToken,
            WakeMessage = agent.ProvisionWake ? WorkspaceTemplates.WakeMessage(agent.Name, provisioned: !update) : null,
            Deadline = agent.ProvisionDeadlineAt.Value, OccurredAt = now,
        });
    }

    /// <summary>The bridge wrote the files: the agent is ready. Answers for any other generation are stale.</summary>
    public bool ApplyProvisioned(Agent agent, AgentProvisioned answer, DateTime now)
    {
        if (answer.Generation != agent.ProvisionGeneration || answer.GatewayId != agent.GatewayId) return false;
        agent.Status = AgentStatus.Ready;
        agent.GatewayAgentId = answer.GatewayAgentId;
        agent.SessionKey = answer.SessionKey;
        agent.WorkspacePath = answer.WorkspacePath;
        if (answer.TokenHash is { Length: > 0 } hash) agent.TokenHash = hash.ToLowerInvariant();
        agent.ProvisionDeadlineAt = null;
        agent.ProvisionRetryAt = null;
        agent.LastProvisionError = null;
        agent.UpdatedAt = now;
        PublishIfChanged(agent, ["status", "session_key"], now);
        return true;
    }

    /// <summary>The bridge failed the current generation: retry with backoff while that may help and attempts remain, else fail.</summary>
    public bool ApplyFailed(Agent agent, AgentProvisioningFailed answer, DateTime now)
    {
        if (answer.Generation != agent.ProvisionGeneration || !AgentStatus.IsRunning(agent.Status)) return false;
        var error = $"{answer.ErrorCode}: {answer.Error}";
        var decision = ProvisioningSchedule.OnFailure(agent.ProvisionAttempts, answer.Retryable, now, clock.Options);
        if (decision.Step == RunStep.ScheduleRetry) ScheduleRetry(agent, decision.RetryAt!.Value, error);
        else Fail(agent, error);
        agent.UpdatedAt = now;
        PublishIfChanged(agent, [], now);
        return true;
    }

    /// <summary>The sweeper's look at a run: resend a due retry, schedule one after a missed deadline, or give up.</summary>
    public async Task<bool> SweepAsync(Agent agent, DateTime now, CancellationToken ct)
    {
        var decision = ProvisioningSchedule.OnSweep(
            new RunState(agent.Status, agent.ProvisionAttempts, agent.ProvisionDeadlineAt, agent.ProvisionRetryAt), now, clock.Options);
        switch (decision.Step)
        {
            case RunStep.Resend:
                await SendAsync(agent, now, ct);
                break;
            case RunStep.ScheduleRetry:
                ScheduleRetry(agent, decision.RetryAt!.Value, ProvisioningSchedule.DeadlineError);
                break;
            case RunStep.Fail:
                Fail(agent, ProvisioningSchedule.DeadlineError);
                break;
            default:
                return false;
        }
        agent.UpdatedAt = now;
        PublishIfChanged(agent, [], now);
        return true;
    }

    /// <summary>AgentUpdated when something others copy changed, or the computed status differs from the last one published.</summary>
    public void PublishIfChanged(Agent agent, IReadOnlyList<string> changed, DateTime now)
    {
        var status = clock.StatusOf(agent, now);
        var fields = status == agent.PublishedStatus ? changed : changed.Contains("status") ? changed : [.. changed, "status"];
        if (fields.Count > 0 || status != agent.PublishedStatus) Events.Updated(db, agent, status, fields, now);
    }

    private static void ScheduleRetry(Agent agent, DateTime at, string error)
    {
        agent.ProvisionRetryAt = at;
        agent.ProvisionDeadlineAt = null;
        agent.LastProvisionError = error;
    }

    private static void Fail(Agent agent, string error)
    {
        agent.Status = AgentStatus.ProvisionFailed;
        agent.ProvisionRetryAt = null;
        agent.ProvisionDeadlineAt = null;
        agent.LastProvisionError = error.Length > 2000 ? error[..2000] : error;
    }
}
