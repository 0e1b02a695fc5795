using System.Net;
using System.Net.Http.Headers;
using System.Buffers;
using System.Text.Json;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using MissionControl.InternalAuth;

namespace MissionControl.Edge.Sse;

/// <summary>The SSE streams the edge serves itself, from the hub.</summary>
public static class StreamEndpoints
{
    public static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(15);

    public static IEndpointRouteBuilder MapStreamEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/boards/{boardId:guid}/tasks/stream", (Guid boardId, HttpContext http) => StreamBoardAsync(http, boardId, SseTopics.Tasks));
        app.MapGet("/api/v1/boards/{boardId:guid}/approvals/stream", (Guid boardId, HttpContext http) => StreamBoardAsync(http, boardId, SseTopics.Approvals));
        app.MapGet("/api/v1/boards/{boardId:guid}/memory/stream", (Guid boardId, HttpContext http) => StreamBoardAsync(http, boardId, SseTopics.Memory));
        app.MapGet("/api/v1/boards/{boardId:guid}/group-memory/stream", StreamBoardGroupMemoryAsync);
        app.MapGet("/api/v1/board-groups/{groupId:guid}/memory/stream", (Guid groupId, HttpContext http) =>
            StreamAsync(http, $"/api/v1/board-groups/{groupId}", groupId, SseTopics.GroupMemory));
        app.MapGet("/api/v1/agents/stream", StreamAgentsAsync);
        return app;
    }

    /// <summary>
    /// Board agents as they change: of one board (?board_id, access checked by orgs), else of every board
    /// the caller may read (an agent: its own board).
    /// </summary>
    private static async Task StreamAgentsAsync(HttpContext http, Guid? board_id)
    {
        if (board_id is { } board)
        {
            await StreamBoardAsync(http, board, SseTopics.Agents);
            return;
        }
        var principal = http.GetPrincipal();
        var hub = http.RequestServices.GetRequiredService<SseHub>();
        using var subscription = hub.Subscribe(
            e => e.Topic == SseTopics.Agents && e.OrganizationId == principal.OrganizationId && (principal.IsOrgAdmin || principal.CanReadBoard(e.ScopeId)),
            LastEventId(http.Request));
        await WriteStreamAsync(http, subscription, http.RequestAborted);
    }

    private static Task StreamBoardAsync(HttpContext http, Guid boardId, string topic) =>
        StreamAsync(http, $"/api/v1/boards/{boardId}", boardId, topic);

    /// <summary>The group memory of the board's group (a board in no group streams only heartbeats, as the reference).</summary>
    private static async Task StreamBoardGroupMemoryAsync(Guid boardId, HttpContext http)
    {
        var board = await CheckAccessAsync(http, $"/api/v1/boards/{boardId}");
        if (board is not { } found) return;
        var group = found.TryGetProperty("board_group_id", out var g) && g.ValueKind == JsonValueKind.String ? g.GetGuid() : Guid.Empty;
        await SubscribeAsync(http, group, SseTopics.GroupMemory);
    }

    private static async Task StreamAsync(HttpContext http, string resource, Guid scopeId, string topic)
    {
        if (await CheckAccessAsync(http, resource) is null) return;
        await SubscribeAsync(http, scopeId, topic);
    }

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
            http.Response.StatusCode = (int)answer.StatusCode;
            await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
            {
                HttpContext = http,
                ProblemDetails = { Status = (int)answer.StatusCode, Detail = answer.StatusCode == HttpStatusCode.NotFound ? "Not found." : "You have no read access to this." },
            });
            return null;
        }
        answer.EnsureSuccessStatusCode();
        return await answer.Content.ReadFromJsonAsync<JsonElement>(http.RequestAborted);
    }

    private static async Task SubscribeAsync(HttpContext http, Guid scopeId, string topic)
    {
        var orgId = http.GetPrincipal().OrganizationId;
        // ?is_chat=true|false narrows memory streams to chat or to notes.
        bool? isChat = bool.TryParse(http.Request.Query["is_chat"], out var chat) ? chat : null;
        var hub = http.RequestServices.GetRequiredService<SseHub>();
        using var subscription = hub.Subscribe(
            e => e.ScopeId == scopeId && e.OrganizationId == orgId && e.Topic == topic && (isChat is null || e.IsChat == isChat),
            LastEventId(http.Request));
        await WriteStreamAsync(http, subscription, http.RequestAborted);
    }

    private static Guid? LastEventId(HttpRequest request)
    {
        var raw = request.Headers["Last-Event-ID"].ToString();
        if (raw.Length == 0) raw = request.Query["last_event_id"].ToString();
        return Guid.TryParse(raw, out var id) ? id : null;
    }

    public static async Task WriteStreamAsync(HttpContext http, SseHub.Subscription subscription, CancellationToken ct)
    {
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no";
        var body = http.Response.BodyWriter;
        body.Write(": connected\n\n"u8);
        await body.FlushAsync(ct);

        var reader = subscription.Events.Reader;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                using var heartbeat = CancellationTokenSource.CreateLinkedTokenSource(ct);
                heartbeat.CancelAfter(Heartbeat);
                bool more;
                try { more = await reader.WaitToReadAsync(heartbeat.Token); }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    body.Write(": ping\n\n"u8);
                    await body.FlushAsync(ct);
                    continue;
                }
                if (!more) return;
                while (reader.TryRead(out var evt)) WriteFrame(body, evt);
                await body.FlushAsync(ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
    }

    private static void WriteFrame(System.IO.Pipelines.PipeWriter body, SseEvent evt)
    {
        body.Write("id: "u8);
        body.Write(Encoding.ASCII.GetBytes(evt.Id.ToString()));
        body.Write("\nevent: "u8);
        body.Write(Encoding.UTF8.GetBytes(evt.Name));
        body.Write("\ndata: "u8);
        body.Write(evt.Data);
        body.Write("\n\n"u8);
    }
}
