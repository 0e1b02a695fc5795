using Microsoft.EntityFrameworkCore;
using MissionControl.InternalAuth;
using MissionControl.Messaging;
using MissionControl.Tasks.Data;
using MissionControl.Tasks.Domain;
using MissionControl.Tasks.Operations;

namespace MissionControl.Tasks.Apis;

public sealed record CommentRequest(string? Message);

/// <summary>/api/v1/boards/{board_id}/tasks/{task_id}/comments (handlers shared with the agent routes).</summary>
public static class CommentsApi
{
    public static IEndpointRouteBuilder MapCommentsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/boards/{boardId:guid}/tasks/{taskId:guid}/comments");
        api.MapGet("", List);
        api.MapPost("", Create);
        return app;
    }

    /// <summary>Oldest first.</summary>
    internal static async Task<IResult> List(
        Guid boardId, Guid taskId, HttpContext http, BoardAccess access, TasksDbContext db, int? limit, int? offset, CancellationToken ct)
    {
        if (!PageRequest.TryParse(limit, offset, out var page, out var pageError)) return pageError!;
        var (_, error) = await access.CheckAsync(http, boardId, BoardAccessLevel.Read, ct);
        if (error is not null) return error;
        if (!await db.Tasks.AnyAsync(t => t.Id == taskId && t.BoardId == boardId, ct)) return ApiProblems.NotFound("Task not found.");
        var query = db.TaskComments.AsNoTracking().Where(c => c.TaskId == taskId);
        var total = await query.CountAsync(ct);
        var items = await query.OrderBy(c => c.CreatedAt).ThenBy(c => c.Id).Skip(page.Offset).Take(page.Limit).ToListAsync(ct);
        return Results.Ok(new Page<Contracts.Tasks.TaskCommentState>(items.ConvertAll(CommentWriter.State), total, page.Limit, page.Offset));
    }

    internal static async Task<IResult> Create(
        Guid boardId, Guid taskId, CommentRequest body, HttpContext http, BoardAccess access, TasksDbContext db, DatabaseWriteGate gate,
        CommentWriter comments, TimeProvider time, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(body.Message)) return ApiProblems.Validation("message", "must not be blank");
        if (body.Message.Length > TaskInput.MaxComment) return ApiProblems.Validation("message", $"must be at most {TaskInput.MaxComment} characters");
        var (board, error) = await access.CheckAsync(http, boardId, BoardAccessLevel.Write, ct);
        if (error is not null) return error;
        var principal = http.GetPrincipal();
        var actor = BoardAccess.ActorOf(principal);
        if (actor is null) return ApiProblems.Forbidden("This caller cannot comment on tasks.");

        await using var unit = await WriteUnit.BeginAsync(db, gate, ct);
        var task = await db.Tasks.AsNoTracking().FirstOrDefaultAsync(t => t.Id == taskId && t.BoardId == boardId, ct);
        if (task is null) return ApiProblems.NotFound("Task not found.");
        if (actor.Role == ActorRole.Lead && !await LeadMayCommentAsync(db, task, actor.AgentId!.Value, principal.Name, ct))
            return ApiProblems.Forbidden("Board leads can only comment during review, when mentioned, or on tasks they created.", "lead_comment_forbidden");

        var comment = await comments.AddAsync(board!, task, principal, body.Message, notifyAssignee: true, time.GetUtcNow().UtcDateTime, ct);
        await unit.CommitAsync(ct);
        return Results.Created($"/api/v1/boards/{boardId}/tasks/{taskId}/comments/{comment.Id}", CommentWriter.State(comment));
    }

    /// <summary>Reference §3.5: during review, when @mentioned in the task's thread, or on a task the lead created.</summary>
    private static async Task<bool> LeadMayCommentAsync(TasksDbContext db, TaskItem task, Guid leadId, string? leadName, CancellationToken ct)
    {
        if (task.Status == TaskStatuses.Review || task.AutoReason == $"lead_agent:{leadId}") return true;
        var messages = await db.TaskComments.AsNoTracking().Where(c => c.TaskId == task.Id && c.Message.Contains("@"))
            .Select(c => c.Message).ToListAsync(ct);
        return messages.Any(m => Mentions.Matches(Mentions.Extract(m), leadName ?? "", isLead: true));
    }
}
