using System.Net;
using System.Net.Http.Headers;
using System.Buffers;
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
        app.MapGet("/api/v1/boards/{boardId:guid}/tasks/stream", StreamBoardTasks);
        return app;
    }

    private static async Task StreamBoardTasks(
        Guid boardId, HttpContext http, SseHub hub, IHttpClientFactory clients, InternalTokenSigner signer, IProblemDetailsService problems)
    {
        var principal = http.GetPrincipal();
        // orgs decides whether this board exists in the caller's organization and is readable.
        using (var check = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/boards/{boardId}"))
        {
            check.Headers.Authorization = new AuthenticationHeaderValue("Bearer", signer.Sign(principal));
            using var answer = await clients.CreateClient("orgs").SendAsync(check, http.RequestAborted);
            if (answer.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Forbidden)
            {
                http.Response.StatusCode = (int)answer.StatusCode;
                await problems.WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = http,
                    ProblemDetails = { Status = (int)answer.StatusCode, Detail = answer.StatusCode == HttpStatusCode.NotFound ? "Board not found." : "You have no read access to this board." },
                });
                return;
            }
            answer.EnsureSuccessStatusCode();
        }

        var orgId = principal.OrganizationId;
        using var subscription = hub.Subscribe(
            e => e.BoardId == boardId && e.OrganizationId == orgId && e.Topic == EdgeEventsConsumer.TasksTopic,
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
