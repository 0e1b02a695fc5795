using System.Globalization;
using System.Text.Json.Nodes;
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
/// /api/mission-control: seed 002's dialect, a thin translation onto the same tasks (MissionControlDialect maps
/// the names). A task is for a desktop (an agent) and goes on that agent's board; run is seed 000's dispatch
/// with a kind; the agent's "done" stops in review with a pending approval when the task requires approval,
/// and review/resolve decide it. All changes go through TaskCreation/TaskUpdates (their rules, events and
/// problem codes). The activity stream is the edge's own (edge/Sse/StreamEndpoints.cs). Users only.
/// </summary>
public static class MissionControlApi
{
    public const string NotPending = "task_not_pending";
    public const string NotInReview = "task_not_in_review";
    public const string ApprovalNotPending = "approval_not_pending";
    public const string ApprovalActionType = "mission_control.review";
    public const string ApprovalReason = "Requires approval before done (mission control)";

    /// <summary>
    /// Agent copies carry the status agents computes from last_seen_at (it publishes AgentUpdated when it changes,
    /// and its sweeper announces offline): a desktop is active when that status says it was seen recently, i.e.
    /// anything but offline, never seen (ready) or a lifecycle state.
    /// </summary>
    private static readonly string[] InactiveStatuses = ["offline", "ready", "provisioning", "updating", "provision_failed", "deleting"];

    public static IEndpointRouteBuilder MapMissionControlApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/mission-control");
        api.MapGet("/tasks", List);
        api.MapPost("/tasks", Create);
        api.MapPost("/tasks/{taskId:guid}/run", Run);
        api.MapPost("/tasks/{taskId:guid}/review", Review);
        api.MapGet("/approvals", Approvals);
        api.MapPost("/approvals/{approvalId:guid}/resolve", Resolve);
        api.MapGet("/overview", Overview);
        return app;
    }

    private static IResult? UsersOnly(McPrincipal principal) => principal.Kind != PrincipalKind.User
        ? ApiProblems.Forbidden("/api/mission-control is for users (an API key or a session).", "user_only")
        : principal.OrganizationId is null
            ? ApiProblems.Forbidden("You have no active organization: create one with POST /api/v1/organizations.", "no_active_organization")
            : null;

    private static IResult Ok(object body, int status = StatusCodes.Status200OK) => SeedDialect.Ok(body, status);

    private static async Task<McTask> TaskAsync(TasksDbContext db, Guid id, CancellationToken ct) =>
        MissionControlDialect.Task(await db.Tasks.AsNoTracking().FirstAsync(t => t.Id == id, ct));

    private static IQueryable<TaskItem> Visible(TasksDbContext db, McPrincipal principal)
    {
        var query = db.Tasks.AsNoTracking().Where(t => t.OrganizationId == principal.OrganizationId);
        return SeedApi.ReadableBoards(principal) is { } readable ? query.Where(t => readable.Contains(t.BoardId)) : query;
    }

    private static async Task<IResult> List(HttpContext http, TasksDbContext db, string? status, Guid? desktopId, int? limit, CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        if (UsersOnly(principal) is { } refused) return refused;
        var query = Visible(db, principal);
        if (!string.IsNullOrWhiteSpace(status))
        {
            if (MissionControlDialect.StatusIn(status) is not { } ours)
                return ApiProblems.Validation("status", "must be one of pending, running, review, done, failed, cancelled");
            query = query.Where(t => t.Status == ours);
        }
        if (desktopId is { } desktop) query = query.Where(t => t.TargetAgentId == desktop || (t.TargetAgentId == null && t.AssignedAgentId == desktop));
        var items = await query.OrderByDescending(t => t.CreatedAt).ThenByDescending(t => t.Id)
            .Take(Math.Clamp(limit ?? PageRequest.MaxLimit, 1, PageRequest.MaxLimit)).ToListAsync(ct);
        return Ok(items.ConvertAll(MissionControlDialect.Task));
    }

    private static async Task<IResult> Create(HttpContext http, TasksDbContext db, BoardAccess access, TaskCreation creation, CancellationToken ct)
    {
        var body = await JsonBody.ReadAsync(http.Request, ct);
        var principal = http.GetPrincipal();
        if (UsersOnly(principal) is { } refused) return refused;
        var type = body.Get<string>("type");
        var content = body.Get<string>("content");
        var desktopId = body.Get<Guid?>("desktopId");
        var requiresApproval = body.Get<bool?>("requiresApproval");
        var errors = body.Errors;
        if (type is not (MissionControlDialect.Prompt or MissionControlDialect.Command)) errors.TryAdd("type", ["must be prompt or command"]);
        if (string.IsNullOrWhiteSpace(content)) errors.TryAdd("content", ["must not be blank"]);
        else if (content.Length > TaskInput.MaxDescription) errors["content"] = [$"must be at most {TaskInput.MaxDescription} characters"];
        if (desktopId is null) errors.TryAdd("desktopId", ["must be an agent id"]);
        if (errors.Count > 0) return ApiProblems.Validation(errors);

        // The desktop is an agent of the caller's organization; its task goes on its board.
        var agent = await db.Agents.AsNoTracking().FirstOrDefaultAsync(a => a.Id == desktopId && a.OrganizationId == principal.OrganizationId, ct);
        if (agent?.BoardId is not { } boardId) return ApiProblems.NotFound("Desktop not found.", "desktop_not_found");
        var (board, error) = await access.CheckAsync(http, boardId, BoardAccessLevel.Write, ct);
        if (error is not null) return error;

        // Seed 002: requiresApproval defaults to false "unless global setting is on": here the board's require_approval_for_done,
        // which no task can opt out of (done would be refused without an approved approval), so it wins over an explicit false.
        var gated = (requiresApproval ?? false) || BoardCopies.RulesOf(board!).RequireApprovalForDone;
        var (title, description) = MissionControlDialect.TitleAndDescription(content!);
        var result = await creation.CreateAsync(board!, principal, TaskActor.User, new CreateTaskRequest(title, description, null, null, null, null, null, null, null),
            ct, t => (t.Kind, t.RequiresApproval, t.TargetAgentId) = (type, gated, agent.Id));
        if (result is not IValueHttpResult<TaskSnapshot> { Value: { } created }) return result;
        http.Response.Headers.Location = $"/api/mission-control/tasks/{created.Id}";
        return Ok(await TaskAsync(db, created.Id, ct), StatusCodes.Status201Created);
    }

    /// <summary>A pending task: assigned to its desktop, running, and sent (seed 000's dispatch hooks, with this task's kind).</summary>
    private static async Task<IResult> Run(Guid taskId, HttpContext http, TasksDbContext db, BoardAccess access, TaskUpdates updates, CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        if (UsersOnly(principal) is { } refused) return refused;
        var (board, task, error) = await SeedApi.FindAsync(taskId, http, db, access, BoardAccessLevel.Write, ct);
        if (error is not null) return error;
        if (NotPendingProblem(task!) is { } notPending) return notPending;
        if ((task!.TargetAgentId ?? task.AssignedAgentId) is not { } agentId)
            return ApiProblems.Unprocessable("The task names no desktop to run on.", "desktop_required");

        var kind = task.Kind ?? MissionControlDialect.Prompt;
        var patch = new TaskPatch
        {
            Fields = new HashSet<string> { "assigned_agent_id", "status" }, AssignedAgentId = agentId, Status = TaskStatuses.InProgress,
        };
        var hooks = SeedApi.DispatchHooks(db, board!, principal, agentId, kind, t => MissionControlDialect.Message(kind, t), NotPendingProblem);
        var result = await updates.UpdateAsync(board!, principal, TaskActor.User, taskId, patch, ct, hooks);
        return result is IValueHttpResult<TaskSnapshot> ? Ok(await TaskAsync(db, taskId, ct)) : result;
    }

    private static IResult? NotPendingProblem(TaskItem t) => t.Status == TaskStatuses.Inbox ? null
        : ApiProblems.Conflict($"Only a pending task runs; this one is {MissionControlDialect.StatusOut(t.Status)}.", NotPending);

    /// <summary>
    /// How an agent's "done" lands on a mission-control task (its PATCH /api/tasks/{id}, or its gateway session's final
    /// reply): in review with a pending approval when the task requires approval, else done. A board that requires
    /// approval for done (seed 002's "global setting"; also applied at create) requires it too, even if the rule was
    /// turned on later: done would be refused (approval_required) without one, and this approval is the one its gate
    /// then accepts once approved. One pending approval per task: an existing one is kept, not duplicated.
    /// </summary>
    internal static (string Status, UpdateHooks? Hooks) Finish(TasksDbContext db, BoardCopy board, TaskItem task, McPrincipal agent)
    {
        if (task.RequiresApproval != true && !BoardCopies.RulesOf(board).RequireApprovalForDone) return (TaskStatuses.Done, null);
        return (TaskStatuses.Review, new UpdateHooks(AlsoAsync: async (t, now, ct) =>
        {
            if (await ApprovalsApi.ConflictAsync(db, [t.Id], null, ct) is not null) return;
            await ApprovalsApi.AddAsync(db, board, [t.Id], agent.AgentId, ApprovalActionType, new JsonObject { ["reason"] = ApprovalReason }, 100, null,
                ApprovalStatuses.Pending, agent, now, ct);
        }));
    }

    private static async Task<IResult> Review(Guid taskId, HttpContext http, TasksDbContext db, BoardAccess access, TaskUpdates updates, CopyCache copies,
        TimeProvider time, CancellationToken ct)
    {
        var body = await JsonBody.ReadAsync(http.Request, ct);
        var principal = http.GetPrincipal();
        if (UsersOnly(principal) is { } refused) return refused;
        if (Decision(body) is { Error: { } invalid }) return invalid;
        var (board, task, error) = await SeedApi.FindAsync(taskId, http, db, access, BoardAccessLevel.Write, ct);
        if (error is not null) return error;
        var result = await DecideAsync(db, updates, copies, time, board!, principal, task!.Id, Decision(body).Approve, body.Get<string>("feedback"), ct);
        return result is IValueHttpResult<TaskSnapshot> ? Ok(await TaskAsync(db, taskId, ct)) : result;
    }

    private static (bool Approve, IResult? Error) Decision(JsonBody body) => body.Get<string>("decision") switch
    {
        "approve" => (true, null),
        "reject" => (false, null),
        _ => (false, ApiProblems.Validation("decision", "must be approve or reject")),
    };

    /// <summary>
    /// A task in review decided: its pending approvals resolved (before the rules look, so a done gate sees the
    /// approval), then approve → done, reject → failed with the feedback as the user's comment; 409 unless in review.
    /// </summary>
    private static Task<IResult> DecideAsync(TasksDbContext db, TaskUpdates updates, CopyCache copies, TimeProvider time, BoardCopy board,
        McPrincipal principal, Guid taskId, bool approve, string? feedback, CancellationToken ct)
    {
        var hooks = new UpdateHooks(
            Check: t => t.Status == TaskStatuses.Review ? null
                : ApiProblems.Conflict($"Only a task in review is decided; this one is {MissionControlDialect.StatusOut(t.Status)}.", NotInReview),
            Before: async (t, token) =>
            {
                var pending = await (from link in db.ApprovalTaskLinks
                    join approval in db.Approvals on link.ApprovalId equals approval.Id
                    where link.TaskId == t.Id && approval.Status == ApprovalStatuses.Pending
                    select approval).ToListAsync(token);
                foreach (var approval in pending)
                {
                    var taskIds = await db.ApprovalTaskLinks.Where(l => l.ApprovalId == approval.Id).OrderBy(l => l.CreatedAt).Select(l => l.TaskId).ToListAsync(token);
                    await ApprovalsApi.ApplyResolutionAsync(db, copies, board, approval, taskIds,
                        approve ? ApprovalStatuses.Approved : ApprovalStatuses.Rejected, principal, time.GetUtcNow().UtcDateTime, token);
                }
            });
        var withComment = !string.IsNullOrWhiteSpace(feedback);
        var patch = new TaskPatch
        {
            Fields = withComment ? new HashSet<string> { "status", "comment" } : new HashSet<string> { "status" },
            Status = approve ? TaskStatuses.Done : TaskStatuses.Failed, Comment = withComment ? feedback : null,
        };
        return updates.UpdateAsync(board, principal, TaskActor.User, taskId, patch, ct, hooks);
    }

    /// <summary>Pending approvals of the boards the caller reads, newest first, each with its task.</summary>
    private static async Task<IResult> Approvals(HttpContext http, TasksDbContext db, CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        if (UsersOnly(principal) is { } refused) return refused;
        var query = db.Approvals.AsNoTracking().Where(a => a.OrganizationId == principal.OrganizationId && a.Status == ApprovalStatuses.Pending);
        if (SeedApi.ReadableBoards(principal) is { } readable) query = query.Where(a => readable.Contains(a.BoardId));
        var approvals = await query.OrderByDescending(a => a.CreatedAt).Take(PageRequest.MaxLimit).ToListAsync(ct);
        var ids = approvals.Where(a => a.TaskId != null).Select(a => a.TaskId!.Value).Distinct().ToList();
        var tasks = await db.Tasks.AsNoTracking().Where(t => ids.Contains(t.Id)).ToDictionaryAsync(t => t.Id, ct);
        return Ok(approvals.ConvertAll(a => MissionControlDialect.Approval(a, a.TaskId is { } id ? tasks.GetValueOrDefault(id) : null)));
    }

    /// <summary>Resolves a pending approval; its task, when in review, is decided with it (as review does).</summary>
    private static async Task<IResult> Resolve(Guid approvalId, HttpContext http, TasksDbContext db, BoardAccess access, TaskUpdates updates,
        CopyCache copies, DatabaseWriteGate gate, TimeProvider time, CancellationToken ct)
    {
        var body = await JsonBody.ReadAsync(http.Request, ct);
        var principal = http.GetPrincipal();
        if (UsersOnly(principal) is { } refused) return refused;
        var (approve, invalid) = Decision(body);
        if (invalid is not null) return invalid;
        var approval = await db.Approvals.AsNoTracking().FirstOrDefaultAsync(a => a.Id == approvalId && a.OrganizationId == principal.OrganizationId, ct);
        if (approval is null) return ApiProblems.NotFound("Approval not found.");
        var (board, error) = await access.CheckAsync(http, approval.BoardId, BoardAccessLevel.Write, ct);
        if (error is not null) return error;
        if (approval.Status != ApprovalStatuses.Pending) return ApiProblems.Conflict($"The approval is {approval.Status} already.", ApprovalNotPending);

        var task = approval.TaskId is { } taskId ? await db.Tasks.AsNoTracking().FirstOrDefaultAsync(t => t.Id == taskId, ct) : null;
        if (task?.Status == TaskStatuses.Review)
        {
            var result = await DecideAsync(db, updates, copies, time, board!, principal, task.Id, approve, body.Get<string>("feedback"), ct);
            if (result is not IValueHttpResult<TaskSnapshot>) return result;
        }
        else
        {
            // Its task is not waiting in review (e.g. an /api/v1 approval): only the approval is resolved.
            await using var unit = await WriteUnit.BeginAsync(db, gate, ct);
            var tracked = await db.Approvals.FirstAsync(a => a.Id == approvalId, ct);
            if (tracked.Status != ApprovalStatuses.Pending) return ApiProblems.Conflict($"The approval is {tracked.Status} already.", ApprovalNotPending);
            var taskIds = await db.ApprovalTaskLinks.Where(l => l.ApprovalId == approvalId).OrderBy(l => l.CreatedAt).Select(l => l.TaskId).ToListAsync(ct);
            await ApprovalsApi.ApplyResolutionAsync(db, copies, board!, tracked, taskIds, approve ? ApprovalStatuses.Approved : ApprovalStatuses.Rejected,
                principal, time.GetUtcNow().UtcDateTime, ct);
            await unit.CommitAsync(ct);
        }
        var resolved = await db.Approvals.AsNoTracking().FirstAsync(a => a.Id == approvalId, ct);
        var now = task is null ? null : await db.Tasks.AsNoTracking().FirstOrDefaultAsync(t => t.Id == task.Id, ct);
        return Ok(MissionControlDialect.Approval(resolved, now));
    }

    private static async Task<IResult> Overview(HttpContext http, TasksDbContext db, CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        if (UsersOnly(principal) is { } refused) return refused;
        // From the per-board status counters: counting the tasks themselves read every task of the organization.
        var boards = db.Boards.AsNoTracking().Where(b => b.OrganizationId == principal.OrganizationId);
        if (SeedApi.ReadableBoards(principal) is { } readable) boards = boards.Where(b => readable.Contains(b.Id));
        var counts = await db.TaskCounts.AsNoTracking().Where(c => boards.Any(b => b.Id == c.BoardId))
            .GroupBy(c => c.Status).Select(g => new { g.Key, Count = g.Sum(c => c.TaskCount) }).ToDictionaryAsync(g => g.Key, g => g.Count, ct);
        int Count(string status) => counts.GetValueOrDefault(status);
        var active = await db.Agents.AsNoTracking().CountAsync(a => a.OrganizationId == principal.OrganizationId && !InactiveStatuses.Contains(a.Status), ct);
        var (used, total) = HostResources.MemoryMb();
        return Ok(new
        {
            tasks = new
            {
                pending = Count(TaskStatuses.Inbox), running = Count(TaskStatuses.InProgress), review = Count(TaskStatuses.Review),
                done = Count(TaskStatuses.Done), failed = Count(TaskStatuses.Failed), cancelled = Count(TaskStatuses.Cancelled),
            },
            activeDesktops = active,
            resources = new
            {
                cpu = await HostResources.CpuPercentAsync(ct),
                memory = new { used, total, percent = total == 0 ? 0 : Math.Round(100.0 * used / total, 1) },
            },
        });
    }
}

/// <summary>The host's load for the overview, from /proc (Linux); zeros where /proc is not there.</summary>
internal static class HostResources
{
    /// <summary>Busy share of all CPU time between two /proc/stat samples 100 ms apart.</summary>
    public static async Task<double> CpuPercentAsync(CancellationToken ct)
    {
        if (Sample() is not { } first) return 0;
        await Task.Delay(100, ct);
        if (Sample() is not { } second) return 0;
        var total = second.Total - first.Total;
        return total <= 0 ? 0 : Math.Round(100.0 * (total - (second.Idle - first.Idle)) / total, 1);
    }

    private static (long Idle, long Total)? Sample()
    {
        try
        {
            // cpu  user nice system idle iowait irq softirq steal ...
            var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
                .Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
            return (fields[3] + (fields.Length > 4 ? fields[4] : 0), fields.Take(8).Sum());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException) { return null; }
    }

    /// <summary>MB used (MemTotal - MemAvailable) and MB total, from /proc/meminfo.</summary>
    public static (long Used, long Total) MemoryMb()
    {
        try
        {
            var info = File.ReadLines("/proc/meminfo").Select(l => l.Split(':', 2)).Where(p => p.Length == 2)
                .ToDictionary(p => p[0], p => long.Parse(p[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024);
            var total = info.GetValueOrDefault("MemTotal");
            return (total - info.GetValueOrDefault("MemAvailable", total), total);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { return (0, 0); }
    }
}
