using System.Net;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using MissionControl.GatewayBridge.Data;
using MissionControl.GatewayBridge.OpenClaw;

namespace MissionControl.GatewayBridge.Connections;

public sealed class BridgeOptions
{
    /// <summary>Where our Ed25519 device identity is kept (a new key means a new device and a new pairing).</summary>
    public string? DeviceIdentityPath { get; set; }
    /// <summary>How long one instance holds a gateway's live connection without renewing.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);
    /// <summary>How often leases are renewed and gateways re-read.</summary>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromSeconds(10);
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);
    /// <summary>Undelivered messages older than this are given up (marked failed) instead of sent late.</summary>
    public TimeSpan PendingDispatchLifetime { get; set; } = TimeSpan.FromHours(1);
    /// <summary>Finished dispatches (sent, replied, failed) are deleted this many days after they were sent.</summary>
    public int DispatchRetentionDays { get; set; } = 30;
}

/// <summary>
/// Gateway tokens and device tokens are needed in clear to connect, so they are encrypted at rest
/// (Data Protection, key ring outside the database) and only decrypted to build connect options.
/// </summary>
public sealed class GatewayCredentials(IDataProtectionProvider provider, IOptions<BridgeOptions> options, IHostEnvironment environment, IConfiguration configuration)
{
    private readonly IDataProtector _protector = provider.CreateProtector("MissionControl.GatewayBridge.GatewayTokens.v1");
    private readonly Lazy<DeviceIdentity> _device = new(() => DeviceIdentity.LoadOrCreate(
        options.Value.DeviceIdentityPath ?? Path.Combine(SecretsAtRest.KeysPath(configuration, environment, "gateway-bridge"), "device-identity.json")));

    public string? Protect(string? secret) => string.IsNullOrEmpty(secret) ? null : _protector.Protect(secret);

    public string? Unprotect(string? protectedSecret) => protectedSecret is null ? null : _protector.Unprotect(protectedSecret);

    public GatewayConnectOptions ConnectOptions(Gateway gateway) => ConnectOptions(
        new Uri(gateway.Url), Unprotect(gateway.TokenProtected), gateway.AllowInsecureTls, gateway.DisableDevicePairing, Unprotect(gateway.DeviceTokenProtected));

    /// <summary>
    /// A loopback gateway trusts the shared token alone; a remote one needs our device identity (and a
    /// one-time pairing approval on the gateway host) unless the gateway was registered without pairing.
    /// </summary>
    public GatewayConnectOptions ConnectOptions(Uri url, string? token, bool allowInsecureTls, bool disableDevicePairing, string? deviceToken = null)
    {
        var needsDevice = !disableDevicePairing && !IsLoopback(url);
        return new GatewayConnectOptions(url, token, needsDevice ? _device.Value : null, needsDevice ? deviceToken : null, allowInsecureTls)
        {
            ConnectTimeout = options.Value.ConnectTimeout, RequestTimeout = options.Value.RequestTimeout,
        };
    }

    private static bool IsLoopback(Uri url) =>
        url.IsLoopback || (IPAddress.TryParse(url.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
}
