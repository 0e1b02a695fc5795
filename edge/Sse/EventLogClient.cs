using System.Net.Http.Headers;
using System.Text.Json;
using MissionControl.Edge.Auth;
using MissionControl.EventLog;
using MissionControl.InternalAuth;

namespace MissionControl.Edge.Sse;

/// <summary>The edge's reads of the metrics event log, as the edge service (never as a user).</summary>
public sealed class EventLogClient(IHttpClientFactory clients, InternalTokenSigner signer)
{
    public const string FeedClientName = "metrics-feed";

    public sealed record Page(long After, List<LoggedEvent> Items);

    /// <summary>A stream's events after a position (or logged since a time), before another, oldest first.</summary>
    public async Task<Page> ReadAsync(Guid organizationId, long? after, DateTime? since, long before, string? topic, Guid? boardId, Guid? groupId,
        CancellationToken ct)
    {
        var query = $"/internal/events?organization_id={organizationId}&before={before}&limit=500";
        if (after is { } a) query += $"&after={a}";
        else if (since is { } s) query += $"&since={Uri.EscapeDataString(s.ToString("O"))}";
        if (topic is not null) query += $"&topic={Uri.EscapeDataString(topic)}";
        if (boardId is not null) query += $"&board_id={boardId}";
        if (groupId is not null) query += $"&board_group_id={groupId}";
        using var request = Request(HttpMethod.Get, query);
        using var response = await clients.CreateClient("metrics").SendAsync(request, ct);
        response.EnsureSuccessStatusCode();
        var page = await response.Content.ReadFromJsonAsync<PageBody>(JsonDefaults.Api, ct) ?? throw new InvalidOperationException("empty event page");
        return new Page(page.After, page.Items);
    }

    public async Task<long> HeadAsync(CancellationToken ct)
    {
        using var request = Request(HttpMethod.Get, "/internal/events/head");
        using var response = await clients.CreateClient("metrics").SendAsync(request, ct);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("seq").GetInt64();
    }

    /// <summary>The live feed after <paramref name="after"/>: newline-delimited events (empty lines are keep-alives).</summary>
    public async Task<HttpResponseMessage> OpenFeedAsync(long after, CancellationToken ct)
    {
        using var request = Request(HttpMethod.Get, $"/internal/events/feed?after={after}");
        var response = await clients.CreateClient(FeedClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        response.EnsureSuccessStatusCode();
        return response;
    }

    private HttpRequestMessage Request(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", signer.Sign(PrincipalResolver.EdgeService));
        return request;
    }

    private sealed record PageBody(long After, List<LoggedEvent> Items);
}

/// <summary>
/// Keeps the edge's hub fed from the event log: starts at the log's head, then follows the live feed,
/// reconnecting after the last position it got (so nothing between is lost) with backoff.
/// </summary>
/// <param name="silence">No line (not even a keep-alive) for this long means the feed is dead; 30 s unless a test says.</param>
public sealed class EventFeed(EventLogClient log, SseHub hub, ILogger<EventFeed> logger, TimeSpan? silence = null) : BackgroundService
{
    private readonly TimeSpan _silence = silence ?? TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        var delay = TimeSpan.FromMilliseconds(200);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (!hub.IsStarted) hub.Start(await log.HeadAsync(ct));
                await FollowAsync(hub.Head, ct);
                delay = TimeSpan.FromMilliseconds(200);
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                logger.LogWarning("Event log feed unavailable ({Error}); retrying in {Delay} ms", ex.Message, (int)delay.TotalMilliseconds);
                await Task.Delay(delay + TimeSpan.FromMilliseconds(Random.Shared.Next(0, 100)), ct);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 5000));
            }
        }
    }

    private async Task FollowAsync(long after, CancellationToken ct)
    {
        using var response = await log.OpenFeedAsync(after, ct);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
        logger.LogInformation("Following the event log after {Seq}", after);
        // One timer for the whole feed, moved forward by a line at most once a second: not a token source
        // and a timer per line, which is per event under load.
        using var silent = CancellationTokenSource.CreateLinkedTokenSource(ct);
        silent.CancelAfter(_silence);
        var armed = Environment.TickCount64;
        while (!ct.IsCancellationRequested)
        {
            var line = await reader.ReadLineAsync(silent.Token) ?? throw new IOException("the event log feed ended");
            if (Environment.TickCount64 - armed >= 1000)
            {
                silent.CancelAfter(_silence);
                armed = Environment.TickCount64;
            }
            if (line.Length == 0) continue;
            hub.Publish(new SseEvent(JsonSerializer.Deserialize<LoggedEvent>(line, JsonDefaults.Api)!));
        }
    }
}
