using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using MissionControl.GatewayBridge.Data;
using MissionControl.GatewayBridge.OpenClaw;

namespace MissionControl.GatewayBridge.Connections;

/// <summary>
/// Holds one long-lived session per gateway this instance owns. Ownership is a lease row renewed every
/// ReconcileInterval, so several bridge instances never hold two connections to one gateway; when an
/// instance dies its leases expire and another takes over. Work that needs a gateway this instance does
/// not own (a provisioning run, a check on create) opens a short-lived connection instead.
/// </summary>
public sealed class GatewayConnections(
    IServiceScopeFactory scopes, GatewayCredentials credentials, GatewayEventSink sink, IOptions<BridgeOptions> options, TimeProvider time,
    ILoggerFactory loggers) : BackgroundService
{
    private readonly ILogger _log = loggers.CreateLogger<GatewayConnections>();
    private readonly ConcurrentDictionary<Guid, Owned> _owned = new();
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    /// <summary>This process's name in lease rows.</summary>
    public string Instance { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";

    private sealed record Owned(GatewaySession Session, string Fingerprint);

    /// <summary>Re-read gateways now (after a create, change or delete) instead of at the next interval.</summary>
    public void Wake() => _wake.Writer.TryWrite(true);

    /// <summary>The live session state when this instance owns the gateway.</summary>
    public GatewaySession? OwnedSession(Guid gatewayId) => _owned.TryGetValue(gatewayId, out var owned) ? owned.Session : null;

    /// <summary>
    /// An RPC channel to the gateway: the owned live session when it is connected, else a connection of
    /// its own that the handle closes. Throws GatewayException when the gateway cannot be reached.
    /// </summary>
    public async Task<GatewayRpcHandle> OpenAsync(Gateway gateway, CancellationToken ct)
    {
        if (_owned.TryGetValue(gateway.Id, out var owned) && owned.Session.State == GatewaySessionState.Connected)
            return new GatewayRpcHandle(owned.Session, null);
        var client = await GatewayClient.ConnectAsync(credentials.ConnectOptions(gateway), ct);
        return new GatewayRpcHandle(client, client);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ReconcileAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _log.LogWarning(e, "Gateway reconcile failed; trying again in {Interval}", options.Value.ReconcileInterval);
            }
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            wait.CancelAfter(options.Value.ReconcileInterval);
            try
            {
                await _wake.Reader.ReadAsync(wait.Token);
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        foreach (var (id, owned) in _owned)
        {
            await owned.Session.DisposeAsync();
            _owned.TryRemove(id, out _);
        }
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<GatewayBridgeDbContext>();
            await db.GatewayLeases.Where(l => l.Owner == Instance).ExecuteDeleteAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _log.LogInformation(e, "Could not release gateway leases; they expire on their own");
        }
    }

    private async Task ReconcileAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatewayBridgeDbContext>();
        var gateways = await db.Gateways.AsNoTracking().ToListAsync(ct);
        var now = time.GetUtcNow().UtcDateTime;
        var until = now + options.Value.LeaseDuration;

        foreach (var gateway in gateways)
        {
            if (await TryLeaseAsync(db, gateway.Id, now, until, ct)) await EnsureSessionAsync(gateway);
            else await DropAsync(gateway.Id);
        }
        foreach (var id in _owned.Keys.Except(gateways.Select(g => g.Id)).ToList())
        {
            await DropAsync(id);
            await db.GatewayLeases.Where(l => l.GatewayId == id && l.Owner == Instance).ExecuteDeleteAsync(ct);
        }
    }

    /// <summary>Renews our lease or takes an expired one; a fresh gateway gets its first lease by insert.</summary>
    private async Task<bool> TryLeaseAsync(GatewayBridgeDbContext db, Guid gatewayId, DateTime now, DateTime until, CancellationToken ct)
    {
        var updated = await db.GatewayLeases
            .Where(l => l.GatewayId == gatewayId && (l.Owner == Instance || l.ExpiresAt < now))
            .ExecuteUpdateAsync(s => s.SetProperty(l => l.Owner, Instance).SetProperty(l => l.ExpiresAt, until), ct);
        if (updated > 0) return true;
        if (await db.GatewayLeases.AnyAsync(l => l.GatewayId == gatewayId, ct)) return false;
        db.GatewayLeases.Add(new GatewayLease { GatewayId = gatewayId, Owner = Instance, ExpiresAt = until });
        try
        {
            await db.SaveChangesAsync(ct);
            return true;
        }
        catch (DbUpdateException)
        {
            db.ChangeTracker.Clear();
            return false; // another instance inserted first
        }
    }

    private async Task EnsureSessionAsync(Gateway gateway)
    {
        var fingerprint = $"{gateway.Url}|{gateway.TokenProtected}|{gateway.AllowInsecureTls}|{gateway.DisableDevicePairing}";
        if (_owned.TryGetValue(gateway.Id, out var owned))
        {
            if (owned.Fingerprint == fingerprint) return;
            await DropAsync(gateway.Id); // its address or credentials changed: connect anew
        }
        var session = new GatewaySession(credentials.ConnectOptions(gateway), loggers.CreateLogger($"GatewaySession.{gateway.Id}"), time);
        var gatewayId = gateway.Id;
        var organizationId = gateway.OrganizationId;
        session.StateChanged += (state, error) => sink.StateChanged(organizationId, gatewayId, session, state, error);
        session.EventReceived += e => sink.EventReceived(organizationId, gatewayId, session, e);
        _owned[gateway.Id] = new Owned(session, fingerprint);
        _log.LogInformation("Holding the live connection to gateway {GatewayId} ({Url})", gateway.Id, gateway.Url);
        session.Start();
    }

    private async Task DropAsync(Guid gatewayId)
    {
        if (!_owned.TryRemove(gatewayId, out var owned)) return;
        await owned.Session.DisposeAsync();
    }
}

/// <summary>An RPC channel from <see cref="GatewayConnections.OpenAsync"/>; disposing closes a connection opened for it.</summary>
public sealed class GatewayRpcHandle(IGatewayRpc rpc, IAsyncDisposable? owned) : IGatewayRpc, IAsyncDisposable
{
    public Task<System.Text.Json.JsonElement> RequestAsync(string method, object? parameters, CancellationToken ct, TimeSpan? timeout = null) =>
        rpc.RequestAsync(method, parameters, ct, timeout);

    public ValueTask DisposeAsync() => owned?.DisposeAsync() ?? ValueTask.CompletedTask;
}
