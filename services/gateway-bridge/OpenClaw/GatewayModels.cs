using System.Text.Json;

namespace MissionControl.GatewayBridge.OpenClaw;

/// <summary>How to reach and authenticate to one OpenClaw gateway.</summary>
/// <param name="Url"><c>ws://</c> or <c>wss://</c> address of the gateway.</param>
/// <param name="Token">The shared gateway token (<c>auth.token</c>); null when only a device token is used.</param>
/// <param name="Device">Signs the handshake (needed off loopback, where pairing applies).</param>
/// <param name="DeviceToken">A token the gateway issued to <paramref name="Device"/> earlier (<c>hello-ok.auth.deviceToken</c>).</param>
/// <param name="AllowInsecureTls">Accept any TLS certificate (self-signed gateways).</param>
public sealed record GatewayConnectOptions(Uri Url, string? Token, DeviceIdentity? Device = null, string? DeviceToken = null, bool AllowInsecureTls = false)
{
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// <c>client.id</c>: an enum on the gateway. Only <c>gateway-client</c> (and <c>cli</c>) keep their
    /// scopes on loopback without a device identity; any other id gets no scopes unless it signs.
    /// </summary>
    public string ClientId { get; init; } = "gateway-client";

    /// <summary><c>client.mode</c>: an enum on the gateway (backend, cli, ui, …).</summary>
    public string ClientMode { get; init; } = "backend";

    public string ClientVersion { get; init; } = typeof(GatewayConnectOptions).Assembly.GetName().Version?.ToString(3) ?? "1.0.0";
    public string Platform { get; init; } = OperatingSystem.IsLinux() ? "linux" : OperatingSystem.IsMacOS() ? "darwin" : OperatingSystem.IsWindows() ? "win32" : "unknown";

    /// <summary>Optional <c>client.deviceFamily</c>; part of the v3 device signature.</summary>
    public string? DeviceFamily { get; init; }

    public string Role { get; init; } = "operator";

    /// <summary>Scopes asked for. Provisioning (agents.create/files.set/delete) needs operator.admin.</summary>
    public IReadOnlyList<string> Scopes { get; init; } = [GatewayScopes.Admin, GatewayScopes.Read, GatewayScopes.Write];

    /// <summary>The wire protocol: operator clients must send 4/4 to 2026.9.x gateways.</summary>
    public int Protocol { get; init; } = 4;
}

public static class GatewayScopes
{
    public const string Admin = "operator.admin";
    public const string Read = "operator.read";
    public const string Write = "operator.write";
}

/// <summary>The useful part of <c>hello-ok</c>.</summary>
/// <param name="Scopes">The effective scopes (<c>auth.scopes</c>): the gateway may silently grant fewer than asked.</param>
/// <param name="DeviceToken">Issued when a device identity was paired; persist it to reconnect with it.</param>
public sealed record GatewayHello(string ServerVersion, int Protocol, IReadOnlyList<string> Scopes, string? DeviceToken, int TickIntervalMs)
{
    /// <summary><c>token</c> or <c>device-token</c>.</summary>
    public string? AuthMethod { get; init; }

    /// <summary>The RPC methods this gateway advertises (<c>features.methods</c>).</summary>
    public IReadOnlyCollection<string> Methods { get; init; } = [];

    public string? ConnectionId { get; init; }

    /// <summary>The whole <c>hello-ok</c> payload.</summary>
    public JsonElement Payload { get; init; }
}

/// <summary>A server event. <paramref name="Seq"/> counts per connection and restarts at 1 on each.</summary>
public sealed record GatewayEvent(string Name, JsonElement Payload, long? Seq);

/// <summary>How a connection ended.</summary>
/// <param name="CloseCode">The WebSocket close code (1012 restart/shutdown, 1008 policy, 1013 starting), or null when the socket just broke.</param>
/// <param name="ShutdownSeen">The gateway announced it with a <c>shutdown</c> event first.</param>
/// <param name="RestartExpectedMs">From the <c>shutdown</c> event: the gateway is restarting and expects to be back in about this long.</param>
/// <param name="Error">What broke the socket, when it was not a close frame.</param>
public sealed record GatewayCloseInfo(int? CloseCode, string? Reason, bool ShutdownSeen, int? RestartExpectedMs, string? ShutdownReason = null, Exception? Error = null)
{
    /// <summary>Close 1012: the gateway is stopping or restarting, so reconnect soon.</summary>
    public bool IsServiceRestart => CloseCode == 1012 || RestartExpectedMs is not null;
}

/// <summary>Sends one RPC to a gateway and returns its <c>payload</c>; gateway errors throw <see cref="GatewayException"/>.</summary>
public interface IGatewayRpc
{
    /// <param name="parameters">
    /// Serialized with web (camelCase) naming; null members are omitted (the gateway's params are closed
    /// objects). Null: <c>{}</c>.
    /// </param>
    /// <param name="timeout">Null: the connection's <see cref="GatewayConnectOptions.RequestTimeout"/>.</param>
    Task<JsonElement> RequestAsync(string method, object? parameters, CancellationToken ct, TimeSpan? timeout = null);
}
