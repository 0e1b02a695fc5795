using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;

namespace MissionControl.Outbound;

/// <summary>Per attempt: the timeout (redirects included) and how many redirects are followed.</summary>
public sealed record OutboundHttpOptions(TimeSpan Timeout, int MaxRedirects = 3);

public sealed record WebhookAttemptResult(bool Succeeded, int? StatusCode, long LatencyMs, string? Error);

/// <summary>
/// One attempt at one delivery: POST the body, signed, to the URL; redirects are followed here (up to
/// MaxRedirects, each hop checked), never by the handler. Every connection goes through the guard
/// after DNS resolution, and only to an address that passed it.
/// </summary>
public sealed class WebhookSender : IDisposable
{
    public const string UserAgent = "MissionControl-Webhook/1.0";

    private readonly OutboundHttpOptions _options;
    private readonly AddressGuard _guard;
    private readonly HttpClient _http;
    private readonly TimeProvider _clock;
    private readonly ILogger<WebhookSender> _log;

    public WebhookSender(OutboundHttpOptions options, AddressGuard guard, IWebhookHostResolver resolver, TimeProvider clock, ILogger<WebhookSender> log)
    {
        _log = log;
        _options = options;
        _guard = guard;
        _clock = clock;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            ConnectTimeout = options.Timeout,
            ConnectCallback = async (context, ct) =>
            {
                var addresses = await guard.ResolveAllowedAsync(resolver, context.DnsEndPoint.Host, ct);
                Exception? last = null;
                foreach (var address in addresses)
                {
                    var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                    try
                    {
                        await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), ct);
                        return new NetworkStream(socket, ownsSocket: true);
                    }
                    catch (Exception e)
                    {
                        socket.Dispose();
                        last = e;
                    }
                }
                throw last!;
            },
        };
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>sha256=hex(HMAC-SHA256(secret, "{timestamp}.{body}")), the secret's UTF-8 bytes as the key.</summary>
    public static string Sign(string secret, long timestamp, string body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}.{body}")));

    public async Task<WebhookAttemptResult> SendAsync(string url, string secret, Guid deliveryId, string eventType, string body, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.Timeout);
        int? status = null;
        try
        {
            var target = new Uri(url);
            for (var hop = 0; ; hop++)
            {
                if (_guard.CheckUrl(target) is { } refused)
                {
                    _log.LogInformation("Webhook delivery {Delivery}: refused {Host}: {Reason}", deliveryId, target.Host, refused);
                    return new(false, status, watch.ElapsedMilliseconds, AddressNotAllowedException.Code);
                }
                var timestamp = _clock.GetUtcNow().ToUnixTimeSeconds();
                using var request = new HttpRequestMessage(HttpMethod.Post, target)
                {
                    Content = new StringContent(body, Encoding.UTF8, "application/json"),
                };
                request.Headers.TryAddWithoutValidation("User-Agent", UserAgent);
                request.Headers.Add("X-MC-Event", eventType);
                request.Headers.Add("X-MC-Delivery", deliveryId.ToString());
                request.Headers.Add("X-MC-Timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
                request.Headers.Add("X-MC-Signature", Sign(secret, timestamp, body));
                using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                status = (int)response.StatusCode;
                if (status is >= 300 and < 400 && response.Headers.Location is { } location)
                {
                    if (hop >= _options.MaxRedirects) return new(false, status, watch.ElapsedMilliseconds, "too_many_redirects");
                    target = location.IsAbsoluteUri ? location : new Uri(target, location);
                    continue;
                }
                return new(status is >= 200 and < 300, status, watch.ElapsedMilliseconds, null);
            }
        }
        catch (Exception e) when (Find<AddressNotAllowedException>(e) is { } refused)
        {
            _log.LogInformation("Webhook delivery {Delivery}: {Reason}", deliveryId, refused.Message);
            return new(false, status, watch.ElapsedMilliseconds, AddressNotAllowedException.Code);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new(false, status, watch.ElapsedMilliseconds, "timeout");
        }
        catch (Exception e) when (e is HttpRequestException or IOException or SocketException or UriFormatException)
        {
            var inner = Find<SocketException>(e)?.Message ?? e.Message;
            return new(false, status, watch.ElapsedMilliseconds, Truncate($"connection_failed: {inner}"));
        }
    }

    private static T? Find<T>(Exception? e) where T : Exception
    {
        for (; e is not null; e = e.InnerException)
            if (e is T found) return found;
        return null;
    }

    private static string Truncate(string s) => s.Length <= 500 ? s : s[..500];

    public void Dispose() => _http.Dispose();
}
