using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Tasks;
using MissionControl.InternalAuth;
using MissionControl.Messaging;
using MissionControl.Tasks.Data;
using MissionControl.Tasks.Domain;
using MissionControl.Tasks.Operations;

namespace MissionControl.Tasks.Apis;

public sealed record MemoryRequest(string? Content, List<string>? Tags, string? Source);

/// <summary>
/// Board memory (/boards/{b}/memory: durable notes, and board chat when tagged "chat") and board-group
/// memory (/board-groups/{g}/memory, or /boards/{b}/group-memory for the board's group).
/// </summary>
public static class MemoryApi
{
    private const int MaxContent = 50_000;

    public static IEndpointRouteBuilder MapMemoryApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/boards/{boardId:guid}/memory", ListBoard);
        app.MapPost("/api/v1/boards/{boardId:guid}/memory", CreateBoard);
        app.MapGet("/api/v1/boards/{boardId:guid}/group-memory", ListBoardGroup);
        app.MapPost("/api/v1/boards/{boardId:guid}/group-memory", CreateBoardGroup);
        app.MapGet("/api/v1/board-groups/{groupId:guid}/memory", ListGroup);
        app.MapPost("/api/v1/board-groups/{groupId:guid}/memory", CreateGroup);
        return app;
    }

    internal static async Task<IResult> ListBoard(
        Guid boardId, HttpContext http, BoardAccess access, TasksDbContext db, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "is_chat")] bool? isChat,
        int? limit, int? offset, CancellationToken ct)
    {
        if (!PageRequest.TryParse(limit, offset, out var page, out var pageError)) return pageError!;
        var (_, error) = await access.CheckAsync(http, boardId, BoardAccessLevel.Read, ct);
        if (error is not null) return error;
        return Results.Ok(await PageAsync(db.BoardMemory.AsNoTracking().Where(m => m.BoardId == boardId), isChat, page, ct));
    }

    internal static async Task<IResult> CreateBoard(
        Guid boardId, MemoryRequest body, HttpContext http, BoardAccess access, MemoryWriter writer, CancellationToken ct)
    {
        if (Invalid(body) is { } invalid) return invalid;
        var (board, error) = await access.CheckAsync(http, boardId, BoardAccessLevel.Write, ct);
        if (error is not null) return error;
        var memory = await writer.AddBoardMemoryAsync(board!, http.GetPrincipal(), body.Content!, body.Tags ?? [], body.Source, ct);
        return Results.Created($"/api/v1/boards/{boardId}/memory/{memory.Id}", memory);
    }

    private static async Task<IResult> ListBoardGroup(
        Guid boardId, HttpContext http, BoardAccess access, TasksDbContext db, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "is_chat")] bool? isChat,
        int? limit, int? offset, CancellationToken ct)
    {
        if (!PageRequest.TryParse(limit, offset, out var page, out var pageError)) return pageError!;
        var (board, error) = await access.CheckAsync(http, boardId, BoardAccessLevel.Read, ct);
        if (error is not null) return error;
        if (board!.BoardGroupId is not { } groupId) return Results.Ok(new Page<MemoryState>([], 0, page.Limit, page.Offset));
        return Results.Ok(await PageAsync(db.BoardGroupMemory.AsNoTracking().Where(m => m.BoardGroupId == groupId), isChat, page, ct));
    }

    private static async Task<IResult> CreateBoardGroup(
        Guid boardId, MemoryRequest body, HttpContext http, BoardAccess access, TasksDbContext db, MemoryWriter writer, CancellationToken ct)
    {
        if (Invalid(body) is { } invalid) return invalid;
        var (board, error) = await access.CheckAsync(http, boardId, BoardAccessLevel.Write, ct);
        if (error is not null) return error;
        var group = board!.BoardGroupId is { } groupId ? await db.BoardGroups.AsNoTracking().FirstOrDefaultAsync(g => g.Id == groupId, ct) : null;
        if (group is null) return ApiProblems.Unprocessable("Board is not in a board group.", "board_not_in_group");
        var memory = await writer.AddGroupMemoryAsync(group, http.GetPrincipal(), body.Content!, body.Tags ?? [], body.Source, ct);
        return Results.Created($"/api/v1/board-groups/{group.Id}/memory/{memory.Id}", memory);
    }

    private static async Task<IResult> ListGroup(
        Guid groupId, HttpContext http, GroupAccess access, TasksDbContext db, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "is_chat")] bool? isChat,
        int? limit, int? offset, CancellationToken ct)
    {
        if (!PageRequest.TryParse(limit, offset, out var page, out var pageError)) return pageError!;
        var (_, _, error) = await access.CheckAsync(http, groupId, BoardAccessLevel.Read, ct);
        if (error is not null) return error;
        return Results.Ok(await PageAsync(db.BoardGroupMemory.AsNoTracking().Where(m => m.BoardGroupId == groupId), isChat, page, ct));
    }

    private static async Task<IResult> CreateGroup(
        Guid groupId, MemoryRequest body, HttpContext http, GroupAccess access, MemoryWriter writer, CancellationToken ct)
    {
        if (Invalid(body) is { } invalid) return invalid;
        var (group, _, error) = await access.CheckAsync(http, groupId, BoardAccessLevel.Write, ct);
        if (error is not null) return error;
        var memory = await writer.AddGroupMemoryAsync(group!, http.GetPrincipal(), body.Content!, body.Tags ?? [], body.Source, ct);
        return Results.Created($"/api/v1/board-groups/{groupId}/memory/{memory.Id}", memory);
    }

    private static IResult? Invalid(MemoryRequest body)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(body.Content) || body.Content.Length > MaxContent) errors["content"] = [$"must be 1 to {MaxContent} characters"];
        if (body.Tags is { } tags && (tags.Count > 50 || tags.Any(t => string.IsNullOrWhiteSpace(t) || t.Length > 100)))
            errors["tags"] = ["at most 50 tags of 1 to 100 characters"];
        if (body.Source is { Length: > 200 }) errors["source"] = ["must be at most 200 characters"];
        return errors.Count > 0 ? ApiProblems.Validation(errors) : null;
    }

    /// <summary>
    /// Newest first. No entry is blank (every writer trims the content and refuses an empty one), so the
    /// total is counted from the (board, is_chat, created_at) index alone, never from the rows' content.
    /// </summary>
    private static async Task<Page<MemoryState>> PageAsync<T>(IQueryable<T> query, bool? isChat, PageRequest page, CancellationToken ct) where T : MemoryEntry
    {
        if (isChat is { } chat) query = query.Where(m => m.IsChat == chat);
        var total = await query.CountAsync(ct);
        var items = await query.OrderByDescending(m => m.CreatedAt).Skip(page.Offset).Take(page.Limit).ToListAsync(ct);
        return new Page<MemoryState>(items.ConvertAll(MemoryWriter.State), total, page.Limit, page.Offset);
    }
}
