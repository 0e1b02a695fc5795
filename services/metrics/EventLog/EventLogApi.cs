using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.EntityFrameworkCore;
using MissionControl.EventLog;
using MissionControl.InternalAuth;
using MissionControl.Messaging;
using MissionControl.Metrics.Data;

namespace MissionControl.Metrics.EventLog;

/// <summary>
/// Reading the log. /internal/* serves the edge (its service token only): the head, filtered pages for
/// stream resumes, and the live feed it fans out to SSE clients. /api/v1/events is the public cursor
/// over what the caller may see.
/// </summary>
public static class EventLogApi
{
    private const int MaxPage = 500;

    public static void MapEventLogApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/internal/events/head", async (HttpContext http, MetricsDbContext db, CancellationToken ct) =>
            ServiceOnly(http) ?? Results.Ok(new { seq = await HeadAsync(db, ct) }));

        app.MapGet("/internal/events", async (HttpContext http, MetricsDbContext db, Guid organization_id, long? after, long? before,
            DateTime? since, string? topic, Guid? board_id, Guid? board_group_id, int? limit, CancellationToken ct) =>
        {
            if (ServiceOnly(http) is { } refused) return refused;
            var events = db.Events.AsNoTracking().Where(e => e.OrganizationId == organization_id);
            if (topic is not null) events = events.Where(e => e.Topic == topic);
            if (board_id is not null) events = events.Where(e => e.BoardId == board_id);
            if (board_group_id is not null) events = events.Where(e => e.BoardGroupId == board_group_id);
            var from = after ?? (since is { } s ? await db.Events.SeqBeforeAsync(s.ToUniversalTime(), ct) : 0);
            events = events.Where(e => e.Seq > from);
            if (before is not null) events = events.Where(e => e.Seq < before);
            var page = await events.OrderBy(e => e.Seq).Take(Math.Clamp(limit ?? MaxPage, 1, MaxPage)).ToListAsync(ct);
            return Results.Ok(new { after = from, items = page.Select(e => e.ToLogged()) });
        });

        app.MapGet("/internal/events/feed", FeedAsync);

        app.MapGet("/api/v1/events", async (HttpContext http, MetricsDbContext db, long? after, DateTime? since, string? type, int? limit, CancellationToken ct) =>
        {
            var events = db.Events.AsNoTracking().VisibleTo(http.GetPrincipal());
            if (type is not null)
                events = type.EndsWith(".*", StringComparison.Ordinal)
                    ? events.Where(e => e.Type.StartsWith(type.Substring(0, type.Length - 1)))
                    : events.Where(e => e.Type == type);
            var from = after ?? (since is { } s ? await db.Events.SeqBeforeAsync(s.ToUniversalTime(), ct) : 0);
            var take = Math.Clamp(limit ?? 50, 1, 200);
            var page = await events.Where(e => e.Seq > from).OrderBy(e => e.Seq).Take(take).ToListAsync(ct);
            return Results.Ok(new
            {
                items = page.Select(e => e.ToLogged()),
                next_after = page.Count > 0 ? page[^1].Seq : from,
                has_more = page.Count == take,
            });
        });
    }

    public static async Task<long> HeadAsync(MetricsDbContext db, CancellationToken ct) =>
        await db.LogHead.Where(h => h.Id == 1).Select(h => h.LastSeq).FirstAsync(ct);

    /// <summary>
    /// Every event after ?after (default: the head), as newline-delimited JSON, live, in seq order and
    /// without gaps: from memory when this instance logged the next one, else from the database. An
    /// empty line every 10 s says the feed is alive; events another instance logged are found within
    /// the poll interval.
    /// </summary>
    private static async Task FeedAsync(HttpContext http, IServiceScopeFactory scopes, RecentEvents recent, long? after, CancellationToken ct)
    {
        if (ServiceOnly(http) is { } refused)
        {
            await refused.ExecuteAsync(http);
            return;
        }
        long cursor;
        await using (var scope = scopes.CreateAsyncScope())
            cursor = after ?? await HeadAsync(scope.ServiceProvider.GetRequiredService<MetricsDbContext>(), ct);

        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        http.Response.ContentType = "application/x-ndjson";
        var body = http.Response.BodyWriter;
        // A keep-alive first: the response starts now, not with the first event, so a reader waiting for its
        // headers (the edge) knows it is following from here.
        body.Write("\n"u8);
        await body.FlushAsync(ct);
        var lastWrite = DateTime.UtcNow;
        // The database is read to catch up, when memory has a later event but not the next one (another
        // instance logged it, or it has left the ring), and at each poll; not after every batch this
        // instance logged, which memory answers (that was one query per logged batch per feed).
        var lookInDatabase = true;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var added = recent.NextAddedAsync();
                var batch = recent.ReadAfter(cursor, MaxPage);
                if (batch.Count == 0 && (lookInDatabase || recent.Head > cursor))
                {
                    await using var scope = scopes.CreateAsyncScope();
                    var db = scope.ServiceProvider.GetRequiredService<MetricsDbContext>();
                    var rows = await db.Events.AsNoTracking().Where(e => e.Seq > cursor).OrderBy(e => e.Seq).Take(MaxPage).ToListAsync(ct);
                    batch = rows.Select(r => r.ToLogged()).ToList();
                }
                if (batch.Count > 0)
                {
                    foreach (var e in batch)
                    {
                        body.Write(JsonSerializer.SerializeToUtf8Bytes(e, JsonDefaults.Api));
                        body.Write("\n"u8);
                    }
                    cursor = batch[^1].Seq;
                    await body.FlushAsync(ct);
                    lastWrite = DateTime.UtcNow;
                    continue;
                }
                if (DateTime.UtcNow - lastWrite > TimeSpan.FromSeconds(10))
                {
                    body.Write("\n"u8);
                    await body.FlushAsync(ct);
                    lastWrite = DateTime.UtcNow;
                }
                lookInDatabase = !await added.CompletedWithinAsync(FeedPollInterval, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
    }

    /// <summary>How often an idle feed looks in the database for events other metrics instances logged.</summary>
    public static TimeSpan FeedPollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    private static IResult? ServiceOnly(HttpContext http) =>
        http.GetPrincipal().Kind == PrincipalKind.Service ? null
            : Results.Problem(statusCode: StatusCodes.Status403Forbidden, detail: "Only Mission Control's services read the raw event log.");
}
