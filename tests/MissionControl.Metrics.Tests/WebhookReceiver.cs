using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using MissionControl.Metrics.Webhooks;
using MissionControl.Outbound;

namespace MissionControl.Metrics.Tests;

/// <summary>What a receiver got: the request as sent, and whether its signature checked out with the path's secret.</summary>
public sealed record ReceivedWebhook(
    string Path, string? Event, string? DeliveryId, long Timestamp, string? UserAgent, string Body, JsonElement Json, bool SignatureValid, int AnsweredWith);

/// <summary>
/// A user's webhook endpoint: Kestrel on 127.0.0.1, any path. It verifies each request's signature the
/// way the README tells users to, and answers what Respond says (default 200).
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedWebhook> _received = new();

    private WebhookReceiver(WebApplication app) => _app = app;

    /// <summary>Secret per path (a path is one webhook).</summary>
    public ConcurrentDictionary<string, string> Secrets { get; } = new();

    /// <summary>(status, Location) for a request, given how many requests that path had before it.</summary>
    public Func<string, int, (int Status, string? Location)> Respond { get; set; } = (_, _) => (200, null);

    public string BaseUrl { get; private set; } = "";
    public int Port => new Uri(BaseUrl).Port;

    public IReadOnlyList<ReceivedWebhook> Received(string path) => _received.Where(r => r.Path == path).ToList();

    /// <summary>The requests of this path it accepted (2xx).</summary>
    public IReadOnlyList<ReceivedWebhook> Accepted(string path) => Received(path).Where(r => r.AnsweredWith is >= 200 and < 300).ToList();

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.Run(receiver.HandleAsync);
        await app.StartAsync();
        receiver.BaseUrl = app.Urls.Single().TrimEnd('/');
        return receiver;
    }

    private async Task HandleAsync(HttpContext http)
    {
        var path = http.Request.Path.Value ?? "/";
        using var reader = new StreamReader(http.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync();
        var timestampHeader = http.Request.Headers["X-MC-Timestamp"].ToString();
        var signature = http.Request.Headers["X-MC-Signature"].ToString();
        var valid = Secrets.TryGetValue(path, out var secret) && Verify(secret, timestampHeader, body, signature);
        var before = Received(path).Count;
        var (status, location) = Respond(path, before);
        JsonElement json;
        try { json = JsonDocument.Parse(body).RootElement.Clone(); }
        catch (JsonException) { json = default; }
        _received.Enqueue(new ReceivedWebhook(path, http.Request.Headers["X-MC-Event"], http.Request.Headers["X-MC-Delivery"],
            long.TryParse(timestampHeader, out var ts) ? ts : 0, http.Request.Headers.UserAgent, body, json, valid, status));
        http.Response.StatusCode = status;
        if (location is not null) http.Response.Headers.Location = location;
    }

    /// <summary>What a user writes: HMAC-SHA256 over "{timestamp}.{raw body}" with the secret, compared in constant time, timestamp fresh.</summary>
    public static bool Verify(string secret, string timestamp, string body, string signature)
    {
        if (!long.TryParse(timestamp, out var ts) || Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - ts) > 300) return false;
        var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}.{body}")));
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(expected), Encoding.UTF8.GetBytes(signature));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>Maps test names to addresses; anything else is "not found" (tests never look up real names).</summary>
public sealed class FakeHostResolver : IWebhookHostResolver
{
    public ConcurrentDictionary<string, IPAddress[]> Names { get; } = new(StringComparer.OrdinalIgnoreCase);

    public Task<IPAddress[]> ResolveAsync(string host, CancellationToken ct) =>
        Names.TryGetValue(host, out var addresses) ? Task.FromResult(addresses) : throw new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.HostNotFound);
}

public static class WebhookHttpAssertions
{
    /// <summary>Asserts the status, showing the body when it differs.</summary>
    public static async Task AssertStatusAsync(this HttpResponseMessage response, HttpStatusCode expected)
    {
        if (response.StatusCode != expected)
            Assert.Fail($"Expected {(int)expected}, got {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }
}
