using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MissionControl.Bench;

internal sealed record WebhookResult(
    int Requested,
    int Sent,
    int Received,
    int Late,
    double[] LatenciesMs,
    int PostFailures,
    string? FirstError,
    long Deliveries,
    long BadSignatures,
    string? FirstBadSignature,
    long StaleTimestamps,
    long HeaderMismatches,
    long Duplicates,
    long Unmatched,
    double? ProbeMs,
    string? Aborted,
    string ReceiverUrl,
    string WebhookId,
    string DeleteOutcome)
{
    public int Missing => Sent - Received;

    public double Percentile(double p) => Percentiles.Of(LatenciesMs, p);

    public double Max => LatenciesMs.Length == 0 ? double.NaN : LatenciesMs[^1];
}

/// <summary>
/// Webhook delivery latency. A small Kestrel receiver in the bench process (127.0.0.1, a free port) is registered as
/// a webhook for task.created through the edge; tasks are created one at a time and each latency runs from just
/// before the POST is sent to the moment the receiver has read the delivery's body (matched by data.task.id).
/// Every delivery's signature is checked the way a user would: <c>X-MC-Signature: sha256=&lt;hex HMAC-SHA256 of
/// "{X-MC-Timestamp}.{body}"&gt;</c> with the webhook's secret, compared in constant time; the timestamp must be
/// within 5 minutes.
/// </summary>
internal sealed class WebhookBench
{
    private const int ProbeAttempts = 3;
    private const int MaxConsecutiveMisses = 5;
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan DeliveryTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan TimestampTolerance = TimeSpan.FromMinutes(5);

    private readonly MissionControlApi _api;
    private readonly int _events;
    private readonly int _warmup;
    private readonly string _titlePrefix;
    private readonly ConcurrentDictionary<string, long> _arrivals = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _waiters = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _deliveryIds = new(StringComparer.Ordinal);
    private byte[] _secret = [];
    private long _deliveries;
    private long _badSignatures;
    private string? _firstBadSignature;
    private long _stale;
    private long _headerMismatches;
    private long _duplicates;
    private long _unmatched;

    public WebhookBench(MissionControlApi api, string runId, int events, int warmup)
    {
        _api = api;
        _events = events;
        _warmup = warmup;
        _titlePrefix = $"bench-hook-{runId}-";
    }

    /// <summary>Runs the phase. Throws <see cref="SetupException"/> when the webhook API is missing or refuses the receiver.</summary>
    public async Task<WebhookResult> RunAsync()
    {
        string hookPath = "/hooks/" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        WebApplication receiver = BuildReceiver(hookPath);
        await receiver.StartAsync().ConfigureAwait(false);
        try
        {
            string address = receiver.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            string url = address.TrimEnd('/') + hookPath;
            Console.WriteLine($"  receiver listening at {url}");

            (string webhookId, string secret) = await CreateWebhookAsync(url).ConfigureAwait(false);
            Volatile.Write(ref _secret, Encoding.UTF8.GetBytes(secret));
            Console.WriteLine($"  webhook {webhookId} registered for task.created");
            string deleteOutcome = "not deleted";
            try
            {
                WebhookResult result = await SendAllAsync(url, webhookId).ConfigureAwait(false);
                deleteOutcome = await DeleteWebhookAsync(webhookId).ConfigureAwait(false);
                return result with { DeleteOutcome = deleteOutcome };
            }
            finally
            {
                if (deleteOutcome == "not deleted")
                {
                    deleteOutcome = await DeleteWebhookAsync(webhookId).ConfigureAwait(false);
                    Console.WriteLine($"  webhook {webhookId}: {deleteOutcome}");
                }
            }
        }
        finally
        {
            await receiver.StopAsync().ConfigureAwait(false);
            await receiver.DisposeAsync().ConfigureAwait(false);
        }
    }

    private WebApplication BuildReceiver(string hookPath)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ApplicationName = "MissionControl.Bench.WebhookReceiver",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        // Loopback only, on a free port; this wins over any ASPNETCORE_URLS in the environment.
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        WebApplication app = builder.Build();
        app.MapPost(hookPath, ReceiveAsync);
        return app;
    }

    /// <summary>One delivery: the timestamp once the body is read, then the checks a user's receiver would make.</summary>
    private async Task ReceiveAsync(HttpContext context)
    {
        byte[] body = await ReadBodyAsync(context.Request).ConfigureAwait(false);
        long now = Stopwatch.GetTimestamp();
        Interlocked.Increment(ref _deliveries);

        string timestamp = context.Request.Headers["X-MC-Timestamp"].ToString();
        string signature = context.Request.Headers["X-MC-Signature"].ToString();
        if (VerifySignature(Volatile.Read(ref _secret), timestamp, body, signature) is { } bad)
        {
            if (Interlocked.Increment(ref _badSignatures) == 1)
            {
                _firstBadSignature = bad;
            }
        }

        if (!long.TryParse(timestamp, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long unix)
            || Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - unix) > TimestampTolerance.TotalSeconds)
        {
            Interlocked.Increment(ref _stale);
        }

        // The body's id is the event's (the same on every attempt: receivers dedupe by it); X-MC-Delivery names the delivery.
        (string? eventId, string? eventName, string? taskId) = ReadDelivery(body);
        if (eventName != context.Request.Headers["X-MC-Event"].ToString() || context.Request.Headers["X-MC-Delivery"].ToString().Length == 0)
        {
            Interlocked.Increment(ref _headerMismatches);
        }

        string dedupe = eventId ?? context.Request.Headers["X-MC-Delivery"].ToString();
        if (dedupe.Length > 0 && !_deliveryIds.TryAdd(dedupe, 0))
        {
            Interlocked.Increment(ref _duplicates); // a redelivery: a user's receiver would ignore it
        }
        else if (eventName == "task.created" && taskId is not null && _arrivals.TryAdd(taskId, now))
        {
            if (_waiters.TryRemove(taskId, out TaskCompletionSource? waiter))
            {
                waiter.TrySetResult();
            }
        }
        else
        {
            Interlocked.Increment(ref _unmatched);
        }

        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    /// <summary>Null when <paramref name="header"/> is <c>sha256=</c> the hex HMAC-SHA256 of "{timestamp}.{body}"; else why not.</summary>
    internal static string? VerifySignature(byte[] secret, string timestamp, byte[] body, string header)
    {
        const string Scheme = "sha256=";
        if (secret.Length == 0)
        {
            return "a delivery arrived before the secret was known";
        }

        if (timestamp.Length == 0)
        {
            return "no X-MC-Timestamp header";
        }

        if (!header.StartsWith(Scheme, StringComparison.Ordinal))
        {
            return header.Length == 0 ? "no X-MC-Signature header" : $"X-MC-Signature without '{Scheme}': {MissionControlApi.Trim(header)}";
        }

        byte[] given;
        try
        {
            given = Convert.FromHexString(header.AsSpan(Scheme.Length));
        }
        catch (FormatException)
        {
            return $"X-MC-Signature is not hex: {MissionControlApi.Trim(header)}";
        }

        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, secret);
        hmac.AppendData(Encoding.UTF8.GetBytes(timestamp));
        hmac.AppendData("."u8);
        hmac.AppendData(body);
        byte[] expected = hmac.GetHashAndReset();
        return CryptographicOperations.FixedTimeEquals(expected, given) ? null : "HMAC-SHA256 of \"{timestamp}.{body}\" does not match X-MC-Signature";
    }

    /// <summary>The delivery's "id", "event" and data.task.id.</summary>
    private static (string? Id, string? Event, string? TaskId) ReadDelivery(byte[] body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            JsonElement root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (null, null, null);
            }

            string? id = root.TryGetProperty("id", out JsonElement i) && i.ValueKind == JsonValueKind.String ? i.GetString() : null;
            string? evt = root.TryGetProperty("event", out JsonElement e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;
            string? taskId = root.TryGetProperty("data", out JsonElement d) && d.ValueKind == JsonValueKind.Object
                && d.TryGetProperty("task", out JsonElement t) && t.ValueKind == JsonValueKind.Object
                && t.TryGetProperty("id", out JsonElement ti) && ti.ValueKind == JsonValueKind.String
                ? ti.GetString()
                : null;
            return (id, evt, taskId);
        }
        catch (JsonException)
        {
            return (null, null, null);
        }
    }

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request)
    {
        using var buffer = new MemoryStream(request.ContentLength is > 0 and < 1_000_000 ? (int)request.ContentLength.Value : 1024);
        await request.Body.CopyToAsync(buffer).ConfigureAwait(false);
        return buffer.ToArray();
    }

    private async Task<(string Id, string Secret)> CreateWebhookAsync(string url)
    {
        var json = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            writer.WriteString("url", url);
            writer.WriteStartArray("events");
            writer.WriteStringValue("task.created");
            writer.WriteEndArray();
            writer.WriteString("description", "MissionControl.Bench webhook latency receiver (deleted at the end of the run)");
            writer.WriteEndObject();
        }

        (HttpStatusCode status, string body) = await _api.SendAsync(HttpMethod.Post, _api.WebhooksUri, json.WrittenSpan.ToArray()).ConfigureAwait(false);
        string where = $"POST {_api.WebhooksUri.AbsolutePath}";
        switch ((int)status)
        {
            case >= 200 and < 300:
                break;
            case 404:
                throw new SetupException($"the webhook API is not in this system: {where} answered 404 Not Found. Run the webhooks phase against a build that has it.");
            case 422 when body.Contains("webhook_url_not_allowed", StringComparison.Ordinal):
                throw new SetupException(
                    $"{where} refused the bench's loopback receiver ({url}): webhook_url_not_allowed. Start the system with " +
                    "Webhooks__AllowedHosts=127.0.0.1 to allow it, e.g. `Webhooks__AllowedHosts=127.0.0.1 ./scripts/start.sh`.");
            case 401 or 403:
                throw new SetupException($"{where} answered {(int)status} {status}: creating webhooks needs an org admin (check --token): {MissionControlApi.Trim(body)}");
            default:
                throw new SetupException($"{where} answered {(int)status} {status}: {MissionControlApi.Trim(body)}");
        }

        try
        {
            using var doc = JsonDocument.Parse(body);
            JsonElement root = doc.RootElement;
            string? id = root.TryGetProperty("id", out JsonElement i) && i.ValueKind == JsonValueKind.String ? i.GetString() : null;
            string? secret = root.TryGetProperty("secret", out JsonElement s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
            if (id is null || string.IsNullOrEmpty(secret))
            {
                if (id is not null)
                {
                    await DeleteWebhookAsync(id).ConfigureAwait(false);
                }

                throw new SetupException($"{where} answered {(int)status} without an \"id\" and a \"secret\": {MissionControlApi.Trim(body)}");
            }

            return (id, secret);
        }
        catch (JsonException)
        {
            throw new SetupException($"{where} answered {(int)status} with a body that is not JSON: {MissionControlApi.Trim(body)}");
        }
    }

    private async Task<string> DeleteWebhookAsync(string id)
    {
        var uri = new Uri(_api.WebhooksUri + "/" + Uri.EscapeDataString(id));
        try
        {
            (HttpStatusCode status, string body) = await _api.SendAsync(HttpMethod.Delete, uri).ConfigureAwait(false);
            return (int)status is >= 200 and < 300 ? "deleted" : $"DELETE {uri.AbsolutePath} answered {(int)status} {status}: {MissionControlApi.Trim(body)}";
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException or UnreachableException)
        {
            return $"DELETE {uri.AbsolutePath} failed: {ex.Message}";
        }
    }

    private async Task<WebhookResult> SendAllAsync(string url, string webhookId)
    {
        int capacity = ProbeAttempts + _warmup + _events;
        var starts = new long[capacity];
        var taskIds = new string?[capacity];
        int next = 0;
        string? firstError = null;

        // 1. Probe: a delivery arrives at all.
        double? probeMs = null;
        for (int attempt = 0; attempt < ProbeAttempts && probeMs is null; attempt++)
        {
            int seq = next++;
            (bool posted, string? error) = await SendOneAsync(seq, starts, taskIds, ProbeTimeout).ConfigureAwait(false);
            firstError ??= error;
            if (posted && Latency(seq, starts, taskIds, ProbeTimeout) is { } ms)
            {
                probeMs = ms;
            }
        }

        Console.WriteLine(probeMs is { } p
            ? $"  probe delivery arrived after {p:0.00} ms; {_warmup} warm-up tasks, then {_events} measured"
            : $"  warning: no probe delivery arrived within {ProbeTimeout.TotalSeconds:0} s ({ProbeAttempts} tries); measuring anyway");

        // 2. Warm-up (not measured).
        for (int i = 0; probeMs is not null && i < _warmup; i++)
        {
            (_, string? error) = await SendOneAsync(next++, starts, taskIds, DeliveryTimeout).ConfigureAwait(false);
            firstError ??= error;
        }

        // 3. Measured, one after the other.
        int measuredFrom = next, sent = 0, postFailures = 0, consecutiveMisses = 0;
        string? aborted = null;
        for (int i = 0; i < _events; i++)
        {
            int seq = next++;
            (bool posted, string? error) = await SendOneAsync(seq, starts, taskIds, DeliveryTimeout).ConfigureAwait(false);
            if (posted)
            {
                sent++;
            }
            else
            {
                postFailures++;
                firstError ??= error;
            }

            consecutiveMisses = posted && Latency(seq, starts, taskIds, DeliveryTimeout) is not null ? 0 : consecutiveMisses + 1;
            if (consecutiveMisses >= MaxConsecutiveMisses)
            {
                aborted = $"{MaxConsecutiveMisses} tasks in a row failed or got no delivery within {DeliveryTimeout.TotalSeconds:0} s; stopped after {i + 1} of {_events}";
                break;
            }
        }

        var latencies = new List<double>(sent);
        int late = 0;
        for (int seq = measuredFrom; seq < next; seq++)
        {
            if (taskIds[seq] is null)
            {
                continue;
            }

            if (Latency(seq, starts, taskIds, DeliveryTimeout) is { } ms)
            {
                latencies.Add(ms);
            }
            else if (_arrivals.ContainsKey(taskIds[seq]!))
            {
                late++;
            }
        }

        latencies.Sort();
        return new WebhookResult(
            _events, sent, latencies.Count, late, [.. latencies], postFailures, firstError,
            Interlocked.Read(ref _deliveries), Interlocked.Read(ref _badSignatures), _firstBadSignature, Interlocked.Read(ref _stale),
            Interlocked.Read(ref _headerMismatches), Interlocked.Read(ref _duplicates), Interlocked.Read(ref _unmatched),
            probeMs, aborted, url, webhookId, "not deleted");
    }

    /// <summary>Creates task <paramref name="seq"/> and waits (bounded) for its delivery. Returns whether the POST succeeded.</summary>
    private async Task<(bool Posted, string? Error)> SendOneAsync(int seq, long[] starts, string?[] taskIds, TimeSpan timeout)
    {
        byte[] json = MissionControlApi.Json(("title", _titlePrefix + seq.ToString(CultureInfo.InvariantCulture)), ("description", "webhook latency probe"), ("priority", "medium"));
        long t0 = Stopwatch.GetTimestamp();
        starts[seq] = t0;
        HttpStatusCode status;
        string body;
        try
        {
            (status, body) = await _api.SendAsync(HttpMethod.Post, _api.TasksUri, json).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
        {
            return (false, $"POST {_api.TasksUri.AbsolutePath}: {MissionControlApi.Describe(ex)}");
        }

        if ((int)status is < 200 or >= 300 || MissionControlApi.TryReadId(body) is not { } id)
        {
            return (false, $"HTTP {(int)status} {status} on POST {_api.TasksUri.AbsolutePath}: {MissionControlApi.Trim(body)}");
        }

        taskIds[seq] = id;
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiters[id] = waiter;
        // The delivery may have come in before the POST's answer: then it is already in _arrivals.
        if (!_arrivals.ContainsKey(id))
        {
            TimeSpan remaining = timeout - Stopwatch.GetElapsedTime(t0);
            if (remaining > TimeSpan.Zero)
            {
                try
                {
                    await waiter.Task.WaitAsync(remaining).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    // Reported as missing.
                }
            }
        }

        _waiters.TryRemove(id, out _);
        return (true, null);
    }

    private double? Latency(int seq, long[] starts, string?[] taskIds, TimeSpan within)
    {
        if (taskIds[seq] is not { } id || !_arrivals.TryGetValue(id, out long arrived))
        {
            return null;
        }

        TimeSpan elapsed = Stopwatch.GetElapsedTime(starts[seq], arrived);
        return elapsed <= within ? elapsed.TotalMilliseconds : null;
    }
}
