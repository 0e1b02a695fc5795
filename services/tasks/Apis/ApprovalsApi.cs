using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Tasks;
using MissionControl.InternalAuth;
using MissionControl.Messaging;
using MissionControl.Tasks.Data;
using MissionControl.Tasks.Domain;
using MissionControl.Tasks.Operations;

namespace MissionControl.Tasks.Apis;

public sealed record ApprovalCreateRequest(
    string? ActionType, Guid? TaskId, List<Guid>? TaskIds, JsonObject? Payload, double? Confidence, Dictionary<string, int>? RubricScores,
    string? Status, Guid? AgentId, string? LeadReasoning);

public sealed record ApprovalResolveRequest(string? Status);

/// <summary>
/// /api/v1/boards/{board_id}/approvals (reference §3.8). Users and agents raise approvals; only humans
/// with write access resolve them; a task has at most one pending approval.
/// </summary>
public static class ApprovalsApi
{
    public const string ConflictCode = "pending_approval_conflict";

    public static IEndpointRouteBuilder MapApprovalsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/boards/{boardId:guid}/approvals");
        api.MapGet("", List);
        api.MapPost("", Create);
        api.MapGet("/{approvalId:guid}", Get);
        api.MapPatch("/{approvalId:guid}", Resolve);
        return app;
    }

    /// <summary>Newest first, optionally by status.</summary>
    internal static async Task<IResult> List(
        Guid boardId, HttpContext http, BoardAccess access, TasksDbContext db, string? status, int? limit, int? offset, CancellationToken ct)
    {
        if (!PageRequest.TryParse(limit, offset, out var page, out var pageError)) return pageError!;
        if (status is not null && !ApprovalStatuses.All.Contains(status))
            return ApiProblems.Validation("status", $"must be one of {string.Join(", ", ApprovalStatuses.All)}");
        var (_, error) = await access.CheckAsync(http, boardId, BoardAccessLevel.Read, ct);
        if (error is not null) return error;
        var query = db.Approvals.AsNoTracking().Where(a => a.BoardId == boardId);
        if (status is not null) query = query.Where(a => a.Status == status);
        var total = await query.CountAsync(ct);
        var items = await query.OrderByDescending(a => a.CreatedAt).Skip(page.Offset).Take(page.Limit).ToListAsync(ct);
        return Results.Ok(new Page<ApprovalState>(await StatesAsync(db, items, ct), total, page.Limit, page.Offset));
    }

    private static async Task<IResult> Get(Guid boardId, Guid approvalId, HttpContext http, BoardAccess access, TasksDbContext db, CancellationToken ct)
    {
        var (_, error) = await access.CheckAsync(http, boardId, BoardAccessLevel.Read, ct);
        if (error is not null) return error;
        var approval = await db.Approvals.AsNoTracking().FirstOrDefaultAsync(a => a.Id == approvalId && a.BoardId == boardId, ct);
        return approval is null ? ApiProblems.NotFound("Approval not found.") : Results.Ok((await StatesAsync(db, [approval], ct))[0]);
    }

    internal static async Task<IResult> Create(
        Guid boardId, ApprovalCreateRequest body, HttpContext http, BoardAccess access, TasksDbContext db, DatabaseWriteGate gate, TimeProvider time,
        CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var status = body.Status ?? ApprovalStatuses.Pending;
        if (string.IsNullOrWhiteSpace(body.ActionType) || body.ActionType.Trim().Length > 200) errors["action_type"] = ["must be 1 to 200 characters"];
        if (body.Confidence is not (>= 0 and <= 100)) errors["confidence"] = ["must be a number from 0 to 100"];
        if (!ApprovalStatuses.All.Contains(status)) errors["status"] = [$"must be one of {string.Join(", ", ApprovalStatuses.All)}"];
        if (errors.Count > 0) return ApiProblems.Validation(errors);
        var payload = ApprovalRequests.WithReasoning(body.Payload, body.LeadReasoning);
        if (payload is null) return ApiProblems.Unprocessable("lead reasoning is required", "reasoning_required");

        var (board, error) = await access.CheckAsync(http, boardId, BoardAccessLevel.Write, ct);
        if (error is not null) return error;
        var principal = http.GetPrincipal();
        if (principal.Kind == PrincipalKind.Agent && status != ApprovalStatuses.Pending)
            return ApiProblems.Forbidden("Agents may only request approvals; a human decides them.", "approval_status_forbidden");

        var taskIds = ApprovalRequests.TaskIds(body.TaskIds, body.TaskId, payload);
        await using var unit = await WriteUnit.BeginAsync(db, gate, ct);
        await unit.LockTasksAsync(taskIds, ct);
        var found = await db.Tasks.Where(t => t.BoardId == boardId && taskIds.Contains(t.Id)).Select(t => t.Id).ToListAsync(ct);
        var missing = taskIds.Except(found).ToList();
        if (missing.Count > 0)
            return ApiProblems.Status(404, "One or more linked tasks were not found on this board.", "task_not_found",
                new Dictionary<string, object?> { ["missing_task_ids"] = missing });
        if (status == ApprovalStatuses.Pending && await ConflictAsync(db, taskIds, null, ct) is { } conflict) return conflict;

        var state = await AddAsync(db, board!, taskIds, body.AgentId ?? principal.AgentId, body.ActionType!.Trim(), payload, body.Confidence!.Value,
            body.RubricScores, status, principal, time.GetUtcNow().UtcDateTime, ct);
        await unit.CommitAsync(ct);
        return Results.Created($"/api/v1/boards/{boardId}/approvals/{state.Id}", state);
    }

    /// <summary>Writes an approval, its task links and its ApprovalChanged (inside the caller's unit; the caller checked the conflict rule).</summary>
    internal static async Task<ApprovalState> AddAsync(TasksDbContext db, BoardCopy board, IReadOnlyList<Guid> taskIds, Guid? agentId, string actionType,
        JsonObject payload, double confidence, Dictionary<string, int>? rubricScores, string status, McPrincipal principal, DateTime now, CancellationToken ct)
    {
        var approval = new Approval
        {
            Id = Guid.CreateVersion7(), OrganizationId = board.OrganizationId, BoardId = board.Id, TaskId = taskIds.Count > 0 ? taskIds[0] : null,
            AgentId = agentId, ActionType = actionType, Payload = payload.ToJsonString(),
            Confidence = confidence, RubricScores = rubricScores is null ? null : Json.Text(rubricScores), Status = status,
            CreatedAt = now, ResolvedAt = status == ApprovalStatuses.Pending ? null : now,
        };
        db.Approvals.Add(approval);
        db.ApprovalTaskLinks.AddRange(taskIds.Select((id, i) => new ApprovalTaskLink { ApprovalId = approval.Id, TaskId = id, CreatedAt = now.AddTicks(i) }));
        await db.SaveChangesAsync(ct);
        var state = new ApprovalStateBuilder(approval, taskIds).State;
        await PublishAsync(db, board, state, Events.Activity("approval.created", $"Approval requested: {approval.ActionType}.", principal, approval.TaskId, now), now, ct);
        return state;
    }

    /// <summary>Humans with write access only; resolution does not move tasks, it unlocks the done gate and tells the lead.</summary>
    private static async Task<IResult> Resolve(
        Guid boardId, Guid approvalId, ApprovalResolveRequest body, HttpContext http, BoardAccess access, TasksDbContext db, DatabaseWriteGate gate,
        CopyCache copies, TimeProvider time, CancellationToken ct)
    {
        if (body.Status is null || !ApprovalStatuses.All.Contains(body.Status))
            return ApiProblems.Validation("status", $"must be one of {string.Join(", ", ApprovalStatuses.All)}");
        var (board, error) = await access.CheckAsync(http, boardId, BoardAccessLevel.Write, ct);
        if (error is not null) return error;
        var principal = http.GetPrincipal();
        if (principal.Kind != PrincipalKind.User) return ApiProblems.Forbidden("Only humans resolve approvals.", "user_only");

        await using var unit = await WriteUnit.BeginAsync(db, gate, ct);
        var approval = await db.Approvals.FirstOrDefaultAsync(a => a.Id == approvalId && a.BoardId == boardId, ct);
        if (approval is null) return ApiProblems.NotFound("Approval not found.");
        var taskIds = await db.ApprovalTaskLinks.Where(l => l.ApprovalId == approvalId).OrderBy(l => l.CreatedAt).Select(l => l.TaskId).ToListAsync(ct);
        if (body.Status == ApprovalStatuses.Pending && approval.Status != ApprovalStatuses.Pending)
        {
            await unit.LockTasksAsync(taskIds, ct);
            if (await ConflictAsync(db, taskIds, approval.Id, ct) is { } conflict) return conflict;
        }

        var state = await ApplyResolutionAsync(db, copies, board!, approval, taskIds, body.Status, principal, time.GetUtcNow().UtcDateTime, ct);
        await unit.CommitAsync(ct);
        return Results.Ok(state);
    }

    /// <summary>Sets the approval's status, with its ApprovalChanged and the lead's notice (inside the caller's unit).</summary>
    internal static async Task<ApprovalState> ApplyResolutionAsync(TasksDbContext db, CopyCache copies, BoardCopy board, Approval approval,
        IReadOnlyList<Guid> taskIds, string status, McPrincipal principal, DateTime now, CancellationToken ct)
    {
        approval.Status = status;
        if (status != ApprovalStatuses.Pending) approval.ResolvedAt = now;
        await db.SaveChangesAsync(ct);
        var state = new ApprovalStateBuilder(approval, taskIds).State;
        await PublishAsync(db, board, state, Events.Activity("approval.resolved", $"Approval {status}: {approval.ActionType}.", principal, approval.TaskId, now), now, ct);
        if (status != ApprovalStatuses.Pending && await copies.LeadOfBoardAsync(board.Id, ct) is { } lead)
            Events.NotifyAgent(db, board, lead.Id, Notices.ApprovalLeadNotified,
                Notices.ApprovalResolved(board.Name, approval.Id, approval.ActionType, status, approval.Confidence, taskIds), approval.TaskId, now);
        return state;
    }

    /// <summary>409 with the conflicting (task, approval) pairs when any of the tasks already has another pending approval.</summary>
    internal static async Task<IResult?> ConflictAsync(TasksDbContext db, IReadOnlyList<Guid> taskIds, Guid? except, CancellationToken ct)
    {
        if (taskIds.Count == 0) return null;
        var conflicts = await (
            from link in db.ApprovalTaskLinks
            join approval in db.Approvals on link.ApprovalId equals approval.Id
            where taskIds.Contains(link.TaskId) && approval.Status == ApprovalStatuses.Pending && approval.Id != except
            select new { task_id = link.TaskId, approval_id = approval.Id }).ToListAsync(ct);
        return conflicts.Count == 0 ? null
            : ApiProblems.Conflict("Each task can have only one pending approval.", ConflictCode, new Dictionary<string, object?> { ["conflicts"] = conflicts });
    }

    /// <summary>ApprovalChanged with the board's pending count and each linked task's counts after the change.</summary>
    private static async Task PublishAsync(TasksDbContext db, BoardCopy board, ApprovalState state, ActivityInfo activity, DateTime now, CancellationToken ct)
    {
        var pending = await db.Approvals.CountAsync(a => a.BoardId == board.Id && a.Status == ApprovalStatuses.Pending, ct);
        var taskIds = state.TaskIds;
        var counts = await (
            from link in db.ApprovalTaskLinks
            join approval in db.Approvals on link.ApprovalId equals approval.Id
            where taskIds.Contains(link.TaskId)
            group approval by link.TaskId into g
            select new ApprovalTaskCount(g.Key, g.Count(), g.Count(a => a.Status == ApprovalStatuses.Pending))).ToListAsync(ct);
        db.AddIntegrationEvent(new ApprovalChanged
        {
            OrganizationId = board.OrganizationId, BoardId = board.Id, Approval = state, PendingApprovalsCount = pending, TaskCounts = counts,
            Activity = activity, OccurredAt = now,
        });
    }

    /// <summary>Approval reads for a page: the linked task ids in one query.</summary>
    internal static async Task<List<ApprovalState>> StatesAsync(TasksDbContext db, IReadOnlyList<Approval> approvals, CancellationToken ct)
    {
        var ids = approvals.Select(a => a.Id).ToList();
        var links = (await db.ApprovalTaskLinks.AsNoTracking().Where(l => ids.Contains(l.ApprovalId)).OrderBy(l => l.CreatedAt).ToListAsync(ct))
            .ToLookup(l => l.ApprovalId, l => l.TaskId);
        return approvals.Select(a => new ApprovalStateBuilder(a, links[a.Id].ToList()).State).ToList();
    }

    private readonly record struct ApprovalStateBuilder(Approval Approval, IReadOnlyList<Guid> TaskIds)
    {
        public ApprovalState State => new()
        {
            Id = Approval.Id, BoardId = Approval.BoardId, TaskId = Approval.TaskId, TaskIds = TaskIds, AgentId = Approval.AgentId,
            ActionType = Approval.ActionType, Payload = Approval.Payload is null ? null : Json.Parse(Approval.Payload),
            Confidence = Approval.Confidence,
            RubricScores = Approval.RubricScores is null ? null : JsonSerializer.Deserialize<Dictionary<string, int>>(Approval.RubricScores),
            Status = Approval.Status, CreatedAt = Approval.CreatedAt, ResolvedAt = Approval.ResolvedAt,
        };
    }
}
