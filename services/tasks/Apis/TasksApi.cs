using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using MissionControl.InternalAuth;
using MissionControl.Messaging;
using MissionControl.Tasks.Data;
using MissionControl.Tasks.Domain;
using MissionControl.Tasks.Operations;

namespace MissionControl.Tasks.Apis;

/// <summary>
/// /api/v1/boards/{board_id}/tasks. The handlers are shared with the agent routes
/// (/api/v1/agent/boards/{board_id}/tasks, AgentApi): who may do what is decided by the caller.
/// </summary>
public static class TasksApi
{
    public static IEndpointRouteBuilder MapTasksApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/boards/{boardId:guid}/tasks");
        api.MapPost("", CreateAsUser);
        api.MapGet("", List);
        api.MapGet("/{taskId:guid}", Get);
        api.MapPatch("/{taskId:guid}", Patch);
        api.MapDelete("/{taskId:guid}", Delete);
        return app;
    }

    private static async Task<IResult> CreateAsUser(
        Guid boardId, CreateTaskRequest body, HttpContext http, BoardAccess access, TaskCreation creation, CancellationToken ct)
    {
        if (http.GetPrincipal().Kind != PrincipalKind.User)
            return ApiProblems.Forbidden("Only users create tasks here; agents use /api/v1/agent/boards/{board_id}/tasks.", "user_only");
        return await Create(boardId, body, http, access, creation, ct);
    }

    /// <summary>A user, or (through the agent route) the board lead.</summary>
    internal static async Task<IResult> Create(
        Guid boardId, CreateTaskRequest body, HttpContext http, BoardAccess access, TaskCreation creation, CancellationToken ct)
    {
        var (board, error) = await access.CheckAsync(http, boardId, BoardAccessLevel.Write, ct);
        if (error is not null) return error;
        var principal = http.GetPrincipal();
        var actor = BoardAccess.ActorOf(principal);
        if (actor is null || actor.Role == ActorRole.Worker)
            return ApiProblems.Forbidden("Only board leads can perform this action.", TaskRuleCodes.LeadOnly);
        return await creation.CreateAsync(board!, principal, actor, body, ct);
    }

    internal static async Task<IResult> List(
        Guid boardId, HttpContext http, BoardAccess access, TasksDbContext db, TaskReads reads, string? status,
        [FromQuery(Name = "assigned_agent_id")] Guid? assignedAgentId, bool? unassigned, int? limit, int? offset, CancellationToken ct)
    {
        if (!PageRequest.TryParse(limit, offset, out var page, out var pageError)) return pageError!;
        var (board, error) = await access.CheckAsync(http, boardId, BoardAccessLevel.Read, ct);
        if (error is not null) return error;

        var query = db.Tasks.AsNoTracking().Where(t => t.BoardId == boardId);
        var counts = db.TaskCounts.AsNoTracking().Where(c => c.BoardId == boardId);
        string[] statuses = [];
        if (!string.IsNullOrWhiteSpace(status))
        {
            statuses = status.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToArray();
            if (statuses.Any(s => !TaskStatuses.All.Contains(s))) return ApiProblems.Validation("status", "Unsupported task status filter.");
            query = query.Where(t => statuses.Contains(t.Status));
            counts = counts.Where(c => statuses.Contains(c.Status));
        }
        var byAgent = assignedAgentId is not null || unassigned == true;
        if (assignedAgentId is { } agentId) query = query.Where(t => t.AssignedAgentId == agentId);
        if (unassigned == true) query = query.Where(t => t.AssignedAgentId == null);

        // The per-status counters answer the common totals without scanning the board's tasks.
        // One connection for all the queries (EF would open and close it around each).
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            var unfiltered = string.IsNullOrWhiteSpace(status) && !byAgent;
            var total = unfiltered ? await BoardTotal(db, boardId)
                : byAgent ? await query.CountAsync(ct) : await counts.SumAsync(c => c.TaskCount, ct);
            var items = unfiltered ? await ToListAsync(BoardPage(db, boardId, page.Offset, page.Limit), ct)
                : !byAgent && statuses.Length > 1 ? await NewestOfStatusesAsync(db, boardId, statuses, page, ct)
                : await query.OrderByDescending(t => t.CreatedAt).Skip(page.Offset).Take(page.Limit).Select(TaskReads.ReadColumns).ToListAsync(ct);
            return Results.Ok(new Page<Contracts.Tasks.TaskSnapshot>(await reads.SnapshotsAsync(board!, items, ct), total, page.Limit, page.Offset));
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>
    /// A page of a board's tasks in any of several statuses, newest first, read status by status: each is a
    /// seek of the (board, status, created_at) index for its newest offset + limit. One query with IN walked
    /// the board's created_at index, done tasks and all, to find the few open ones an agent polls for.
    /// </summary>
    private static async Task<List<TaskItem>> NewestOfStatusesAsync(TasksDbContext db, Guid boardId, string[] statuses, PageRequest page, CancellationToken ct)
    {
        var newest = new List<TaskItem>();
        var upTo = (int)Math.Min((long)page.Offset + page.Limit, int.MaxValue);
        foreach (var status in statuses)
            newest.AddRange(await db.Tasks.AsNoTracking().Where(t => t.BoardId == boardId && t.Status == status).OrderByDescending(t => t.CreatedAt)
                .Take(upTo).Select(TaskReads.ReadColumns).ToListAsync(ct));
        return newest.OrderByDescending(t => t.CreatedAt).Skip(page.Offset).Take(page.Limit).ToList();
    }

    // The unfiltered list, most lists by far, as compiled queries: a call skips EF's per-query work on the
    // expression tree (parameter extraction, the query cache's key), about a tenth of tasks' CPU per list.
    private static readonly CompiledPerModel<Func<TasksDbContext, Guid, Task<int>>> BoardTotalQuery = new(() =>
        EF.CompileAsyncQuery((TasksDbContext db, Guid boardId) => db.TaskCounts.Where(c => c.BoardId == boardId).Sum(c => c.TaskCount)));

    private static readonly CompiledPerModel<Func<TasksDbContext, Guid, int, int, IAsyncEnumerable<TaskItem>>> BoardPageQuery = new(() =>
        EF.CompileAsyncQuery((TasksDbContext db, Guid boardId, int offset, int limit) => db.Tasks.AsNoTracking().Where(t => t.BoardId == boardId)
            .OrderByDescending(t => t.CreatedAt).Skip(offset).Take(limit).Select(TaskReads.ReadColumns)));

    private static Task<int> BoardTotal(TasksDbContext db, Guid boardId) => BoardTotalQuery.For(db)(db, boardId);

    private static IAsyncEnumerable<TaskItem> BoardPage(TasksDbContext db, Guid boardId, int offset, int limit) =>
        BoardPageQuery.For(db)(db, boardId, offset, limit);

    private static async Task<List<TaskItem>> ToListAsync(IAsyncEnumerable<TaskItem> rows, CancellationToken ct)
    {
        var list = new List<TaskItem>();
        await foreach (var row in rows.WithCancellation(ct)) list.Add(row);
        return list;
    }

    internal static async Task<IResult> Get(
        Guid boardId, Guid taskId, HttpContext http, BoardAccess access, TasksDbContext db, TaskReads reads, CancellationToken ct)
    {
        var (board, error) = await access.CheckAsync(http, boardId, BoardAccessLevel.Read, ct);
        if (error is not null) return error;
        var task = await db.Tasks.AsNoTracking().FirstOrDefaultAsync(t => t.Id == taskId && t.BoardId == boardId, ct);
        return task is null ? ApiProblems.NotFound("Task not found.") : Results.Ok(await reads.SnapshotAsync(board!, task, ct));
    }

    internal static async Task<IResult> Patch(
        Guid boardId, Guid taskId, HttpContext http, BoardAccess access, TaskUpdates updates, CancellationToken ct)
    {
        var body = await JsonBody.ReadAsync(http.Request, ct);
        var (board, error) = await access.CheckAsync(http, boardId, BoardAccessLevel.Write, ct);
        if (error is not null) return error;
        var principal = http.GetPrincipal();
        if (BoardAccess.ActorOf(principal) is not { } actor) return ApiProblems.Forbidden("This caller cannot change tasks.");
        var (patch, invalid) = ParsePatch(body);
        return invalid ?? await updates.UpdateAsync(board!, principal, actor, taskId, patch!, ct);
    }

    /// <summary>A user with write access, or the board lead.</summary>
    internal static async Task<IResult> Delete(Guid boardId, Guid taskId, HttpContext http, BoardAccess access, TaskDeletion deletion, CancellationToken ct)
    {
        var (board, error) = await access.CheckAsync(http, boardId, BoardAccessLevel.Write, ct);
        if (error is not null) return error;
        var principal = http.GetPrincipal();
        if (BoardAccess.ActorOf(principal) is not { Role: ActorRole.User or ActorRole.Lead })
            return ApiProblems.Forbidden("Only board leads can perform this action.", TaskRuleCodes.LeadOnly);
        return await deletion.DeleteAsync(board!, principal, taskId, ct);
    }

    private static (TaskPatch? Patch, IResult? Error) ParsePatch(JsonBody body)
    {
        var patch = new TaskPatch
        {
            Fields = body.Present(TaskPatch.Known), Title = body.Get<string>("title"), Description = body.Get<string>("description"),
            Status = body.Get<string>("status"), Priority = body.Get<string>("priority"), DueAt = body.Get<DateTimeOffset?>("due_at"),
            AssignedAgentId = body.Get<Guid?>("assigned_agent_id"), DependsOnTaskIds = body.Get<List<Guid>>("depends_on_task_ids") ?? [],
            TagIds = body.Get<List<Guid>>("tag_ids") ?? [],
            CustomFieldValues = body.Get<Dictionary<string, System.Text.Json.JsonElement>>("custom_field_values") ?? [],
            Comment = body.Get<string>("comment"), Result = body.Get<string>("result"),
        };
        var errors = body.Errors;
        if (patch.Has("title") && !errors.ContainsKey("title")) TaskInput.CheckTitle(patch.Title, errors);
        if (patch.Has("status") && !errors.ContainsKey("status")) TaskInput.CheckStatus(patch.Status, errors);
        if (patch.Has("priority") && !errors.ContainsKey("priority")) TaskInput.CheckPriority(patch.Priority, errors);
        TaskInput.CheckDescription(patch.Description, errors);
        TaskInput.CheckResult(patch.Result, errors);
        if (patch.Comment is { Length: > TaskInput.MaxComment }) errors["comment"] = [$"must be at most {TaskInput.MaxComment} characters"];
        return errors.Count > 0 ? (null, ApiProblems.Validation(errors)) : (patch, null);
    }
}
