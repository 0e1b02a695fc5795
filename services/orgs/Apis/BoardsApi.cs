using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Orgs;
using MissionControl.InternalAuth;
using MissionControl.Messaging;
using MissionControl.Orgs.Data;
using MissionControl.Orgs.Domain;
using MissionControl.Orgs.Membership;

namespace MissionControl.Orgs.Apis;

public sealed record BoardRead(
    Guid Id, Guid OrganizationId, string Name, string Slug, string Description, Guid? GatewayId, Guid? BoardGroupId,
    string BoardType, string? Objective, JsonElement? SuccessMetrics, DateTime? TargetDate, bool GoalConfirmed, string? GoalSource,
    bool RequireApprovalForDone, bool RequireReviewBeforeDone, bool CommentRequiredForReview,
    bool BlockStatusChangesWithPendingApproval, bool OnlyLeadCanChangeStatus, int MaxAgents, DateTime CreatedAt, DateTime UpdatedAt)
{
    public static BoardRead Of(Board b) => new(
        b.Id, b.OrganizationId, b.Name, b.Slug, b.Description, b.GatewayId, b.BoardGroupId, b.BoardType, b.Objective,
        JsonText.Parse(b.SuccessMetrics), b.TargetDate, b.GoalConfirmed, b.GoalSource,
        b.RequireApprovalForDone, b.RequireReviewBeforeDone, b.CommentRequiredForReview, b.BlockStatusChangesWithPendingApproval,
        b.OnlyLeadCanChangeStatus, b.MaxAgents, b.CreatedAt, b.UpdatedAt);
}

public static class BoardsApi
{
    public static IEndpointRouteBuilder MapBoardsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/boards");
        api.MapPost("", Create);
        api.MapGet("", List);
        api.MapGet("/{boardId:guid}", Get);
        api.MapPatch("/{boardId:guid}", Update);
        api.MapDelete("/{boardId:guid}", Delete);
        return app;
    }

    private static async Task<IResult> Create(BoardInput body, HttpContext http, OrgsDbContext db, TimeProvider time, CancellationToken ct)
    {
        if (!Access.TryAdmin(http.GetPrincipal(), "Creating boards", out var orgId, out var problem)) return problem;
        var now = time.GetUtcNow().UtcDateTime;
        var board = new Board { Id = Guid.CreateVersion7(), OrganizationId = orgId, Name = "", Slug = "", CreatedAt = now, UpdatedAt = now };
        var (errors, _) = body.ApplyTo(board, creating: true);
        await CheckGroupAsync(db, board, errors, ct);
        if (errors.Count > 0) return ApiProblems.Validation(errors);

        db.Boards.Add(board);
        db.AddIntegrationEvent(new BoardCreated { OrganizationId = orgId, BoardId = board.Id, Board = StateOf(board), OccurredAt = now });
        await db.SaveChangesAsync(ct);
        return Results.Created($"/api/v1/boards/{board.Id}", BoardRead.Of(board));
    }

    private static async Task<IResult> List(
        HttpContext http, OrgsDbContext db, [FromQuery(Name = "gateway_id")] Guid? gatewayId, [FromQuery(Name = "board_group_id")] Guid? boardGroupId,
        int? limit, int? offset, CancellationToken ct)
    {
        if (!PageRequest.TryParse(limit, offset, out var page, out var error)) return error!;
        var principal = http.GetPrincipal();
        if (principal.OrganizationId is not { } orgId) return Access.NoOrganization();

        var query = db.Boards.AsNoTracking().Where(b => b.OrganizationId == orgId);
        if (Access.ReadableBoardIds(principal) is { } readable) query = query.Where(b => readable.Contains(b.Id));
        if (gatewayId is { } gateway) query = query.Where(b => b.GatewayId == gateway);
        if (boardGroupId is { } group) query = query.Where(b => b.BoardGroupId == group);
        return Results.Ok(await PageOfAsync(query, page, ct));
    }

    public static async Task<Page<BoardRead>> PageOfAsync(IQueryable<Board> query, PageRequest page, CancellationToken ct)
    {
        var total = await query.CountAsync(ct);
        var items = await query.OrderBy(b => b.Name.ToLower()).ThenByDescending(b => b.CreatedAt)
            .Skip(page.Offset).Take(page.Limit).ToListAsync(ct);
        return new Page<BoardRead>(items.Select(BoardRead.Of).ToList(), total, page.Limit, page.Offset);
    }

    private static async Task<IResult> Get(Guid boardId, HttpContext http, OrgsDbContext db, CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        var board = await db.Boards.AsNoTracking().FirstOrDefaultAsync(b => b.Id == boardId && b.OrganizationId == principal.OrganizationId, ct);
        if (board is null) return BoardNotFound();
        return Access.CanReadBoard(principal, boardId) ? Results.Ok(BoardRead.Of(board)) : ApiProblems.Forbidden("You have no read access to this board.");
    }

    private static async Task<IResult> Update(Guid boardId, BoardInput body, HttpContext http, OrgsDbContext db, TimeProvider time, CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        if (!Access.TryMember(principal, out var orgId, out var problem)) return problem;
        var board = await db.Boards.FirstOrDefaultAsync(b => b.Id == boardId && b.OrganizationId == orgId, ct);
        if (board is null) return BoardNotFound();
        if (!principal.CanWriteBoard(boardId)) return NoWriteAccess();

        var previousGroup = board.BoardGroupId;
        var (errors, changed) = body.ApplyTo(board, creating: false);
        if (changed.Contains("board_group_id")) await CheckGroupAsync(db, board, errors, ct);
        if (errors.Count > 0) return ApiProblems.Validation(errors);
        if (changed.Count > 0)
        {
            var now = time.GetUtcNow().UtcDateTime;
            board.UpdatedAt = now;
            QueueUpdated(db, board, changed, changed.Contains("board_group_id") ? previousGroup : null, now);
            await db.SaveChangesAsync(ct);
        }
        return Results.Ok(BoardRead.Of(board));
    }

    /// <summary>
    /// Deletes the board and what orgs holds for it (access grants, invite grants, custom-field
    /// bindings, tag counts); the other services delete theirs on BoardDeleted.
    /// </summary>
    private static async Task<IResult> Delete(Guid boardId, HttpContext http, OrgsDbContext db, TimeProvider time, CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        if (!Access.TryMember(principal, out var orgId, out var problem)) return problem;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var board = await db.Boards.AsNoTracking().FirstOrDefaultAsync(b => b.Id == boardId && b.OrganizationId == orgId, ct);
        if (board is null) return BoardNotFound();
        if (!principal.CanWriteBoard(boardId)) return NoWriteAccess();

        var now = time.GetUtcNow().UtcDateTime;
        var grantees = await (from a in db.BoardAccess
                              join m in db.Members on a.OrganizationMemberId equals m.Id
                              where a.BoardId == boardId
                              select m.UserId).ToListAsync(ct);
        await db.BoardAccess.Where(a => a.BoardId == boardId).ExecuteDeleteAsync(ct);
        await db.InviteBoardAccess.Where(a => a.BoardId == boardId).ExecuteDeleteAsync(ct);
        await db.BoardCustomFields.Where(b => b.BoardId == boardId).ExecuteDeleteAsync(ct);
        await db.TaskTags.Where(t => t.BoardId == boardId).ExecuteDeleteAsync(ct);
        await db.Boards.Where(b => b.Id == boardId).ExecuteDeleteAsync(ct);
        db.AddIntegrationEvent(new BoardDeleted { OrganizationId = orgId, BoardId = boardId, OccurredAt = now });
        foreach (var userId in grantees) MemberChanges.Queue(db, orgId, userId, MemberChanges.Access, now);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return OkRead.Result();
    }

    /// <summary>A board joins only a group of its own organization.</summary>
    private static async Task CheckGroupAsync(OrgsDbContext db, Board board, Dictionary<string, string[]> errors, CancellationToken ct)
    {
        if (board.BoardGroupId is { } groupId && !await db.BoardGroups.AnyAsync(g => g.Id == groupId && g.OrganizationId == board.OrganizationId, ct))
            errors["board_group_id"] = ["is not a board group of this organization"];
    }

    public static void QueueUpdated(OrgsDbContext db, Board board, IReadOnlyList<string> changed, Guid? previousGroup, DateTime now) =>
        db.AddIntegrationEvent(new BoardUpdated
        {
            OrganizationId = board.OrganizationId, BoardId = board.Id, Board = StateOf(board), ChangedFields = changed,
            PreviousBoardGroupId = previousGroup, OccurredAt = now,
        });

    /// <summary>The slug a board gets from its name (kept for callers outside orgs; see <see cref="Slugs"/>).</summary>
    public static string Slugify(string name) => Slugs.From(name, "board");

    public static IResult BoardNotFound() => ApiProblems.NotFound("Board not found.");

    private static IResult NoWriteAccess() => ApiProblems.Forbidden("You have no write access to this board.");

    public static BoardRules RulesOf(Board b) => new()
    {
        RequireApprovalForDone = b.RequireApprovalForDone, RequireReviewBeforeDone = b.RequireReviewBeforeDone,
        CommentRequiredForReview = b.CommentRequiredForReview, BlockStatusChangesWithPendingApproval = b.BlockStatusChangesWithPendingApproval,
        OnlyLeadCanChangeStatus = b.OnlyLeadCanChangeStatus, MaxAgents = b.MaxAgents,
    };

    public static BoardState StateOf(Board b) => new()
    {
        Id = b.Id, OrganizationId = b.OrganizationId, Name = b.Name, Slug = b.Slug, Description = b.Description, GatewayId = b.GatewayId,
        BoardGroupId = b.BoardGroupId, BoardType = b.BoardType, Objective = b.Objective, SuccessMetrics = JsonText.Parse(b.SuccessMetrics),
        TargetDate = b.TargetDate, GoalConfirmed = b.GoalConfirmed, GoalSource = b.GoalSource, Rules = RulesOf(b),
        CreatedAt = b.CreatedAt, UpdatedAt = b.UpdatedAt,
    };
}
