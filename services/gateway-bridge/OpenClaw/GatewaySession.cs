using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace MissionControl.GatewayBridge.OpenClaw;

public enum GatewaySessionState
{
    Connecting,
    Connected,
    Disconnected,

    /// <summary>The gateway refused the credentials (AUTH_* / DEVICE_AUTH_*). No reconnect: fix the options, start a new session.</summary>
    AuthFailed,

    /// <summary>The device must be paired (approved on the gateway host) first. Retried slowly, in case it gets approved.</summary>
    PairingRequired,

    /// <summary>The gateway rejects this client's protocol or connect params. No reconnect.</summary>
    Incompatible,

    Stopped,
}

/// <summary>
/// Keeps one <see cref="GatewayClient"/> connected to a gateway: reconnects with exponential backoff and
/// jitter (from about 250 ms when the gateway announced a restart, else 1 s, up to 30 s; reset by a
/// successful handshake), but never after the gateway refused the credentials or the protocol.
/// Requests wait for the connection up to their timeout.
/// </summary>
public sealed class GatewaySession : IGatewayRpc, IAsyncDisposable
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan RestartBackoff = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan FailureBackoff = TimeSpan.FromSeconds(1);
    // After a restart the gateway is expected back (in ~10 s): poll it at most every 2 s for a minute
    // instead of letting the backoff grow past the moment it returns.
    private static readonly TimeSpan RestartCap = TimeSpan.FromSeconds(2);
    private const int RestartAttempts = 30;

    private readonly GatewayConnectOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private GatewaySessionState _state = GatewaySessionState.Stopped;
    private GatewayException? _lastError;
    private GatewayHello? _hello;
    private GatewayClient? _client;
    // Completed and replaced on every state change: what request waiters wait on.
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _loop;

    public GatewaySession(GatewayConnectOptions options, ILogger logger, TimeProvider? time = null)
    {
        _options = options;
        _logger = logger;
        _time = time ?? TimeProvider.System;
    }

    public GatewayConnectOptions Options => _options;

    public GatewaySessionState State
    {
        get { lock (_gate) return _state; }
    }

    /// <summary>Why the last connection attempt failed or the last connection ended; null while connected.</summary>
    public GatewayException? LastError
    {
        get { lock (_gate) return _lastError; }
    }

    /// <summary>The hello of the current (or last) connection.</summary>
    public GatewayHello? Hello
    {
        get { lock (_gate) return _hello; }
    }

    /// <summary>Raised on the session's own loop (not under a lock) after each change.</summary>
    public event Action<GatewaySessionState, GatewayException?>? StateChanged;

    /// <summary>Server events of whichever connection is current (off the receive loop, in order per connection).</summary>
    public event Action<GatewayEvent>? EventReceived;

    public void Start()
    {
        lock (_gate)
        {
            if (_loop is not null)
            {
                throw new InvalidOperationException("The session has already been started.");
            }
            ObjectDisposedException.ThrowIf(_stop.IsCancellationRequested, this);
            // Connecting at once, so a request made right after Start waits instead of failing.
            _state = GatewaySessionState.Connecting;
            _loop = Task.Run(() => RunAsync(_stop.Token));
        }
    }

    public async Task StopAsync()
    {
        Task? loop;
        lock (_gate)
        {
            loop = _loop;
        }
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync();
        }
        if (loop is not null)
        {
            await loop;
        }
        SetState(GatewaySessionState.Stopped, null, keepError: true);
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    public async Task<JsonElement> RequestAsync(string method, object? parameters, CancellationToken ct, TimeSpan? timeout = null)
    {
        var limit = timeout ?? _options.RequestTimeout;
        var deadline = _time.GetTimestamp();
        while (true)
        {
            GatewaySessionState state;
            GatewayClient? client;
            GatewayException? error;
            Task changed;
            lock (_gate)
            {
                (state, client, error, changed) = (_state, _client, _lastError, _changed.Task);
            }
            var remaining = limit - _time.GetElapsedTime(deadline);
            if (state == GatewaySessionState.Connected && client is { IsOpen: true })
            {
                return await client.RequestAsync(method, parameters, ct, remaining > TimeSpan.Zero ? remaining : TimeSpan.FromMilliseconds(1));
            }
            if (state is GatewaySessionState.AuthFailed or GatewaySessionState.PairingRequired or GatewaySessionState.Incompatible && error is not null)
            {
                throw Copy(error, $"{method}: the gateway session is {state}: {error.Message}");
            }
            if (state == GatewaySessionState.Stopped)
            {
                throw new GatewayException(GatewayException.ConnectionClosed, $"{method}: the gateway session is not running.");
            }
            if (remaining <= TimeSpan.Zero)
            {
                throw NotConnected(method, limit, error);
            }
            try
            {
                await changed.WaitAsync(remaining, _time, ct);
            }
            catch (TimeoutException)
            {
                throw NotConnected(method, limit, LastError);
            }
        }
    }

    private static GatewayException NotConnected(string method, TimeSpan limit, GatewayException? error) =>
        error is null
            ? new GatewayException(GatewayException.Timeout, $"{method}: not connected to the gateway within {limit.TotalSeconds:0.#} s", retryable: true)
            : Copy(error, $"{method}: not connected to the gateway within {limit.TotalSeconds:0.#} s: {error.Message}");

    private static GatewayException Copy(GatewayException e, string message) =>
        new(e.Code, message, e.DetailCode, e.Retryable, e.RetryAfterMs, e.Details, e) { CloseCode = e.CloseCode };

    /// <summary>
    /// The session state a failed connect leads to: AuthFailed or Incompatible (no reconnect), PairingRequired
    /// (slow retries), or null for a transient failure (unreachable, timeout, UNAVAILABLE while starting).
    /// </summary>
    public static GatewaySessionState? Classify(GatewayException e)
    {
        if (e.Code is GatewayException.PairingRequired or "NOT_PAIRED" || e.DetailCode is "PAIRING_REQUIRED" or "NOT_PAIRED" or "DEVICE_IDENTITY_REQUIRED")
        {
            return GatewaySessionState.PairingRequired;
        }
        if (e.DetailCode == "PROTOCOL_MISMATCH")
        {
            return GatewaySessionState.Incompatible;
        }
        if (e.DetailCode is { } detail && (detail.StartsWith("AUTH_", StringComparison.Ordinal) || detail.StartsWith("DEVICE_AUTH_", StringComparison.Ordinal))
            || e.Code == "FORBIDDEN")
        {
            return GatewaySessionState.AuthFailed;
        }
        // Any other refusal of connect (a closed-schema rejection of our params, an unknown client id)
        // would repeat identically on every attempt.
        if (e.Code == "INVALID_REQUEST" && !e.Retryable)
        {
            return GatewaySessionState.Incompatible;
        }
        return null;
    }

    private async Task RunAsync(CancellationToken stop)
    {
        var attempt = 0;
        var backoffBase = FailureBackoff;
        var restarting = false;
        TimeSpan? delay = null;
        while (!stop.IsCancellationRequested)
        {
            if (delay is { } wait)
            {
                try
                {
                    await Task.Delay(wait, _time, stop);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }

            SetState(GatewaySessionState.Connecting, null, keepError: true);
            GatewayClient client;
            try
            {
                client = await GatewayClient.ConnectAsync(_options, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (GatewayException e)
            {
                var final = Classify(e);
                if (final is GatewaySessionState.AuthFailed or GatewaySessionState.Incompatible)
                {
                    _logger.LogError("Gateway {Url} refused the connection ({Code}/{DetailCode}: {Message}); not reconnecting",
                        _options.Url, e.Code, e.DetailCode, e.Message);
                    SetState(final.Value, e);
                    return;
                }
                if (final == GatewaySessionState.PairingRequired)
                {
                    // Someone may approve the pairing on the gateway host: keep asking, slowly.
                    delay = Jitter(MaxBackoff);
                    _logger.LogWarning("Gateway {Url} requires pairing ({Code}/{DetailCode}); asking again in {Delay}", _options.Url, e.Code, e.DetailCode, delay);
                    SetState(GatewaySessionState.PairingRequired, e);
                    continue;
                }
                // UNAVAILABLE (and close 1013) while the gateway starts: it says when to come back.
                delay = e.RetryAfterMs is { } ms && e.Retryable
                    ? Jitter(TimeSpan.FromMilliseconds(Math.Clamp(ms, 100, 5000)))
                    : Backoff(backoffBase, attempt++, restarting && attempt < RestartAttempts ? RestartCap : MaxBackoff);
                _logger.LogWarning("Gateway {Url}: connection failed ({Code}: {Message}); retrying in {Delay}", _options.Url, e.Code, e.Message, delay);
                SetState(GatewaySessionState.Disconnected, e);
                continue;
            }

            attempt = 0;
            restarting = false;
            client.EventReceived += OnClientEvent;
            lock (_gate)
            {
                _client = client;
                _hello = client.Hello;
            }
            _logger.LogInformation("Gateway {Url}: connected (server {Version}, protocol {Protocol})", _options.Url, client.Hello.ServerVersion, client.Hello.Protocol);
            SetState(GatewaySessionState.Connected, null);

            GatewayCloseInfo? close = null;
            try
            {
                close = await client.Completion.WaitAsync(stop);
            }
            catch (OperationCanceledException)
            {
                // Stopping: close it below.
            }
            lock (_gate)
            {
                _client = null;
            }
            client.EventReceived -= OnClientEvent;
            await client.DisposeAsync();
            if (close is null)
            {
                break;
            }

            restarting = close.IsServiceRestart;
            backoffBase = restarting ? RestartBackoff : FailureBackoff;
            delay = Backoff(backoffBase, attempt++);
            var error = new GatewayException(GatewayException.ConnectionClosed,
                $"The gateway closed the connection ({close.CloseCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no close frame"}" +
                $"{(string.IsNullOrEmpty(close.Reason) ? "" : ": " + close.Reason)}{(close.ShutdownSeen ? ", after a shutdown event" : "")}).",
                retryable: true, innerException: close.Error) { CloseCode = close.CloseCode };
            _logger.LogWarning("Gateway {Url}: {Message} Reconnecting in {Delay}", _options.Url, error.Message, delay);
            SetState(GatewaySessionState.Disconnected, error);
        }
    }

    private void OnClientEvent(GatewayEvent e)
    {
        try
        {
            EventReceived?.Invoke(e);
        }
        catch (Exception ex)
        {
            _logger.LogWarning(ex, "A gateway event handler failed on {Event}", e.Name);
        }
    }

    private void SetState(GatewaySessionState state, GatewayException? error, bool keepError = false)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            if (_state == GatewaySessionState.Stopped && state != GatewaySessionState.Stopped && _stop.IsCancellationRequested)
            {
                return; // a late change from a loop being stopped
            }
            _state = state;
            if (!keepError)
            {
                _lastError = error;
            }
            error = _lastError;
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        changed.TrySetResult();
        try
        {
            StateChanged?.Invoke(state, error);
        }
        catch (Exception ex)
        {
            _logger.LogWarning(ex, "A gateway session state handler failed");
        }
    }

    /// <summary><paramref name="baseDelay"/>·2^attempt, capped (30 s by default), ±20 % jitter so many bridges do not reconnect in step.</summary>
    internal static TimeSpan Backoff(TimeSpan baseDelay, int attempt, TimeSpan? cap = null) =>
        Jitter(TimeSpan.FromMilliseconds(Math.Min((cap ?? MaxBackoff).TotalMilliseconds, baseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 16)))));

    private static TimeSpan Jitter(TimeSpan delay) => delay * (0.8 + Random.Shared.NextDouble() * 0.4);
}
