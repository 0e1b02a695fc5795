using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using MissionControl.Contracts.Agents;
using MissionControl.Contracts.Gateways;
using MissionControl.GatewayBridge.Data;
using MissionControl.GatewayBridge.OpenClaw;
using MissionControl.Messaging;

namespace MissionControl.GatewayBridge.Connections;

/// <summary>
/// Turns what live sessions report (state changes, chat and usage events) into rows and integration
/// events. Sessions call in from their receive loops, so the work is queued and done here, one item at a
/// time, never on the socket's path.
/// </summary>
public sealed class GatewayEventSink(IServiceScopeFactory scopes, GatewayCredentials credentials, IOptions<BridgeOptions> options, TimeProvider time,
    ILogger<GatewayEventSink> log) : BackgroundService
{
    private abstract record Work(Guid OrganizationId, Guid GatewayId);
    private sealed record StateWork(Guid OrganizationId, Guid GatewayId, GatewaySession Session, GatewaySessionState State, GatewayException? Error)
        : Work(OrganizationId, GatewayId);
    private sealed record EventWork(Guid OrganizationId, Guid GatewayId, IGatewayRpc Session, ChatEvent Chat) : Work(OrganizationId, GatewayId);

    private readonly Channel<Work> _work = Channel.CreateUnbounded<Work>(new UnboundedChannelOptions { SingleReader = true });

    public void StateChanged(Guid organizationId, Guid gatewayId, GatewaySession session, GatewaySessionState state, GatewayException? error) =>
        _work.Writer.TryWrite(new StateWork(organizationId, gatewayId, session, state, error));

    public void EventReceived(Guid organizationId, Guid gatewayId, IGatewayRpc session, GatewayEvent e)
    {
        // Only finished turns matter here; deltas, status and ticks are dropped before queueing.
        if (GatewayChat.TryParse(e, out var chat) && chat.IsTerminal) _work.Writer.TryWrite(new EventWork(organizationId, gatewayId, session, chat));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var work in _work.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<GatewayBridgeDbContext>();
                var writes = scope.ServiceProvider.GetRequiredService<DatabaseWriteGate>();
                var changed = work switch
                {
                    StateWork s => await ApplyStateAsync(db, s, stoppingToken),
                    EventWork e => await ApplyEventAsync(db, e, stoppingToken),
                    _ => false,
                };
                if (changed)
                    using (await writes.EnterAsync(stoppingToken))
                        await db.SaveChangesAsync(stoppingToken);
                if (work is StateWork { State: GatewaySessionState.Connected } connected)
                    await SendPendingAsync(db, writes, connected.GatewayId, connected.Session, stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogWarning(e, "Could not record {Work} for gateway {GatewayId}", work.GetType().Name, work.GatewayId);
            }
        }
    }

    private async Task<bool> ApplyStateAsync(GatewayBridgeDbContext db, StateWork work, CancellationToken ct)
    {
        var gateway = await db.Gateways.FirstOrDefaultAsync(g => g.Id == work.GatewayId, ct);
        if (gateway is null) return false;
        var state = StateName(work.State);
        var now = time.GetUtcNow();
        gateway.ConnectionState = state;
        gateway.LastErrorCode = work.Error is null ? null : work.Error.DetailCode ?? work.Error.Code;
        gateway.LastError = work.Error?.Message;
        gateway.ConnectionChangedAt = now.UtcDateTime;
        if (work.Session.Hello is { } hello)
        {
            gateway.ServerVersion = hello.ServerVersion;
            // The gateway pairs a device once and hands it a token for later connects: keep it (encrypted).
            if (hello.DeviceToken is { Length: > 0 } deviceToken && credentials.Unprotect(gateway.DeviceTokenProtected) != deviceToken)
                gateway.DeviceTokenProtected = credentials.Protect(deviceToken);
        }
        db.AddIntegrationEvent(new GatewayConnectionChanged
        {
            OrganizationId = work.OrganizationId, GatewayId = work.GatewayId, State = state, ErrorCode = gateway.LastErrorCode,
            Error = gateway.LastError, ServerVersion = gateway.ServerVersion, OccurredAt = now,
        });
        return true;
    }

    public static string StateName(GatewaySessionState state) => state switch
    {
        GatewaySessionState.Connecting => "connecting",
        GatewaySessionState.Connected => "connected",
        GatewaySessionState.AuthFailed => "auth_failed",
        GatewaySessionState.PairingRequired => "pairing_required",
        GatewaySessionState.Incompatible => "incompatible",
        _ => "disconnected",
    };

    /// <summary>
    /// A finished turn: what the agent said (AgentMessageReceived; tasks turns a reply about a task into a
    /// comment) and what it cost. The live events carry only partial usage, so the run's full usage is read
    /// from the session transcript.
    /// </summary>
    private async Task<bool> ApplyEventAsync(GatewayBridgeDbContext db, EventWork work, CancellationToken ct)
    {
        var chat = work.Chat;
        var now = time.GetUtcNow();
        var agent = await db.Agents.AsNoTracking().FirstOrDefaultAsync(a => a.SessionKey == chat.SessionKey && a.GatewayId == work.GatewayId, ct);
        // A message sent to an idle agent runs under its own id; one queued behind a busy turn gets a run id
        // of the gateway's, and runs in order: then it is the session's oldest message still waiting for its reply.
        // Only this gateway's messages: the same gateway registered twice has two sessions that both see the turn.
        var dispatch = Guid.TryParse(chat.RunId, out var runId)
            ? await db.Dispatches.FirstOrDefaultAsync(d => d.Id == runId && d.GatewayId == work.GatewayId, ct)
            : null;
        dispatch ??= await db.Dispatches
            .Where(d => d.GatewayId == work.GatewayId && d.SessionKey == chat.SessionKey && d.State == "sent"
                && d.SentAt > now.UtcDateTime - options.Value.PendingDispatchLifetime)
            .OrderBy(d => d.SentAt).FirstOrDefaultAsync(ct);
        if (dispatch is not null && chat.State == "final" && string.IsNullOrWhiteSpace(chat.Text) && dispatch.Id == runId)
        {
            // A message that arrived while the agent was busy: the gateway closes its run at once, empty, and
            // answers it later in a turn of its own (whose final comes here with the gateway's run id).
            log.LogInformation("Message {DispatchId} to {SessionKey} is queued behind the agent's current turn", dispatch.Id, chat.SessionKey);
            return false;
        }
        log.LogInformation("Turn {RunId} of {SessionKey} ended {State} ({Chars} chars); answers {DispatchKind} {DispatchId}",
            chat.RunId, chat.SessionKey, chat.State, chat.Text?.Length ?? 0, dispatch?.Kind ?? "nothing", dispatch?.Id);
        if (dispatch is not null)
        {
            dispatch.State = chat.State == "final" ? "replied" : "failed";
            dispatch.Error = chat.ErrorMessage;
            dispatch.RepliedAt = now.UtcDateTime;
        }
        db.AddIntegrationEvent(new AgentMessageReceived
        {
            OrganizationId = work.OrganizationId, GatewayId = work.GatewayId, AgentId = agent?.Id ?? dispatch?.AgentId,
            BoardId = agent?.BoardId ?? dispatch?.BoardId, TaskId = dispatch?.TaskId, SessionKey = chat.SessionKey, RunId = chat.RunId,
            State = chat.State, Text = chat.Text, ErrorMessage = chat.ErrorMessage, OccurredAt = now,
        });
        if (chat.State == "final")
        {
            try
            {
                if (await GatewayChat.GetRunUsageAsync(work.Session, chat.SessionKey, chat.RunId, ct) is { } usage)
                {
                    db.AddIntegrationEvent(new TokenUsageReported
                    {
                        OrganizationId = work.OrganizationId, GatewayId = work.GatewayId, AgentId = agent?.Id ?? dispatch?.AgentId,
                        BoardId = agent?.BoardId ?? dispatch?.BoardId, TaskId = dispatch?.TaskId, Model = usage.Model ?? "unknown",
                        InputTokens = usage.InputTokens, OutputTokens = usage.OutputTokens, Source = "gateway", RunId = chat.RunId, OccurredAt = now,
                    });
                }
            }
            catch (GatewayException e)
            {
                log.LogInformation("Usage of run {RunId} not read: {Code} {Message}", chat.RunId, e.Code, e.Message);
            }
        }
        return true;
    }

    /// <summary>Messages accepted while the gateway was away go out as soon as it is back (same idempotency keys).</summary>
    private async Task SendPendingAsync(GatewayBridgeDbContext db, DatabaseWriteGate writes, Guid gatewayId, IGatewayRpc rpc, CancellationToken ct)
    {
        var oldest = time.GetUtcNow().UtcDateTime - options.Value.PendingDispatchLifetime;
        var pending = await db.Dispatches.Where(d => d.GatewayId == gatewayId && d.State == "pending").OrderBy(d => d.SentAt).Take(500).ToListAsync(ct);
        foreach (var dispatch in pending)
        {
            if (dispatch.SentAt < oldest)
            {
                dispatch.State = "failed";
                dispatch.Error = "The gateway was unreachable for longer than the pending-message lifetime.";
            }
            else if (!await Dispatching.TrySendAsync(rpc, dispatch, log, ct))
            {
                break; // gone again: the next connect resumes from here
            }
        }
        using (await writes.EnterAsync(ct))
            await db.SaveChangesAsync(ct);
    }
}
