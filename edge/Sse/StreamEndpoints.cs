using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using MissionControl.EventLog;
using MissionControl.InternalAuth;

namespace MissionControl.Edge.Sse;

/// <summary>
/// The SSE streams the edge serves itself: live from the hub, resumed (Last-Event-ID or ?since) from
/// the hub's memory or, further back, from the metrics event log, without a gap or a repeat.
/// </summary>
public static class StreamEndpoints
{
    public static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(15);
    /// <summary>A client whose socket takes longer than this to accept a write is cut off.</summary>
    private static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(10);

    /// <summary>How frames look: the /api/v1 named events, the same with an envelope naming the type, or seed 001's unnamed JSON.</summary>
    public enum Format { Named, Typed, Seed001, Comment }

    private sealed record Stream(Func<SseEvent, bool> Filter, string? Topic = null, Guid? BoardId = null, Guid? GroupId = null, Format Format = Format.Named);

    public static IEndpointRouteBuilder MapStreamEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/boards/{boardId:guid}/tasks/stream", (Guid boardId, HttpContext http) => StreamBoardAsync(http, boardId, EventTopics.Tasks));
        app.MapGet("/api/v1/boards/{boardId:guid}/approvals/stream", (Guid boardId, HttpContext http) => StreamBoardAsync(http, boardId, EventTopics.Approvals));
        app.MapGet("/api/v1/boards/{boardId:guid}/memory/stream", (Guid boardId, HttpContext http) => StreamBoardAsync(http, boardId, EventTopics.Memory));
        app.MapGet("/api/v1/boards/{boardId:guid}/group-memory/stream", StreamBoardGroupMemoryAsync);
        app.MapGet("/api/v1/board-groups/{groupId:guid}/memory/stream", async (Guid groupId, HttpContext http) =>
        {
            if (await CheckAccessAsync(http, $"/api/v1/board-groups/{groupId}") is null) return;
            await StreamGroupMemoryAsync(http, groupId);
        });
        app.MapGet("/api/v1/agents/stream", StreamAgentsAsync);
        app.MapGet("/api/v1/activity/task-comments/stream", StreamTaskCommentsAsync);
        app.MapGet("/api/v1/events/stream", (HttpContext http) => StreamEverythingAsync(http, Format.Typed));
        app.MapGet("/api/events", (HttpContext http) => StreamEverythingAsync(http, Format.Seed001));
        // Seed 002's activity stream: tasks, desktops (agents) and approvals, in seed 001's frames ({type, data, timestamp}).
        app.MapGet("/api/mission-control/activity/stream", (HttpContext http) => StreamEverythingAsync(http, Format.Seed001, MissionControlTopics));
        return app;
    }

    private static readonly string[] MissionControlTopics = [EventTopics.Tasks, EventTopics.Approvals, EventTopics.Agents];

    /// <summary>Every event the caller may see (users by board access, agents their own board), of the given topics only when named.</summary>
    private static Task StreamEverythingAsync(HttpContext http, Format format, string[]? topics = null)
    {
        var principal = http.GetPrincipal();
        if (principal.OrganizationId is null) return Results.Problem(statusCode: 403, detail: "No active organization.").ExecuteAsync(http);
        return RunAsync(http, new Stream(e => (topics is null || topics.Contains(e.Event.Topic)) && EventAudiences.CanSee(principal, e.Event), Format: format));
    }

    /// <summary>
    /// Board agents as they change: of one board (?board_id, access checked by orgs), else of every board
    /// the caller may read (an agent: its own board).
    /// </summary>
    private static async Task StreamAgentsAsync(HttpContext http, Guid? board_id)
    {
        if (board_id is { } board)
        {
            await StreamBoardAsync(http, board, EventTopics.Agents);
            return;
        }
        var principal = http.GetPrincipal();
        await RunAsync(http, new Stream(e => e.Event.Topic == EventTopics.Agents && EventAudiences.CanSee(principal, e.Event), EventTopics.Agents));
    }

    /// <summary>Task comments as the reference's feed items (event "comment"), of one board or every board the member reads.</summary>
    private static async Task StreamTaskCommentsAsync(HttpContext http, Guid? board_id)
    {
        var principal = http.GetPrincipal();
        if (principal.Kind != PrincipalKind.User)
        {
            await Results.Problem(statusCode: 403, detail: "The task-comments feed is for organization members.").ExecuteAsync(http);
            return;
        }
        if (board_id is { } board && await CheckAccessAsync(http, $"/api/v1/boards/{board}") is null) return;
        await RunAsync(http, new Stream(
            e => e.Event.Type == "task.comment" && (board_id is null || e.Event.BoardId == board_id) && EventAudiences.CanSee(principal, e.Event),
            EventTopics.Tasks, BoardId: board_id, Format: Format.Comment));
    }

    private static async Task StreamBoardAsync(HttpContext http, Guid boardId, string topic)
    {
        if (await CheckAccessAsync(http, $"/api/v1/boards/{boardId}") is null) return;
        var org = http.GetPrincipal().OrganizationId;
        var isChat = IsChatFilter(http);
        await RunAsync(http, new Stream(
            e => e.Event.BoardId == boardId && e.Event.Topic == topic && e.Event.OrganizationId == org && (isChat is null || e.Event.IsChat == isChat),
            topic, BoardId: boardId));
    }

    /// <summary>The group memory of the board's group (a board in no group streams only heartbeats, as the reference).</summary>
    private static async Task StreamBoardGroupMemoryAsync(Guid boardId, HttpContext http)
    {
        var board = await CheckAccessAsync(http, $"/api/v1/boards/{boardId}");
        if (board is not { } found) return;
        var group = found.TryGetProperty("board_group_id", out var g) && g.ValueKind == JsonValueKind.String ? g.GetGuid() : Guid.Empty;
        await StreamGroupMemoryAsync(http, group);
    }

    private static Task StreamGroupMemoryAsync(HttpContext http, Guid groupId)
    {
        var org = http.GetPrincipal().OrganizationId;
        var isChat = IsChatFilter(http);
        return RunAsync(http, new Stream(
            e => e.Event.BoardGroupId == groupId && e.Event.Topic == EventTopics.GroupMemory && e.Event.OrganizationId == org && (isChat is null || e.Event.IsChat == isChat),
            EventTopics.GroupMemory, GroupId: groupId));
    }

    /// <summary>?is_chat=true|false narrows memory streams to chat or to notes.</summary>
    private static bool? IsChatFilter(HttpContext http) => bool.TryParse(http.Request.Query["is_chat"], out var chat) ? chat : null;

    /// <summary>
    /// orgs decides whether the board or group exists in the caller's organization and is readable by
    /// it: asked once per connection, as the caller. Writes the 404/403 itself and returns null then.
    /// </summary>
    private static async Task<JsonElement?> CheckAccessAsync(HttpContext http, string resource)
    {
        var clients = http.RequestServices.GetRequiredService<IHttpClientFactory>();
        var signer = http.RequestServices.GetRequiredService<InternalTokenSigner>();
        using var check = new HttpRequestMessage(HttpMethod.Get, resource);
        check.Headers.Authorization = new AuthenticationHeaderValue("Bearer", signer.Sign(http.GetPrincipal()));
        using var answer = await clients.CreateClient("orgs").SendAsync(check, http.RequestAborted);
        if (answer.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Forbidden)
        {
            await Results.Problem(statusCode: (int)answer.StatusCode,
                detail: answer.StatusCode == HttpStatusCode.NotFound ? "Not found." : "You have no read access to this.").ExecuteAsync(http);
            return null;
        }
        answer.EnsureSuccessStatusCode();
        return await answer.Content.ReadFromJsonAsync<JsonElement>(http.RequestAborted);
    }

    /// <summary>
    /// Where a reconnecting client left off: Last-Event-ID (or ?last_event_id), a seq, else ?since, a time.
    /// A value given that is neither is refused (422) rather than ignored: going live instead would
    /// silently lose what the client missed.
    /// </summary>
    private static (long? After, DateTime? Since, IResult? Error) ResumePoint(HttpRequest request)
    {
        var (name, raw) = ("Last-Event-ID", request.Headers["Last-Event-ID"].ToString());
        if (raw.Length == 0) (name, raw) = ("last_event_id", request.Query["last_event_id"].ToString());
        if (raw.Length > 0)
            return long.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var seq)
                ? (seq, null, null)
                : (null, null, ApiProblems.Validation(name, ParameterErrors.Message("an event id", raw)));
        raw = request.Query["since"].ToString();
        if (raw.Length == 0) return (null, null, null);
        return DateTimeOffset.TryParse(raw, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var since)
            ? (null, since.UtcDateTime, null)
            : (null, null, ApiProblems.Validation("since", ParameterErrors.Message(typeof(DateTimeOffset), raw)));
    }

    private static async Task RunAsync(HttpContext http, Stream stream)
    {
        var hub = http.RequestServices.GetRequiredService<SseHub>();
        var ct = http.RequestAborted;
        var (after, since, invalid) = ResumePoint(http.Request);
        if (invalid is not null)
        {
            await invalid.ExecuteAsync(http);
            return;
        }
        var resuming = after is not null || since is not null;
        if (resuming && !hub.IsStarted)
        {
            // A resume needs to know where live delivery starts; the event log is not reachable yet.
            try { await hub.WaitStartedAsync(ct).WaitAsync(TimeSpan.FromSeconds(10), ct); }
            catch (TimeoutException)
            {
                http.Response.Headers.RetryAfter = "2";
                await Results.Problem(statusCode: 503, detail: "The event log is not reachable yet; reconnect shortly.").ExecuteAsync(http);
                return;
            }
        }

        using var subscription = hub.Subscribe(stream.Filter);
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache, no-transform";
        http.Response.Headers["X-Accel-Buffering"] = "no";
        var body = http.Response.BodyWriter;
        if (stream.Format == Format.Seed001)
            Write(body, $"data: {{\"type\":\"connected\",\"data\":null,\"timestamp\":{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}}}\n\n");
        else body.Write(": connected\n\n"u8);
        await FlushAsync(http, body);

        try
        {
            var cursor = resuming ? await BackfillAsync(http, hub, subscription, stream, after, since, body) : subscription.JoinedAt;
            await LiveAsync(http, subscription, stream, cursor, body);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
    }

    /// <summary>
    /// Everything the stream missed up to where live delivery took over (the hub's head when the client
    /// joined): from the hub while it still holds it, else from the event log. Returns the last position written.
    /// </summary>
    private static async Task<long> BackfillAsync(HttpContext http, SseHub hub, SseHub.Subscription subscription, Stream stream,
        long? after, DateTime? since, PipeWriter body)
    {
        var log = http.RequestServices.GetRequiredService<EventLogClient>();
        var org = http.GetPrincipal().OrganizationId ?? Guid.Empty;
        var upTo = subscription.JoinedAt;
        // An id beyond the log's head is not from this log (its database was replaced): start live.
        if (after > upTo && after > await log.HeadAsync(http.RequestAborted)) return upTo;
        long? cursor = after;
        while (cursor is null || cursor < upTo)
        {
            if (cursor is { } from && hub.ReadHeld(from, upTo, stream.Filter) is { } held)
            {
                foreach (var e in held.Events) WriteFrame(body, e, stream.Format);
                cursor = held.Through;
            }
            else
            {
                var page = await log.ReadAsync(org, cursor, since, upTo + 1, stream.Topic, stream.BoardId, stream.GroupId, http.RequestAborted);
                cursor ??= page.After;
                foreach (var item in page.Items)
                {
                    var e = new SseEvent(item);
                    if (stream.Filter(e)) WriteFrame(body, e, stream.Format);
                    cursor = item.Seq;
                }
                if (page.Items.Count < 500) cursor = Math.Max(cursor.Value, upTo);
            }
            await FlushAsync(http, body);
        }
        return cursor.Value;
    }

    private static async Task LiveAsync(HttpContext http, SseHub.Subscription subscription, Stream stream, long cursor, PipeWriter body)
    {
        var ct = http.RequestAborted;
        var reader = subscription.Events.Reader;
        while (!ct.IsCancellationRequested)
        {
            using var heartbeat = CancellationTokenSource.CreateLinkedTokenSource(ct);
            heartbeat.CancelAfter(Heartbeat);
            bool more;
            try { more = await reader.WaitToReadAsync(heartbeat.Token); }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                body.Write(stream.Format == Format.Seed001 ? ": heartbeat\n\n"u8 : ": ping\n\n"u8);
                await FlushAsync(http, body);
                continue;
            }
            if (!more)
            {
                // Cut off for falling behind: it reconnects with its Last-Event-ID and catches up from the log.
                if (subscription.Overflowed) body.Write(": lagging; reconnect with Last-Event-ID to resume\n\n"u8);
                await FlushAsync(http, body);
                return;
            }
            while (reader.TryRead(out var evt))
                if (evt.Seq > cursor) WriteFrame(body, evt, stream.Format);
            await FlushAsync(http, body);
        }
    }

    private static async Task FlushAsync(HttpContext http, PipeWriter body)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        timeout.CancelAfter(WriteTimeout);
        try { await body.FlushAsync(timeout.Token); }
        catch (OperationCanceledException) when (!http.RequestAborted.IsCancellationRequested)
        {
            http.Abort(); // the client stopped reading
            throw new OperationCanceledException(http.RequestAborted);
        }
    }

    private static void WriteFrame(PipeWriter body, SseEvent evt, Format format)
    {
        var e = evt.Event;
        body.Write("id: "u8);
        Write(body, e.Seq.ToString(CultureInfo.InvariantCulture));
        switch (format)
        {
            case Format.Named:
                body.Write("\nevent: "u8);
                Write(body, e.Name);
                body.Write("\ndata: "u8);
                body.Write(evt.Data);
                break;
            case Format.Typed:
                body.Write("\nevent: "u8);
                Write(body, e.Type);
                body.Write("\ndata: "u8);
                body.Write(JsonSerializer.SerializeToUtf8Bytes(new
                {
                    id = e.Id, seq = e.Seq, type = e.Type, board_id = e.BoardId, board_group_id = e.BoardGroupId, task_id = e.TaskId,
                    agent_id = e.AgentId, message = e.Message, occurred_at = e.OccurredAt, data = e.Data,
                }, JsonDefaults.Api));
                break;
            case Format.Comment:
                body.Write("\nevent: comment\ndata: "u8);
                body.Write(JsonSerializer.SerializeToUtf8Bytes(new { comment = e.Data.TryGetProperty("feed_item", out var item) ? item : e.Data }, JsonDefaults.Api));
                break;
            case Format.Seed001:
                body.Write("\ndata: "u8);
                body.Write(JsonSerializer.SerializeToUtf8Bytes(new
                {
                    type = e.Type, data = e.Data, timestamp = new DateTimeOffset(e.OccurredAt, TimeSpan.Zero).ToUnixTimeMilliseconds(),
                }, JsonDefaults.Api));
                break;
        }
        body.Write("\n\n"u8);
    }

    private static void Write(PipeWriter body, string text) => body.Write(Encoding.UTF8.GetBytes(text));
}
