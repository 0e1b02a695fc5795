using System.Text.Json;

namespace MissionControl.GatewayBridge.OpenClaw;

/// <summary>
/// The gateway's error <c>{code, message, details.code, retryable, retryAfterMs}</c>, or a local one:
/// <see cref="Unreachable"/> (TCP/WebSocket failure), <see cref="Timeout"/>, <see cref="ConnectionClosed"/>,
/// <see cref="PairingRequired"/> (connected but granted no admin scope).
/// Branch on <see cref="Code"/> and <see cref="DetailCode"/>, never on the message.
/// </summary>
public sealed class GatewayException : Exception
{
    public const string Unreachable = "gateway_unreachable";
    public const string Timeout = "timeout";
    public const string ConnectionClosed = "connection_closed";
    public const string PairingRequired = "pairing_required";

    public GatewayException(string code, string message, string? detailCode = null, bool retryable = false, int? retryAfterMs = null,
        JsonElement? details = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Code = code;
        DetailCode = detailCode;
        Retryable = retryable;
        RetryAfterMs = retryAfterMs;
        Details = details;
    }

    /// <summary>INVALID_REQUEST, FORBIDDEN, NOT_PAIRED, UNAVAILABLE, … or one of the local codes.</summary>
    public string Code { get; }

    /// <summary><c>details.code</c>: AUTH_TOKEN_MISMATCH, MISSING_SCOPE, PROTOCOL_MISMATCH, DEVICE_AUTH_*, …</summary>
    public string? DetailCode { get; }

    public bool Retryable { get; }
    public int? RetryAfterMs { get; }
    public JsonElement? Details { get; }

    /// <summary>The close code of the connection this error ended, when it ended one.</summary>
    public int? CloseCode { get; init; }

    /// <summary>From an error frame: <c>{"code","message","details"?,"retryable"?,"retryAfterMs"?}</c>.</summary>
    public static GatewayException FromErrorShape(JsonElement error)
    {
        string? Str(JsonElement e, string name) =>
            e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

        JsonElement? details = error.TryGetProperty("details", out var d) && d.ValueKind != JsonValueKind.Null ? d.Clone() : null;
        var retryAfter = error.TryGetProperty("retryAfterMs", out var r) && r.ValueKind == JsonValueKind.Number && r.TryGetInt32(out var ms) ? ms : (int?)null;
        var retryable = error.TryGetProperty("retryable", out var rt) && rt.ValueKind == JsonValueKind.True;
        return new GatewayException(
            Str(error, "code") ?? "UNKNOWN",
            Str(error, "message") ?? "gateway error",
            details is { } dd ? Str(dd, "code") : null,
            retryable,
            retryAfter,
            details);
    }
}
