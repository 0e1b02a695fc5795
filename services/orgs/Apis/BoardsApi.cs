using System.Text;
using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Orgs;
using MissionControl.InternalAuth;
using MissionControl.Messaging;
using MissionControl.Orgs.Data;

namespace MissionControl.Orgs.Apis;

public sealed record CreateBoardRequest(
    string? Name, string? Description, string? Slug, Guid? GatewayId, Guid? BoardGroupId, string? BoardType, string? Objective,
    bool? RequireApprovalForDone, bool? RequireReviewBeforeDone, bool? CommentRequiredForReview,
    bool? BlockStatusChangesWithPendingApproval, bool? OnlyLeadCanChangeStatus, int? MaxAgents);

public sealed record BoardRead(
    Guid Id, Guid OrganizationId, string Name, string Slug, string Description, Guid? GatewayId, Guid? BoardGroupId,
    string BoardType, string? Objective, bool RequireApprovalForDone, bool RequireReviewBeforeDone, bool CommentRequiredForReview,
    bool BlockStatusChangesWithPendingApproval, bool OnlyLeadCanChangeStatus, int MaxAgents, DateTime CreatedAt, DateTime UpdatedAt);

public static class BoardsApi
{
    private static readonly string[] BoardTypes = ["goal", "general"];

    public static IEndpointRouteBuilder MapBoardsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/boards");
        api.MapPost("", Create);
        api.MapGet("", List);
        api.MapGet("/{boardId:guid}", Get);
        return app;
    }

    private static async Task<IResult> Create(CreateBoardRequest body, HttpContext http, OrgsDbContext db, TimeProvider time, CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        if (principal.OrganizationId is not { } orgId)
            return ApiProblems.Forbidden("You have no active organization: create one with POST /api/v1/organizations.");
        if (!principal.IsOrgAdmin) return ApiProblems.Forbidden("Creating boards needs the owner or admin role.");

        var errors = new Dictionary<string, string[]>();
        var name = body.Name?.Trim();
        var description = body.Description?.Trim();
        var slug = string.IsNullOrWhiteSpace(body.Slug) ? Slugify(name ?? "") : body.Slug.Trim();
        var boardType = body.BoardType ?? "goal";
        if (string.IsNullOrEmpty(name) || name.Length > 200) errors["name"] = ["must be 1 to 200 characters"];
        if (string.IsNullOrEmpty(description)) errors["description"] = ["must not be blank"];
        if (!BoardTypes.Contains(boardType)) errors["board_type"] = ["must be goal or general"];
        if (body.MaxAgents is < 0) errors["max_agents"] = ["must be 0 or more"];
        if (slug.Length is 0 or > 200) errors["slug"] = ["must be 1 to 200 characters"];
        if (errors.Count > 0) return ApiProblems.Validation(errors);

        var now = time.GetUtcNow().UtcDateTime;
        var board = new Board
        {
            Id = Guid.CreateVersion7(), OrganizationId = orgId, Name = name!, Slug = slug, Description = description!,
            GatewayId = body.GatewayId, BoardGroupId = body.BoardGroupId, BoardType = boardType, Objective = body.Objective,
            RequireApprovalForDone = body.RequireApprovalForDone ?? true,
            RequireReviewBeforeDone = body.RequireReviewBeforeDone ?? false,
            CommentRequiredForReview = body.CommentRequiredForReview ?? false,
            BlockStatusChangesWithPendingApproval = body.BlockStatusChangesWithPendingApproval ?? false,
            OnlyLeadCanChangeStatus = body.OnlyLeadCanChangeStatus ?? false,
            MaxAgents = body.MaxAgents ?? 1, CreatedAt = now, UpdatedAt = now,
        };
        db.Boards.Add(board);
        db.AddIntegrationEvent(new BoardCreated { OrganizationId = orgId, BoardId = board.Id, Board = StateOf(board), OccurredAt = now });
        await db.SaveChangesAsync(ct);
        return Results.Created($"/api/v1/boards/{board.Id}", ToRead(board));
    }

    private static async Task<IResult> List(HttpContext http, OrgsDbContext db, int? limit, int? offset, CancellationToken ct)
    {
        if (!PageRequest.TryParse(limit, offset, out var page, out var error)) return error!;
        var principal = http.GetPrincipal();
        if (principal.OrganizationId is not { } orgId) return Results.Ok(new Page<BoardRead>([], 0, page.Limit, page.Offset));

        var query = db.Boards.AsNoTracking().Where(b => b.OrganizationId == orgId);
        if (!(principal.AllBoardsRead || principal.AllBoardsWrite))
        {
            var readable = principal.Boards.Where(g => g.CanRead || g.CanWrite).Select(g => g.BoardId).ToList();
            query = query.Where(b => readable.Contains(b.Id));
        }
        var total = await query.CountAsync(ct);
        var items = await query.OrderBy(b => b.Name.ToLower()).ThenByDescending(b => b.CreatedAt)
            .Skip(page.Offset).Take(page.Limit).ToListAsync(ct);
        return Results.Ok(new Page<BoardRead>(items.Select(ToRead).ToList(), total, page.Limit, page.Offset));
    }

    private static async Task<IResult> Get(Guid boardId, HttpContext http, OrgsDbContext db, CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        var board = await db.Boards.AsNoTracking().FirstOrDefaultAsync(b => b.Id == boardId && b.OrganizationId == principal.OrganizationId, ct);
        if (board is null) return ApiProblems.NotFound("Board not found.");
        return principal.CanReadBoard(boardId) ? Results.Ok(ToRead(board)) : ApiProblems.Forbidden("You have no read access to this board.");
    }

    public static BoardRules RulesOf(Board b) => new()
    {
        RequireApprovalForDone = b.RequireApprovalForDone, RequireReviewBeforeDone = b.RequireReviewBeforeDone,
        CommentRequiredForReview = b.CommentRequiredForReview, BlockStatusChangesWithPendingApproval = b.BlockStatusChangesWithPendingApproval,
        OnlyLeadCanChangeStatus = b.OnlyLeadCanChangeStatus, MaxAgents = b.MaxAgents,
    };

    public static BoardState StateOf(Board b) => new()
    {
        Id = b.Id, OrganizationId = b.OrganizationId, Name = b.Name, Slug = b.Slug, Description = b.Description, GatewayId = b.GatewayId,
        BoardGroupId = b.BoardGroupId, BoardType = b.BoardType, Objective = b.Objective, Rules = RulesOf(b),
        CreatedAt = b.CreatedAt, UpdatedAt = b.UpdatedAt,
    };

    private static BoardRead ToRead(Board b) => new(
        b.Id, b.OrganizationId, b.Name, b.Slug, b.Description, b.GatewayId, b.BoardGroupId, b.BoardType, b.Objective,
        b.RequireApprovalForDone, b.RequireReviewBeforeDone, b.CommentRequiredForReview, b.BlockStatusChangesWithPendingApproval,
        b.OnlyLeadCanChangeStatus, b.MaxAgents, b.CreatedAt, b.UpdatedAt);

    public static string Slugify(string name)
    {
        var sb = new StringBuilder(name.Length);
        foreach (var c in name.ToLowerInvariant())
        {
            if (char.IsAsciiLetterOrDigit(c)) sb.Append(c);
            else if (sb.Length > 0 && sb[^1] != '-') sb.Append('-');
        }
        return sb.ToString().Trim('-') is { Length: > 0 } s ? s : "board";
    }
}
