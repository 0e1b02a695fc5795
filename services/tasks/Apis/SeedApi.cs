using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Tasks;
using MissionControl.InternalAuth;
using MissionControl.Messaging;
using MissionControl.Tasks.Data;
using MissionControl.Tasks.Domain;
using MissionControl.Tasks.Operations;

namespace MissionControl.Tasks.Apis;

/// <summary>
/// /api/tasks: the seed 000/001 dialect (builderz Mission Control's /api, plus Autensa's dispatch), a thin
/// translation onto /api/v1. A task is the same task in both; every change goes through the /api/v1
/// operations (TaskCreation, TaskUpdates, TaskDeletion, CommentsApi), so the rules, refusals (same problem
/// codes) and events are theirs. Tasks live in the caller's active organization, on the board they name
/// or else on the organization's default board (orgs creates it on first use).
/// Answers: a create and a dispatch give the task itself (seed 000 reads .id); a read or update gives
/// {task} and a list {tasks, total, page, limit, offset}, as builderz does; the queue {task, reason}.
/// </summary>
public static class SeedApi
{
    public const string NotDispatchable = "task_not_dispatchable";

    /// <summary>What an agent may set on its own task here: it reports progress and the outcome (done or failed) itself.</summary>
    private static readonly string[] AgentStatuses = [TaskStatuses.InProgress, TaskStatuses.Review, TaskStatuses.Done, TaskStatuses.Failed];

    public static IEndpointRouteBuilder MapSeedApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/tasks");
        api.MapPost("", Create);
        api.MapGet("", List);
        api.MapGet("/queue", Queue);
        api.MapGet("/{taskId:guid}", Get);
        api.MapPatch("/{taskId:guid}", Patch);
        api.MapPut("/{taskId:guid}", Patch); // builderz updates with PUT
        api.MapDelete("/{taskId:guid}", Delete);
        api.MapPost("/{taskId:guid}/dispatch", Dispatch);
        api.MapGet("/{taskId:guid}/comments", ListComments);
        api.MapPost("/{taskId:guid}/comments", AddComment);
        return app;
    }

    private static IResult? NoOrganization(McPrincipal principal) => principal.Kind is not (PrincipalKind.User or PrincipalKind.Agent)
        ? ApiProblems.Forbidden("Only users and agents use /api/tasks.")
        : principal.OrganizationId is null
            ? ApiProblems.Forbidden("You have no active organization: create one with POST /api/v1/organizations.", "no_active_organization")
            : null;

    private static async Task<IResult> Create(HttpContext http, BoardAccess access, BoardCopies boards, TaskCreation creation, TasksDbContext db,
        CancellationToken ct)
    {
        var body = await JsonBody.ReadAsync(http.Request, ct);
        var principal = http.GetPrincipal();
        if (NoOrganization(principal) is { } refused) return refused;
        var request = new CreateTaskRequest(body.Get<string>("title"), body.Get<string>("description"), SeedDialect.StatusIn(body.Get<string>("status")),
            body.Get<string>("priority"), null, body.Get<Guid?>("agentId"), null, null, null);
        var boardId = body.Get<Guid?>("boardId");
        var errors = body.Errors;
        // Checked before the default board is looked up (and perhaps created); TaskCreation checks them all again.
        TaskInput.CheckTitle(request.Title, errors);
        if (request.Status is not null) TaskInput.CheckStatus(request.Status, errors);
        if (request.Priority is not null) TaskInput.CheckPriority(request.Priority, errors);
        if (errors.Count > 0) return ApiProblems.Validation(errors);

        // An agent works on its own board; a user without a board gets the organization's default one.
        boardId ??= principal.Kind == PrincipalKind.Agent
            ? principal.AgentBoardId
            : (await boards.DefaultAsync(principal.OrganizationId!.Value, http.Request.GetBearerToken(), ct))?.Id;
        if (boardId is null) return ApiProblems.NotFound("Board not found.");

        var result = await TasksApi.Create(boardId.Value, request, http, access, creation, ct);
        if (result is not IValueHttpResult<TaskSnapshot> { Value: { } task }) return result;
        http.Response.Headers.Location = $"/api/tasks/{task.Id}";
        return SeedDialect.Ok(await SeedDialect.TaskAsync(db, task, ct), StatusCodes.Status201Created);
    }

    /// <summary>The caller's tasks across the boards it may read, newest first; limit 1..200 (clamped, default 50).</summary>
    private static async Task<IResult> List(HttpContext http, TasksDbContext db, TaskReads reads, string? status, string? priority, Guid? agentId,
        Guid? boardId, int? limit, int? offset, CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        if (NoOrganization(principal) is { } refused) return refused;
        var page = new PageRequest(Math.Clamp(limit ?? PageRequest.DefaultLimit, 1, PageRequest.MaxLimit), Math.Max(0, offset ?? 0));

        var query = db.Tasks.AsNoTracking().Where(t => t.OrganizationId == principal.OrganizationId);
        if (ReadableBoards(principal) is { } readable) query = query.Where(t => readable.Contains(t.BoardId));
        if (!string.IsNullOrWhiteSpace(status))
        {
            var asked = Split(status);
            var statuses = asked.Select(s => SeedDialect.StatusIn(s)!).Distinct().ToList();
            if (statuses.Any(s => !TaskStatuses.All.Contains(s))) return ApiProblems.Validation("status", $"must be one of {string.Join(", ", TaskStatuses.All)}");
            query = query.Where(t => statuses.Contains(t.Status));
            if (asked.All(s => s == "assigned")) query = query.Where(t => t.AssignedAgentId != null);
        }
        if (!string.IsNullOrWhiteSpace(priority))
        {
            var priorities = Split(priority);
            if (priorities.Any(p => !TaskPriorities.All.Contains(p))) return ApiProblems.Validation("priority", $"must be one of {string.Join(", ", TaskPriorities.All)}");
            query = query.Where(t => priorities.Contains(t.Priority));
        }
        if (agentId is { } agent) query = query.Where(t => t.AssignedAgentId == agent);
        if (boardId is { } board) query = query.Where(t => t.BoardId == board);

        var total = await query.CountAsync(ct);
        var items = await query.OrderByDescending(t => t.CreatedAt).ThenByDescending(t => t.Id).Skip(page.Offset).Take(page.Limit).ToListAsync(ct);
        var extras = await reads.ExtrasAsync(items, ct);
        // Custom fields are per board and not part of this dialect: no definitions, no values.
        var snapshots = items.ConvertAll(t => TaskReads.ToSnapshot(t, extras[t.Id], []));
        var names = await SeedDialect.AgentNamesAsync(db, snapshots, ct);
        return SeedDialect.Ok(new
        {
            tasks = snapshots.ConvertAll(t => SeedDialect.Task(t, names)), total, page = page.Offset / page.Limit + 1, limit = page.Limit, offset = page.Offset,
        });
    }

    private static List<string> Split(string value) => value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    /// <summary>The boards a caller may read; null for all of its organization's.</summary>
    internal static List<Guid>? ReadableBoards(McPrincipal principal) => principal.Kind switch
    {
        PrincipalKind.Agent when principal.Role == AgentRoles.Main => null,
        PrincipalKind.Agent => principal.AgentBoardId is { } board ? [board] : [],
        _ when principal.AllBoardsRead || principal.AllBoardsWrite => null,
        _ => principal.Boards.Where(b => b.CanRead || b.CanWrite).Select(b => b.BoardId).ToList(),
    };

    /// <summary>The task in the caller's organization (another organization's does not exist: 404), and its board checked for the access.</summary>
    internal static async Task<(BoardCopy? Board, TaskItem? Task, IResult? Error)> FindAsync(
        Guid taskId, HttpContext http, TasksDbContext db, BoardAccess access, BoardAccessLevel level, CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        if (NoOrganization(principal) is { } refused) return (null, null, refused);
        var task = await db.Tasks.AsNoTracking().FirstOrDefaultAsync(t => t.Id == taskId && t.OrganizationId == principal.OrganizationId, ct);
        if (task is null) return (null, null, ApiProblems.NotFound("Task not found."));
        var (board, error) = await access.CheckAsync(http, task.BoardId, level, ct);
        return (board, task, error);
    }

    private static async Task<IResult> Get(Guid taskId, HttpContext http, TasksDbContext db, BoardAccess access, TaskReads reads, CancellationToken ct)
    {
        var (board, task, error) = await FindAsync(taskId, http, db, access, BoardAccessLevel.Read, ct);
        if (error is not null) return error;
        return SeedDialect.Ok(new { task = await SeedDialect.TaskAsync(db, await reads.SnapshotAsync(board!, task!, ct), ct) });
    }

    /// <summary>
    /// title, description, priority, status, agentId, result. A user changes what /api/v1 lets it change. An agent
    /// reports on the task assigned to it only (403 task_assignee_mismatch otherwise): status in_progress,
    /// review, done or failed, and result; done and failed are its own call in this dialect (the board's
    /// gates, e.g. approval_required, still apply; the default board has none).
    /// </summary>
    private static async Task<IResult> Patch(Guid taskId, HttpContext http, TasksDbContext db, BoardAccess access, TaskUpdates updates,
        CancellationToken ct)
    {
        var body = await JsonBody.ReadAsync(http.Request, ct);
        var (board, task, error) = await FindAsync(taskId, http, db, access, BoardAccessLevel.Write, ct);
        if (error is not null) return error;
        var principal = http.GetPrincipal();
        if (BoardAccess.ActorOf(principal) is not { } actor) return ApiProblems.Forbidden("This caller cannot change tasks.");

        string[][] names = [["title", "title"], ["description", "description"], ["priority", "priority"], ["status", "status"],
            ["agentId", "assigned_agent_id"], ["result", "result"]];
        var status = SeedDialect.StatusIn(body.Get<string>("status"));
        // Seed 002: an agent's "done" on a mission-control task that needs approval stops in review with a pending approval.
        UpdateHooks? hooks = null;
        if (principal.Kind == PrincipalKind.Agent && status == TaskStatuses.Done && task!.Kind is not null)
            (status, hooks) = MissionControlApi.Finish(db, board!, task, principal);
        var patch = new TaskPatch
        {
            Fields = names.Where(n => body.Has(n[0])).Select(n => n[1]).ToHashSet(), Title = body.Get<string>("title"),
            Description = body.Get<string>("description"), Priority = body.Get<string>("priority"), Status = status,
            AssignedAgentId = body.Get<Guid?>("agentId"), Result = body.Get<string>("result"),
        };
        var errors = body.Errors;
        if (patch.Has("title") && !errors.ContainsKey("title")) TaskInput.CheckTitle(patch.Title, errors);
        if (patch.Has("status") && !errors.ContainsKey("status")) TaskInput.CheckStatus(patch.Status, errors);
        if (patch.Has("priority") && !errors.ContainsKey("priority")) TaskInput.CheckPriority(patch.Priority, errors);
        TaskInput.CheckDescription(patch.Description, errors);
        TaskInput.CheckResult(patch.Result, errors);
        if (errors.Count > 0) return ApiProblems.Validation(errors);

        if (principal.Kind == PrincipalKind.Agent)
        {
            if (task!.AssignedAgentId != principal.AgentId)
                return ApiProblems.Forbidden("Agents report only on tasks assigned to them.", TaskRuleCodes.TaskAssigneeMismatch);
            if (patch.Has("status") && !AgentStatuses.Contains(patch.Status))
                return ApiProblems.Validation("status", $"an agent may set {string.Join(", ", AgentStatuses)}");
        }
        var result = await updates.UpdateAsync(board!, principal, actor, taskId, patch, ct, hooks);
        return result is IValueHttpResult<TaskSnapshot> { Value: { } updated }
            ? SeedDialect.Ok(new { task = await SeedDialect.TaskAsync(db, updated, ct) })
            : result;
    }

    private static async Task<IResult> Delete(Guid taskId, HttpContext http, TasksDbContext db, BoardAccess access, TaskDeletion deletion, CancellationToken ct)
    {
        var (_, task, error) = await FindAsync(taskId, http, db, access, BoardAccessLevel.Write, ct);
        if (error is not null) return error;
        var result = await TasksApi.Delete(task!.BoardId, taskId, http, access, deletion, ct);
        return result is IStatusCodeHttpResult { StatusCode: StatusCodes.Status200OK } ? SeedDialect.Ok(new { success = true }) : result;
    }

    /// <summary>
    /// Assigns the task to the agent (the /api/v1 assignment rules: the agent must exist in the organization,
    /// 404 agent_not_found, and be on the task's board, 409 assignee_board_mismatch; a blocked task is
    /// 409 task_blocked) and sends it now: TaskDispatched, in the same transaction. A done, failed or
    /// cancelled task is 409 task_not_dispatchable. Dispatching again sends it again.
    /// </summary>
    private static async Task<IResult> Dispatch(Guid taskId, HttpContext http, TasksDbContext db, BoardAccess access, TaskUpdates updates,
        CancellationToken ct)
    {
        var body = await JsonBody.ReadAsync(http.Request, ct);
        if (body.Get<Guid?>("agentId") is not { } agentId) return ApiProblems.Validation("agentId", "must be an agent id");
        var (board, _, error) = await FindAsync(taskId, http, db, access, BoardAccessLevel.Write, ct);
        if (error is not null) return error;
        var principal = http.GetPrincipal();
        if (BoardAccess.ActorOf(principal) is not { Role: ActorRole.User or ActorRole.Lead } actor)
            return ApiProblems.Forbidden("Only users and board leads dispatch tasks.", TaskRuleCodes.LeadOnly);

        var patch = new TaskPatch { Fields = new HashSet<string> { "assigned_agent_id" }, AssignedAgentId = agentId };
        var hooks = DispatchHooks(db, board!, principal, agentId, "prompt", SeedDialect.Prompt,
            t => t.Status is TaskStatuses.Done or TaskStatuses.Failed or TaskStatuses.Cancelled
                ? ApiProblems.Conflict($"A task that is {t.Status} cannot be dispatched; reopen it first.", NotDispatchable)
                : null);
        var result = await updates.UpdateAsync(board!, principal, actor, taskId, patch, ct, hooks);
        return result is IValueHttpResult<TaskSnapshot> { Value: { } task } ? SeedDialect.Ok(await SeedDialect.TaskAsync(db, task, ct)) : result;
    }

    /// <summary>
    /// A dispatch (seed 000's dispatch, seed 002's run): the update's hooks that send the task (TaskDispatched
    /// of this kind, with the message the locked task gives) in its transaction, when check lets it.
    /// </summary>
    internal static UpdateHooks DispatchHooks(TasksDbContext db, BoardCopy board, McPrincipal principal, Guid agentId, string kind,
        Func<TaskItem, string> message, Func<TaskItem, IResult?> check) => new(
        Check: check,
        Also: (t, snapshot, now) => db.AddIntegrationEvent(new TaskDispatched
        {
            OrganizationId = board.OrganizationId, BoardId = board.Id, AgentId = agentId, Task = snapshot, Kind = kind, Message = message(t),
            OccurredAt = now, Activity = Events.Activity("task.dispatched", $"Task dispatched: {t.Title}.", principal, t.Id, now),
        }),
        // The agent gets the task itself, not a TASK ASSIGNED notice as well.
        NotifyAssignee: false);

    /// <summary>
    /// An agent pulls work: claims its oldest (priority first) inbox task assigned or dispatched to it and moves it
    /// to in_progress, through the worker rules. Concurrent pulls never claim one task twice: the claim re-checks
    /// the locked task (the write gate on SQLite, FOR UPDATE on PostgreSQL) and moves on to the next when lost.
    /// Each call claims a new task (no builderz capacity/continue_current): {task, reason: assigned | no_tasks_available}.
    /// </summary>
    private static async Task<IResult> Queue(HttpContext http, TasksDbContext db, BoardAccess access, TaskUpdates updates, CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        if (principal.Kind != PrincipalKind.Agent)
            return ApiProblems.Forbidden("The queue is for agents (their token); users list tasks with GET /api/tasks.", "agent_only");
        if (principal.AgentId is not { } agentId || principal.AgentBoardId is not { } boardId || BoardAccess.ActorOf(principal) is not { } actor)
            return ApiProblems.Forbidden("Only board agents take work from the queue.", "agent_only");
        var (board, error) = await access.CheckAsync(http, boardId, BoardAccessLevel.Write, ct);
        if (error is not null) return error;

        var candidates = await db.Tasks.AsNoTracking()
            .Where(t => t.BoardId == boardId && t.AssignedAgentId == agentId && t.Status == TaskStatuses.Inbox)
            .Select(t => new { t.Id, t.Priority, t.CreatedAt }).ToListAsync(ct);
        var claim = new TaskPatch { Fields = new HashSet<string> { "status" }, Status = TaskStatuses.InProgress };
        var stillMine = new UpdateHooks(Check: t => t.Status == TaskStatuses.Inbox && t.AssignedAgentId == agentId
            ? null : ApiProblems.Conflict("Claimed by another request.", "task_claimed"));
        foreach (var next in candidates.OrderByDescending(c => Array.IndexOf(TaskPriorities.All, c.Priority)).ThenBy(c => c.CreatedAt).ThenBy(c => c.Id).Take(20))
        {
            var result = await updates.UpdateAsync(board!, principal, actor, next.Id, claim, ct, stillMine);
            if (result is IValueHttpResult<TaskSnapshot> { Value: { } task })
                return SeedDialect.Ok(new { task = await SeedDialect.TaskAsync(db, task, ct), reason = "assigned" });
            db.ChangeTracker.Clear(); // lost, blocked or gated: nothing was changed; try the next
        }
        return SeedDialect.Ok(new { task = (SeedTask?)null, reason = "no_tasks_available" });
    }

    private static async Task<IResult> ListComments(Guid taskId, HttpContext http, TasksDbContext db, BoardAccess access, int? limit, int? offset,
        CancellationToken ct)
    {
        var (_, task, error) = await FindAsync(taskId, http, db, access, BoardAccessLevel.Read, ct);
        if (error is not null) return error;
        var page = await CommentsApi.List(task!.BoardId, taskId, http, access, db,
            Math.Clamp(limit ?? PageRequest.MaxLimit, 1, PageRequest.MaxLimit), Math.Max(0, offset ?? 0), ct);
        return page is IValueHttpResult<Page<TaskCommentState>> { Value: { } comments }
            ? SeedDialect.Ok(new { comments = comments.Items.Select(SeedDialect.Comment), total = comments.Total })
            : page;
    }

    private static async Task<IResult> AddComment(Guid taskId, HttpContext http, TasksDbContext db, BoardAccess access, DatabaseWriteGate gate,
        CommentWriter comments, TimeProvider time, CancellationToken ct)
    {
        var body = await JsonBody.ReadAsync(http.Request, ct);
        var content = body.Get<string>("content");
        if (string.IsNullOrWhiteSpace(content)) return ApiProblems.Validation("content", "must not be blank");
        if (content.Length > TaskInput.MaxComment) return ApiProblems.Validation("content", $"must be at most {TaskInput.MaxComment} characters");
        var (_, task, error) = await FindAsync(taskId, http, db, access, BoardAccessLevel.Write, ct);
        if (error is not null) return error;
        var result = await CommentsApi.Create(task!.BoardId, taskId, new CommentRequest(content), http, access, db, gate, comments, time, ct);
        if (result is not IValueHttpResult<TaskCommentState> { Value: { } comment }) return result;
        http.Response.Headers.Location = $"/api/tasks/{taskId}/comments/{comment.Id}";
        return SeedDialect.Ok(new { comment = SeedDialect.Comment(comment) }, StatusCodes.Status201Created);
    }
}
