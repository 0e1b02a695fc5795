using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Threading.Channels;

namespace MissionControl.GatewayBridge.OpenClaw;

/// <summary>
/// One WebSocket connection to an OpenClaw gateway, past its handshake: <c>req</c> frames out,
/// <c>res</c> frames matched back by id (they may arrive out of order), <c>event</c> frames raised on
/// <see cref="EventReceived"/>. One background loop reads; sends are serialized. It does not reconnect:
/// when the socket closes every pending request fails with connection_closed and
/// <see cref="Completion"/> completes (<see cref="GatewaySession"/> reconnects).
/// </summary>
public sealed class GatewayClient : IGatewayRpc, IAsyncDisposable
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly ClientWebSocket _socket;
    private readonly GatewayConnectOptions _options;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<JsonElement>> _pending = new();
    private readonly Channel<GatewayEvent> _events = Channel.CreateUnbounded<GatewayEvent>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly TaskCompletionSource<GatewayCloseInfo> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<JsonElement> _challenge = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _receiveLoop;
    private long _nextId;
    private int _disposed;
    // Written by the receive loop, read when it ends.
    private bool _shutdownSeen;
    private int? _restartExpectedMs;
    private string? _shutdownReason;

    private GatewayClient(ClientWebSocket socket, GatewayConnectOptions options)
    {
        _socket = socket;
        _options = options;
        _receiveLoop = Task.Run(ReceiveLoopAsync);
        _ = Task.Run(DispatchLoopAsync);
    }

    public GatewayHello Hello { get; private set; } = null!;

    public GatewayConnectOptions Options => _options;

    /// <summary>
    /// Raised for every server event, in order, on a background task of its own: a slow handler delays
    /// later events but never the reading of responses.
    /// </summary>
    public event Action<GatewayEvent>? EventReceived;

    /// <summary>Completes (never faults) when the connection has closed, with how it closed.</summary>
    public Task<GatewayCloseInfo> Completion => _completion.Task;

    public bool IsOpen => !_completion.Task.IsCompleted;

    /// <summary>
    /// Opens the socket and completes the handshake (<c>connect</c> → <c>hello-ok</c>) within
    /// <see cref="GatewayConnectOptions.ConnectTimeout"/>. Throws <see cref="GatewayException"/>: the
    /// gateway's own error (AUTH_TOKEN_MISMATCH, PROTOCOL_MISMATCH, UNAVAILABLE while starting, …),
    /// gateway_unreachable, timeout, or pairing_required when it granted no scopes.
    /// </summary>
    public static async Task<GatewayClient> ConnectAsync(GatewayConnectOptions options, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(options.ConnectTimeout);
        var socket = new ClientWebSocket();
        // No Origin header, ever: a browser origin makes the gateway drop the client's scopes.
        if (options.AllowInsecureTls)
        {
            socket.Options.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        }
        try
        {
            await socket.ConnectAsync(options.Url, timeout.Token);
        }
        catch (Exception e) when (e is WebSocketException or HttpRequestException or SocketException or IOException
                                  || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            socket.Dispose();
            var why = e is OperationCanceledException ? $"no connection within {options.ConnectTimeout.TotalSeconds:0.#} s" : Innermost(e).Message;
            throw new GatewayException(GatewayException.Unreachable, $"Cannot reach the gateway at {options.Url}: {why}", retryable: true, innerException: e);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var client = new GatewayClient(socket, options);
        try
        {
            client.Hello = await client.HandshakeAsync(timeout.Token);
            return client;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            await client.DisposeAsync();
            throw new GatewayException(GatewayException.Timeout,
                $"The gateway at {options.Url} did not complete the handshake within {options.ConnectTimeout.TotalSeconds:0.#} s", retryable: true);
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    private async Task<GatewayHello> HandshakeAsync(CancellationToken ct)
    {
        var auth = new JsonObject();
        if (_options.Token is { Length: > 0 } token)
        {
            auth["token"] = token;
        }
        if (_options.DeviceToken is { Length: > 0 } deviceToken)
        {
            auth["deviceToken"] = deviceToken;
        }
        var client = new JsonObject
        {
            ["id"] = _options.ClientId,
            ["version"] = _options.ClientVersion,
            ["platform"] = _options.Platform,
            ["mode"] = _options.ClientMode,
        };
        if (_options.DeviceFamily is { } family)
        {
            client["deviceFamily"] = family;
        }
        var parameters = new JsonObject
        {
            ["minProtocol"] = _options.Protocol,
            ["maxProtocol"] = _options.Protocol,
            ["client"] = client,
            ["role"] = _options.Role,
            ["scopes"] = new JsonArray([.. _options.Scopes.Select(s => (JsonNode)s)]),
        };
        if (auth.Count > 0)
        {
            parameters["auth"] = auth;
        }
        if (_options.Device is { } device)
        {
            // Only a signed connect needs the challenge (its nonce and ts go into the signature).
            var challenge = await _challenge.Task.WaitAsync(ct);
            var nonce = challenge.GetProperty("nonce").GetString() ?? "";
            var ts = challenge.GetProperty("ts").GetInt64();
            parameters["device"] = device.BuildDeviceObject(_options.ClientId, _options.ClientMode, _options.Role, _options.Scopes, ts,
                _options.Token is { Length: > 0 } ? _options.Token : _options.DeviceToken, nonce, _options.Platform, _options.DeviceFamily);
        }

        var payload = await RequestAsync("connect", parameters, ct, _options.ConnectTimeout);
        var hello = ParseHello(payload);
        if (_options.Scopes.Count > 0 && hello.Scopes.Count == 0)
        {
            throw new GatewayException(GatewayException.PairingRequired,
                "The gateway accepted the connection but granted no scopes: this client needs a paired device identity " +
                "(or must connect as gateway-client on loopback).", details: payload.TryGetProperty("auth", out var a) ? a.Clone() : null);
        }
        if (_options.Scopes.Contains(GatewayScopes.Admin) && !hello.Scopes.Contains(GatewayScopes.Admin))
        {
            throw new GatewayException("FORBIDDEN", $"The gateway granted [{string.Join(", ", hello.Scopes)}] but not {GatewayScopes.Admin}.", "MISSING_SCOPE");
        }
        return hello;
    }

    /// <summary>The useful fields of a <c>hello-ok</c> payload.</summary>
    public static GatewayHello ParseHello(JsonElement payload)
    {
        static JsonElement Prop(JsonElement e, string name) =>
            e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) ? v : default;
        static string[] Strings(JsonElement e) =>
            e.ValueKind == JsonValueKind.Array ? [.. e.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!)] : [];

        var server = Prop(payload, "server");
        var auth = Prop(payload, "auth");
        var policy = Prop(payload, "policy");
        return new GatewayHello(
            Prop(server, "version").ValueKind == JsonValueKind.String ? Prop(server, "version").GetString()! : "",
            Prop(payload, "protocol").ValueKind == JsonValueKind.Number ? Prop(payload, "protocol").GetInt32() : 0,
            Strings(Prop(auth, "scopes")),
            Prop(auth, "deviceToken").ValueKind == JsonValueKind.String ? Prop(auth, "deviceToken").GetString() : null,
            Prop(policy, "tickIntervalMs").ValueKind == JsonValueKind.Number ? Prop(policy, "tickIntervalMs").GetInt32() : 30000)
        {
            AuthMethod = Prop(auth, "method").ValueKind == JsonValueKind.String ? Prop(auth, "method").GetString() : null,
            Methods = Strings(Prop(Prop(payload, "features"), "methods")).ToHashSet(StringComparer.Ordinal),
            ConnectionId = Prop(server, "connId").ValueKind == JsonValueKind.String ? Prop(server, "connId").GetString() : null,
            Payload = payload,
        };
    }

    public async Task<JsonElement> RequestAsync(string method, object? parameters, CancellationToken ct, TimeSpan? timeout = null)
    {
        var id = Interlocked.Increment(ref _nextId).ToString(CultureInfo.InvariantCulture);
        var answer = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = answer;
        try
        {
            // The receive loop completes Completion before it fails what is pending: either it sees our
            // entry, or we see the connection is gone.
            if (_completion.Task.IsCompleted)
            {
                throw Closed(_completion.Task.Result);
            }
            await SendAsync(BuildRequest(id, method, parameters), ct);
            var limit = timeout ?? _options.RequestTimeout;
            try
            {
                return await answer.Task.WaitAsync(limit, ct);
            }
            catch (TimeoutException)
            {
                throw new GatewayException(GatewayException.Timeout, $"{method}: no answer from the gateway within {limit.TotalSeconds:0.#} s", retryable: true);
            }
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    private static byte[] BuildRequest(string id, string method, object? parameters)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("type", "req");
            writer.WriteString("id", id);
            writer.WriteString("method", method);
            writer.WritePropertyName("params");
            if (parameters is null)
            {
                writer.WriteStartObject();
                writer.WriteEndObject();
            }
            else
            {
                JsonSerializer.Serialize(writer, parameters, parameters.GetType(), Json);
            }
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private async Task SendAsync(byte[] frame, CancellationToken ct)
    {
        await _sendLock.WaitAsync(ct);
        try
        {
            // Not the caller's token: cancelling a send half-way aborts the whole WebSocket.
            await _socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, _stop.Token);
        }
        catch (Exception e) when (e is WebSocketException or IOException or ObjectDisposedException
                                  || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            throw new GatewayException(GatewayException.ConnectionClosed, $"The gateway connection is closed: {e.Message}", retryable: true, innerException: e);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var message = new ArrayBufferWriter<byte>(16 * 1024);
        GatewayCloseInfo? close = null;
        try
        {
            while (true)
            {
                message.ResetWrittenCount();
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await _socket.ReceiveAsync(message.GetMemory(16 * 1024), _stop.Token);
                    message.Advance(result.Count);
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    close = new GatewayCloseInfo((int?)_socket.CloseStatus, _socket.CloseStatusDescription, false, null);
                    await AnswerCloseAsync();
                    break;
                }
                if (result.MessageType == WebSocketMessageType.Text)
                {
                    HandleFrame(message.WrittenMemory);
                }
            }
        }
        catch (Exception e)
        {
            close = new GatewayCloseInfo((int?)_socket.CloseStatus, _socket.CloseStatusDescription ?? Innermost(e).Message, false, null, Error: e);
        }
        finally
        {
            close = (close ?? new GatewayCloseInfo(null, null, false, null)) with
            {
                ShutdownSeen = _shutdownSeen,
                RestartExpectedMs = _restartExpectedMs,
                ShutdownReason = _shutdownReason,
            };
            _completion.TrySetResult(close);
            var closed = Closed(close);
            _challenge.TrySetException(closed);
            foreach (var id in _pending.Keys)
            {
                if (_pending.TryRemove(id, out var pending))
                {
                    pending.TrySetException(closed);
                }
            }
            _events.Writer.TryComplete();
        }
    }

    private async Task AnswerCloseAsync()
    {
        if (_socket.State != WebSocketState.CloseReceived)
        {
            return;
        }
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await _sendLock.WaitAsync(timeout.Token);
            try
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", timeout.Token);
            }
            finally
            {
                _sendLock.Release();
            }
        }
        catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The peer is gone already; nothing to answer.
        }
    }

    private void HandleFrame(ReadOnlyMemory<byte> frame)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(frame);
        }
        catch (JsonException)
        {
            return; // not ours to fix; a bad frame must not end the connection
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("type", out var type))
            {
                return;
            }
            switch (type.GetString())
            {
                case "res":
                    if (root.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String && _pending.TryRemove(id.GetString()!, out var pending))
                    {
                        if (root.TryGetProperty("ok", out var ok) && ok.ValueKind == JsonValueKind.True)
                        {
                            pending.TrySetResult(root.TryGetProperty("payload", out var payload) ? payload.Clone() : default);
                        }
                        else
                        {
                            pending.TrySetException(root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object
                                ? GatewayException.FromErrorShape(error)
                                : new GatewayException("UNKNOWN", "The gateway answered ok:false without an error."));
                        }
                    }
                    break;
                case "event":
                    var name = root.TryGetProperty("event", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : "";
                    var body = root.TryGetProperty("payload", out var p) ? p.Clone() : default;
                    long? seq = root.TryGetProperty("seq", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetInt64() : null;
                    if (name == "connect.challenge")
                    {
                        _challenge.TrySetResult(body);
                    }
                    else if (name == "shutdown")
                    {
                        _shutdownSeen = true;
                        if (body.ValueKind == JsonValueKind.Object)
                        {
                            _shutdownReason = body.TryGetProperty("reason", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
                            _restartExpectedMs = body.TryGetProperty("restartExpectedMs", out var ms) && ms.ValueKind == JsonValueKind.Number
                                ? (int)Math.Min(int.MaxValue, ms.GetDouble()) : null;
                        }
                    }
                    _events.Writer.TryWrite(new GatewayEvent(name, body, seq));
                    break;
            }
        }
    }

    private async Task DispatchLoopAsync()
    {
        await foreach (var e in _events.Reader.ReadAllAsync())
        {
            try
            {
                EventReceived?.Invoke(e);
            }
            catch (Exception)
            {
                // A subscriber's bug must not stop the other subscribers or later events.
            }
        }
    }

    private static GatewayException Closed(GatewayCloseInfo close) =>
        new(GatewayException.ConnectionClosed,
            $"The gateway connection closed ({(close.CloseCode is { } code ? code.ToString(CultureInfo.InvariantCulture) : "no close frame")}" +
            $"{(string.IsNullOrEmpty(close.Reason) ? "" : ": " + close.Reason)}).",
            retryable: true) { CloseCode = close.CloseCode };

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }
        return e;
    }

    /// <summary>Closes the socket politely (1000), or aborts it after 2 s; pending requests fail with connection_closed.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            await _receiveLoop;
            return;
        }
        if (_socket.State == WebSocketState.Open)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _sendLock.WaitAsync(timeout.Token);
                try
                {
                    await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "client closing", timeout.Token);
                }
                finally
                {
                    _sendLock.Release();
                }
                await _completion.Task.WaitAsync(TimeSpan.FromSeconds(2));
            }
            catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException or TimeoutException or ObjectDisposedException)
            {
                // Aborted below.
            }
        }
        await _stop.CancelAsync();
        await _receiveLoop;
        _socket.Abort();
        _socket.Dispose();
        _stop.Dispose();
    }
}
