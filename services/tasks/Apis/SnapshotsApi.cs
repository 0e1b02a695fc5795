using System.Linq.Expressions;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Tasks;
using MissionControl.InternalAuth;
using MissionControl.Tasks.Data;
using MissionControl.Tasks.Domain;

namespace MissionControl.Tasks.Apis;

/// <summary>
/// One-call views for dashboards and agents: a board with its tasks, agents, approvals and chat
/// (/boards/{b}/snapshot), and a board group's boards with their counts and top tasks
/// (/board-groups/{g}/snapshot, /boards/{b}/group-snapshot).
/// </summary>
public static class SnapshotsApi
{
    private const int RecentLimit = 200;

    public static IEndpointRouteBuilder MapSnapshotsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/boards/{boardId:guid}/snapshot", BoardSnapshot);
        app.MapGet("/api/v1/boards/{boardId:guid}/group-snapshot", BoardGroupSnapshot);
        app.MapGet("/api/v1/board-groups/{groupId:guid}/snapshot", GroupSnapshot);
        return app;
    }

    private static async Task<IResult> BoardSnapshot(
        Guid boardId, HttpContext http, BoardAccess access, TasksDbContext db, TaskReads reads, CopyCache copies, CancellationToken ct)
    {
        var (board, error) = await access.CheckAsync(http, boardId, BoardAccessLevel.Read, ct);
        if (error is not null) return error;

        var tasks = await db.Tasks.AsNoTracking().Where(t => t.BoardId == boardId).OrderByDescending(t => t.CreatedAt)
            .Select(TaskReads.ReadColumns).ToListAsync(ct);
        var snapshots = await reads.SnapshotsAsync(board!, tasks, ct);
        var approvalCounts = (await (
                from link in db.ApprovalTaskLinks
                join approval in db.Approvals on link.ApprovalId equals approval.Id
                where approval.BoardId == boardId
                group approval by link.TaskId into g
                select new ApprovalTaskCount(g.Key, g.Count(), g.Count(a => a.Status == ApprovalStatuses.Pending))).ToListAsync(ct))
            .ToDictionary(c => c.TaskId);
        var agents = await copies.AgentsOfBoardAsync(boardId, ct);
        var names = agents.ToDictionary(a => a.Id, a => a.Name);
        var cards = snapshots.Select(s =>
        {
            var card = JsonSerializer.SerializeToNode(s, JsonDefaults.Api)!.AsObject();
            card["assignee"] = s.AssignedAgentId is { } id && names.TryGetValue(id, out var name) ? name : null;
            card["approvals_count"] = approvalCounts.TryGetValue(s.Id, out var c) ? c.ApprovalsCount : 0;
            card["approvals_pending_count"] = c?.ApprovalsPendingCount ?? 0;
            return card;
        }).ToList();
        var approvals = await db.Approvals.AsNoTracking().Where(a => a.BoardId == boardId).OrderByDescending(a => a.CreatedAt).Take(RecentLimit).ToListAsync(ct);
        var chat = await db.BoardMemory.AsNoTracking().Where(m => m.BoardId == boardId && m.IsChat).OrderByDescending(m => m.CreatedAt).Take(RecentLimit)
            .ToListAsync(ct);
        chat.Reverse();
        return Results.Ok(new
        {
            board = BoardRead.From(board!),
            tasks = cards,
            agents = agents.Select(AgentRead.From),
            approvals = await ApprovalsApi.StatesAsync(db, approvals, ct),
            chat_messages = chat.Select(Operations.MemoryWriter.State),
            pending_approvals_count = await db.Approvals.CountAsync(a => a.BoardId == boardId && a.Status == ApprovalStatuses.Pending, ct),
        });
    }

    /// <summary>The group of a board, without the board itself unless include_self.</summary>
    private static async Task<IResult> BoardGroupSnapshot(
        Guid boardId, HttpContext http, BoardAccess access, TasksDbContext db, TaskReads reads,
        [FromQuery(Name = "include_self")] bool? includeSelf, [FromQuery(Name = "include_done")] bool? includeDone,
        [FromQuery(Name = "per_board_task_limit")] int? perBoardTaskLimit, CancellationToken ct)
    {
        if (LimitError(perBoardTaskLimit) is { } invalid) return invalid;
        var (board, error) = await access.CheckAsync(http, boardId, BoardAccessLevel.Read, ct);
        if (error is not null) return error;
        var group = board!.BoardGroupId is { } groupId ? await db.BoardGroups.AsNoTracking().FirstOrDefaultAsync(g => g.Id == groupId, ct) : null;
        if (group is null) return Results.Ok(new { group = (BoardGroupRead?)null, boards = Array.Empty<object>() });
        var boards = await db.Boards.AsNoTracking().Where(b => b.BoardGroupId == group.Id && b.OrganizationId == group.OrganizationId)
            .OrderBy(b => b.Name).ToListAsync(ct);
        var visible = GroupAccess.Visible(http.GetPrincipal(), boards).Where(b => includeSelf == true || b.Id != boardId).ToList();
        return Results.Ok(await GroupViewAsync(db, reads, group, visible, includeDone == true, perBoardTaskLimit ?? 5, ct));
    }

    private static async Task<IResult> GroupSnapshot(
        Guid groupId, HttpContext http, GroupAccess access, TasksDbContext db, TaskReads reads, [FromQuery(Name = "include_done")] bool? includeDone,
        [FromQuery(Name = "per_board_task_limit")] int? perBoardTaskLimit, CancellationToken ct)
    {
        if (LimitError(perBoardTaskLimit) is { } invalid) return invalid;
        var (group, boards, error) = await access.CheckAsync(http, groupId, BoardAccessLevel.Read, ct);
        if (error is not null) return error;
        return Results.Ok(await GroupViewAsync(db, reads, group!, GroupAccess.Visible(http.GetPrincipal(), boards), includeDone == true,
            perBoardTaskLimit ?? 5, ct));
    }

    private static IResult? LimitError(int? limit) =>
        limit is < 0 or > 100 ? ApiProblems.Validation("per_board_task_limit", "must be between 0 and 100") : null;

    // Work in flight first, then by priority, then the most recently touched.
    private static readonly Expression<Func<TaskItem, int>> StatusRank = t =>
        t.Status == TaskStatuses.InProgress ? 0 : t.Status == TaskStatuses.Review ? 1 : t.Status == TaskStatuses.Inbox ? 2 : t.Status == TaskStatuses.Done ? 3 : 4;

    private static readonly Expression<Func<TaskItem, int>> PriorityRank = t =>
        t.Priority == TaskPriorities.Critical ? 0 : t.Priority == TaskPriorities.High ? 1 : t.Priority == TaskPriorities.Medium ? 2 : 3;

    private static async Task<object> GroupViewAsync(TasksDbContext db, TaskReads reads, BoardGroupCopy group, IReadOnlyList<BoardCopy> boards,
        bool includeDone, int perBoardLimit, CancellationToken ct)
    {
        var boardIds = boards.Select(b => b.Id).ToList();
        // A status's count is the sum of its shards (one shard alone may be negative).
        var counts = (await db.TaskCounts.AsNoTracking().Where(c => boardIds.Contains(c.BoardId))
                .GroupBy(c => new { c.BoardId, c.Status }).Select(g => new { g.Key.BoardId, g.Key.Status, Count = g.Sum(c => c.TaskCount) })
                .ToListAsync(ct))
            .Where(c => c.Count > 0).ToLookup(c => c.BoardId);
        var names = await db.Agents.AsNoTracking().Where(a => a.BoardId != null && boardIds.Contains(a.BoardId.Value)).ToDictionaryAsync(a => a.Id, a => a.Name, ct);
        var views = new List<object>(boards.Count);
        foreach (var board in boards)
        {
            var query = db.Tasks.AsNoTracking().Where(t => t.BoardId == board.Id);
            if (!includeDone) query = query.Where(t => t.Status != TaskStatuses.Done);
            var tasks = perBoardLimit == 0 ? []
                : await query.OrderBy(StatusRank).ThenBy(PriorityRank).ThenByDescending(t => t.UpdatedAt).Take(perBoardLimit).ToListAsync(ct);
            var extras = await reads.ExtrasAsync(tasks, ct);
            views.Add(new
            {
                board = BoardRead.From(board),
                task_counts = counts[board.Id].ToDictionary(c => c.Status, c => c.Count),
                tasks = tasks.Select(t => new
                {
                    id = t.Id, board_id = t.BoardId, board_name = board.Name, title = t.Title, status = t.Status, priority = t.Priority,
                    assigned_agent_id = t.AssignedAgentId, assignee = t.AssignedAgentId is { } a && names.TryGetValue(a, out var n) ? n : null,
                    due_at = t.DueAt, in_progress_at = t.InProgressAt, tags = extras[t.Id].Tags, created_at = t.CreatedAt, updated_at = t.UpdatedAt,
                }),
            });
        }
        return new { group = BoardGroupRead.From(group), boards = views };
    }
}
