using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using MissionControl.EventLog;
using MissionControl.InternalAuth;
using MissionControl.Metrics.Data;
using MissionControl.Metrics.EventLog;

namespace MissionControl.Metrics.Activity;

/// <summary>
/// The activity feed, read from the event log: what happened, newest first, with the reference's
/// UI deep links (route_name / route_params). Users see the events of boards they can read; an agent
/// sees its own board's.
/// </summary>
public static class ActivityApi
{
    public static void MapActivityApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/activity", async (HttpContext http, MetricsDbContext db, Guid? board_id, string? event_type, int? limit, int? offset,
            CancellationToken ct) =>
        {
            var principal = http.GetPrincipal();
            // Users: the boards they read; an agent: its own board.
            var events = db.Events.AsNoTracking().VisibleTo(principal).Where(e => e.Message != null);
            if (board_id is not null) events = events.Where(e => e.BoardId == board_id);
            if (event_type is not null) events = events.Where(e => e.Type == event_type);
            if (!PageRequest.TryParse(limit, offset, out var paging, out var pageError)) return pageError!;
            var counts = db.ActivityCounts.VisibleTo(principal).Where(c => c.HasMessage);
            if (board_id is not null) counts = counts.Where(c => c.BoardId == board_id);
            if (event_type is not null) counts = counts.Where(c => c.Type == event_type);
            var total = await counts.TotalAsync(ct);
            var page = await events.OrderByDescending(e => e.Seq).Skip(paging.Offset).Take(paging.Limit).ToListAsync(ct);
            return Results.Ok(new Page<object>(page.Select(Read).ToList(), total, paging.Limit, paging.Offset));
        });

        app.MapGet("/api/v1/activity/task-comments", async (HttpContext http, MetricsDbContext db, Guid? board_id, int? limit, int? offset,
            CancellationToken ct) =>
        {
            var principal = http.GetPrincipal();
            if (principal.Kind != PrincipalKind.User)
                return ApiProblems.Forbidden("The task-comments feed is for organization members.");
            if (board_id is { } board && !principal.IsOrgAdmin && !principal.CanReadBoard(board))
                return ApiProblems.Forbidden("You have no read access to this board.");
            var comments = db.Events.AsNoTracking().VisibleTo(principal).Where(e => e.Type == "task.comment");
            if (board_id is not null) comments = comments.Where(e => e.BoardId == board_id);
            if (!PageRequest.TryParse(limit, offset, out var paging, out var pageError)) return pageError!;
            var commentCounts = db.ActivityCounts.VisibleTo(principal).Where(c => c.Type == "task.comment");
            if (board_id is not null) commentCounts = commentCounts.Where(c => c.BoardId == board_id);
            var total = await commentCounts.TotalAsync(ct);
            var page = await comments.OrderByDescending(e => e.Seq).Skip(paging.Offset).Take(paging.Limit).Select(e => e.Data).ToListAsync(ct);
            var items = page.Select(data => JsonDocument.Parse(data).RootElement.TryGetProperty("feed_item", out var item) ? item.Clone() : default)
                .Where(item => item.ValueKind == JsonValueKind.Object).ToList();
            return Results.Ok(new Page<JsonElement>(items, total, paging.Limit, paging.Offset));
        });
    }

    /// <summary>ActivityEventRead.</summary>
    private static object Read(LogEntry e)
    {
        var (route, parameters) = Route(e);
        return new
        {
            id = e.EventId, event_type = e.Type, message = e.Message, agent_id = e.AgentId, user_id = e.UserId, task_id = e.TaskId,
            board_id = e.BoardId, route_name = route, route_params = parameters, created_at = e.OccurredAt,
        };
    }

    /// <summary>The UI deep link of the reference: the board (on the task, comment or chat), its approvals, or the activity page.</summary>
    public static (string Name, Dictionary<string, string> Params) Route(LogEntry e)
    {
        if (e.BoardId is not { } board) return ("activity", []);
        var parameters = new Dictionary<string, string> { ["boardId"] = board.ToString() };
        if (e.Topic == EventTopics.Approvals) return ("board.approvals", parameters);
        if (e.TaskId is { } task) parameters["taskId"] = task.ToString();
        if (e.Type == "task.comment" && CommentId(e) is { } comment) parameters["commentId"] = comment;
        if (e.Topic == EventTopics.Memory && e.IsChat) parameters["panel"] = "chat";
        return ("board", parameters);
    }

    private static string? CommentId(LogEntry e) =>
        JsonDocument.Parse(e.Data).RootElement.TryGetProperty("comment", out var c) && c.TryGetProperty("id", out var id) ? id.GetString() : null;
}
