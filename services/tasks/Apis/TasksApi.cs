using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Tasks;
using MissionControl.InternalAuth;
using MissionControl.Messaging;
using MissionControl.Tasks.Data;

namespace MissionControl.Tasks.Apis;

public sealed record CreateTaskRequest(
    string? Title, string? Description, string? Status, string? Priority, DateTimeOffset? DueAt, Guid? AssignedAgentId);

public sealed record TaskRead(
    Guid Id, Guid BoardId, string Title, string? Description, string Status, string Priority, DateTime? DueAt,
    Guid? AssignedAgentId, Guid? CreatedByUserId, DateTime? InProgressAt, DateTime CreatedAt, DateTime UpdatedAt,
    IReadOnlyList<Guid> DependsOnTaskIds, IReadOnlyList<Guid> TagIds, IReadOnlyList<Guid> BlockedByTaskIds, bool IsBlocked);

public static class TasksApi
{
    public static IEndpointRouteBuilder MapTasksApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/boards/{boardId:guid}/tasks");
        api.MapPost("", Create);
        api.MapGet("", List);
        api.MapGet("/{taskId:guid}", Get);
        return app;
    }

    private static async Task<IResult> Create(
        Guid boardId, CreateTaskRequest body, HttpContext http, BoardCopies boards, TaskWriter writer, TimeProvider time, CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        if (principal.Kind != PrincipalKind.User)
            return ApiProblems.Forbidden("Only users create tasks here; agents use /api/v1/agent/boards/{board_id}/tasks.");
        var board = await boards.FindAsync(boardId, http.Request.GetBearerToken(), ct);
        if (board is null || board.OrganizationId != principal.OrganizationId) return ApiProblems.NotFound("Board not found.");
        if (!principal.CanWriteBoard(boardId)) return ApiProblems.Forbidden("You have no write access to this board.");

        var errors = new Dictionary<string, string[]>();
        var title = body.Title?.Trim();
        var status = body.Status ?? TaskStatuses.Inbox;
        var priority = body.Priority ?? "medium";
        if (string.IsNullOrEmpty(title) || title.Length > 500) errors["title"] = ["must be 1 to 500 characters"];
        if (!TaskStatuses.All.Contains(status)) errors["status"] = [$"must be one of {string.Join(", ", TaskStatuses.All)}"];
        if (!TaskPriorities.All.Contains(priority)) errors["priority"] = [$"must be one of {string.Join(", ", TaskPriorities.All)}"];
        if (body.Description is { Length: > 20_000 }) errors["description"] = ["must be at most 20000 characters"];
        if (errors.Count > 0) return ApiProblems.Validation(errors);

        var now = time.GetUtcNow().UtcDateTime;
        var task = new TaskItem
        {
            Id = Guid.CreateVersion7(), OrganizationId = board.OrganizationId, BoardId = boardId, Title = title!,
            Description = body.Description, Status = status, Priority = priority, DueAt = body.DueAt?.UtcDateTime,
            InProgressAt = status == TaskStatuses.InProgress ? now : null, AssignedAgentId = body.AssignedAgentId,
            CreatedByUserId = principal.UserId, CreatedAt = now, UpdatedAt = now,
        };
        await writer.AddAsync(task, new TaskCreated
        {
            OrganizationId = task.OrganizationId, BoardId = boardId, Task = ToSnapshot(task), OccurredAt = now,
            Activity = new ActivityInfo
            {
                Id = Guid.CreateVersion7(), EventType = "task.created", Message = $"Task created: {task.Title}.", UserId = principal.UserId,
                TaskId = task.Id, CreatedAt = now,
            },
        });
        return Results.Created($"/api/v1/boards/{boardId}/tasks/{task.Id}", ToRead(task));
    }

    private static async Task<IResult> List(
        Guid boardId, HttpContext http, TasksDbContext db, BoardCopies boards, string? status,
        [Microsoft.AspNetCore.Mvc.FromQuery(Name = "assigned_agent_id")] Guid? assignedAgentId, bool? unassigned,
        int? limit, int? offset, CancellationToken ct)
    {
        if (!PageRequest.TryParse(limit, offset, out var page, out var error)) return error!;
        var principal = http.GetPrincipal();
        var board = await boards.FindAsync(boardId, http.Request.GetBearerToken(), ct);
        if (board is null || board.OrganizationId != principal.OrganizationId) return ApiProblems.NotFound("Board not found.");
        if (!principal.CanReadBoard(boardId)) return ApiProblems.Forbidden("You have no read access to this board.");

        var query = db.Tasks.AsNoTracking().Where(t => t.BoardId == boardId);
        var counts = db.TaskCounts.AsNoTracking().Where(c => c.BoardId == boardId);
        if (!string.IsNullOrWhiteSpace(status))
        {
            var statuses = status.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (statuses.Any(s => !TaskStatuses.All.Contains(s))) return ApiProblems.Validation("status", "Unsupported task status filter.");
            query = query.Where(t => statuses.Contains(t.Status));
            counts = counts.Where(c => statuses.Contains(c.Status));
        }
        var byAgent = assignedAgentId is not null || unassigned == true;
        if (assignedAgentId is { } agentId) query = query.Where(t => t.AssignedAgentId == agentId);
        if (unassigned == true) query = query.Where(t => t.AssignedAgentId == null);

        // The per-status counters answer the common totals without scanning the board's tasks.
        var total = byAgent ? await query.CountAsync(ct) : await counts.SumAsync(c => c.TaskCount, ct);
        var items = await query.OrderByDescending(t => t.CreatedAt).Skip(page.Offset).Take(page.Limit).ToListAsync(ct);
        return Results.Ok(new Page<TaskRead>(items.ConvertAll(ToRead), total, page.Limit, page.Offset));
    }

    private static async Task<IResult> Get(Guid boardId, Guid taskId, HttpContext http, TasksDbContext db, CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        var task = await db.Tasks.AsNoTracking()
            .FirstOrDefaultAsync(t => t.Id == taskId && t.BoardId == boardId && t.OrganizationId == principal.OrganizationId, ct);
        if (task is null || !principal.CanReadBoard(boardId)) return ApiProblems.NotFound("Task not found.");
        return Results.Ok(ToRead(task));
    }

    private static TaskRead ToRead(TaskItem t) => new(
        t.Id, t.BoardId, t.Title, t.Description, t.Status, t.Priority, t.DueAt, t.AssignedAgentId, t.CreatedByUserId,
        t.InProgressAt, t.CreatedAt, t.UpdatedAt, [], [], [], false);

    private static TaskSnapshot ToSnapshot(TaskItem t) => new()
    {
        Id = t.Id, BoardId = t.BoardId, Title = t.Title, Description = t.Description, Status = t.Status, Priority = t.Priority,
        DueAt = t.DueAt, AssignedAgentId = t.AssignedAgentId, CreatedByUserId = t.CreatedByUserId, InProgressAt = t.InProgressAt,
        CreatedAt = t.CreatedAt, UpdatedAt = t.UpdatedAt,
    };
}
