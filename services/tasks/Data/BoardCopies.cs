using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using MissionControl.Contracts.Orgs;

namespace MissionControl.Tasks.Data;

/// <summary>
/// Finds the board a request names: the event-fed copy first, else (the BoardCreated event has not
/// arrived yet, a few milliseconds after the board was made) asks orgs with the caller's token.
/// </summary>
public sealed class BoardCopies(TasksDbContext db, HttpClient orgs, IMemoryCache cache, ILogger<BoardCopies> log)
{
    /// <summary>orgs' BoardRead (only what the copy keeps).</summary>
    private sealed record OrgsBoard(
        Guid Id, Guid OrganizationId, string Name, string? Slug, string? Description, Guid? GatewayId, Guid? BoardGroupId,
        string? BoardType, string? Objective, JsonElement? SuccessMetrics, DateTimeOffset? TargetDate, bool GoalConfirmed,
        string? GoalSource, bool RequireApprovalForDone, bool RequireReviewBeforeDone, bool CommentRequiredForReview,
        bool BlockStatusChangesWithPendingApproval, bool OnlyLeadCanChangeStatus, int MaxAgents, DateTimeOffset? CreatedAt,
        DateTimeOffset UpdatedAt);

    // Every task request needs its board; boards change rarely, so a found one is kept briefly.
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(30);

    public static void Evict(IMemoryCache cache, Guid boardId) => cache.Remove(CacheKey(boardId));

    private static string CacheKey(Guid boardId) => "board:" + boardId;

    public async Task<BoardCopy?> FindAsync(Guid boardId, string? callerToken, CancellationToken ct)
    {
        if (cache.TryGetValue(CacheKey(boardId), out BoardCopy? cached)) return cached;
        var board = await db.Boards.AsNoTracking().FirstOrDefaultAsync(b => b.Id == boardId, ct)
                    ?? (callerToken is null ? null : await FetchFromOrgsAsync(boardId, callerToken, ct));
        if (board is not null) cache.Set(CacheKey(boardId), board, CacheFor);
        return board;
    }

    /// <summary>
    /// The organization's default board (the /api dialect's tasks without a board): orgs creates it on
    /// first use and answers it; its copy is written here at once, so the create does not wait for BoardCreated.
    /// Asked with the caller's token, as any board lookup (only the edge signs tokens).
    /// </summary>
    public async Task<BoardCopy?> DefaultAsync(Guid organizationId, string? callerToken, CancellationToken ct)
    {
        var key = "default-board:" + organizationId;
        if (cache.TryGetValue(key, out Guid known) && await FindAsync(known, null, ct) is { } board) return board;
        if (callerToken is null) return null;
        if (await AskOrgsAsync<OrgsBoard>(HttpMethod.Post, $"/internal/v1/organizations/{organizationId}/default-board", callerToken, ct) is not { } read)
            return null;
        board = await CopyAsync(read, ct);
        cache.Set(key, board.Id, CacheFor);
        cache.Set(CacheKey(board.Id), board, CacheFor);
        return board;
    }

    private async Task<BoardCopy?> FetchFromOrgsAsync(Guid boardId, string callerToken, CancellationToken ct) =>
        await AskOrgsAsync<OrgsBoard>(HttpMethod.Get, $"/api/v1/boards/{boardId}", callerToken, ct) is { } read ? await CopyAsync(read, ct) : null;

    /// <summary>Asks orgs with the caller's token; null when orgs has no such thing for the caller (404, 403).</summary>
    private async Task<T?> AskOrgsAsync<T>(HttpMethod method, string path, string callerToken, CancellationToken ct) where T : class
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", callerToken);
        using var response = await orgs.SendAsync(request, ct);
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Forbidden) return null;
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<T>(JsonDefaults.Api, ct) ?? throw new InvalidOperationException($"orgs answered {path} with nothing");
    }

    /// <summary>Saves a copy made from orgs' answer; when its event got here first (a duplicate key), the event's copy stays.</summary>
    private async Task SaveCopyAsync(object copy, Guid id, CancellationToken ct)
    {
        db.Add(copy);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            log.LogDebug("The copy of {Id} arrived concurrently", id);
        }
        db.ChangeTracker.Clear();
    }

    /// <summary>orgs' BoardGroupRead.</summary>
    private sealed record OrgsGroup(Guid Id, Guid OrganizationId, string Name, string Slug, string? Description, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

    /// <summary>
    /// The board group a request names: the event-fed copy, else (its BoardGroupChanged has not arrived
    /// yet) orgs' answer to the caller's token, which is then copied.
    /// </summary>
    public async Task<BoardGroupCopy?> FindGroupAsync(Guid groupId, string? callerToken, CancellationToken ct)
    {
        if (await db.BoardGroups.AsNoTracking().FirstOrDefaultAsync(g => g.Id == groupId, ct) is { } group) return group;
        if (callerToken is null) return null;
        if (await AskOrgsAsync<OrgsGroup>(HttpMethod.Get, $"/api/v1/board-groups/{groupId}", callerToken, ct) is not { } read) return null;
        group = new BoardGroupCopy
        {
            Id = read.Id, OrganizationId = read.OrganizationId, Name = read.Name, Slug = read.Slug, Description = read.Description,
            CreatedAt = read.CreatedAt.UtcDateTime, UpdatedAt = read.UpdatedAt.UtcDateTime,
        };
        await SaveCopyAsync(group, groupId, ct);
        return group;
    }

    /// <summary>Adds the copy of the board orgs answered (unless its event got here first).</summary>
    private async Task<BoardCopy> CopyAsync(OrgsBoard read, CancellationToken ct)
    {
        var boardId = read.Id;
        if (await db.Boards.AsNoTracking().FirstOrDefaultAsync(b => b.Id == boardId, ct) is { } copied) return copied;

        var board = new BoardCopy { Id = read.Id, OrganizationId = read.OrganizationId, Name = read.Name };
        Apply(board, new BoardState
        {
            Id = read.Id, OrganizationId = read.OrganizationId, Name = read.Name, Slug = read.Slug ?? "", Description = read.Description ?? "",
            GatewayId = read.GatewayId, BoardGroupId = read.BoardGroupId, BoardType = read.BoardType ?? "goal", Objective = read.Objective,
            SuccessMetrics = read.SuccessMetrics, TargetDate = read.TargetDate, GoalConfirmed = read.GoalConfirmed, GoalSource = read.GoalSource,
            Rules = new BoardRules
            {
                RequireApprovalForDone = read.RequireApprovalForDone, RequireReviewBeforeDone = read.RequireReviewBeforeDone,
                CommentRequiredForReview = read.CommentRequiredForReview,
                BlockStatusChangesWithPendingApproval = read.BlockStatusChangesWithPendingApproval,
                OnlyLeadCanChangeStatus = read.OnlyLeadCanChangeStatus, MaxAgents = read.MaxAgents,
            },
            CreatedAt = read.CreatedAt ?? read.UpdatedAt, UpdatedAt = read.UpdatedAt,
        });
        await SaveCopyAsync(board, boardId, ct);
        return board;
    }

    /// <summary>Copies orgs' state of a board onto the local copy.</summary>
    public static void Apply(BoardCopy board, BoardState state)
    {
        board.Name = state.Name;
        board.Slug = state.Slug;
        board.Description = state.Description;
        board.GatewayId = state.GatewayId;
        board.BoardGroupId = state.BoardGroupId;
        board.BoardType = state.BoardType;
        board.Objective = state.Objective;
        board.SuccessMetrics = state.SuccessMetrics is { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined } metrics
            ? metrics.GetRawText() : null;
        board.TargetDate = state.TargetDate?.UtcDateTime;
        board.GoalConfirmed = state.GoalConfirmed;
        board.GoalSource = state.GoalSource;
        board.RequireApprovalForDone = state.Rules.RequireApprovalForDone;
        board.RequireReviewBeforeDone = state.Rules.RequireReviewBeforeDone;
        board.CommentRequiredForReview = state.Rules.CommentRequiredForReview;
        board.BlockStatusChangesWithPendingApproval = state.Rules.BlockStatusChangesWithPendingApproval;
        board.OnlyLeadCanChangeStatus = state.Rules.OnlyLeadCanChangeStatus;
        board.MaxAgents = state.Rules.MaxAgents;
        board.CreatedAt = state.CreatedAt.UtcDateTime;
        board.UpdatedAt = state.UpdatedAt.UtcDateTime;
    }

    public static BoardRules RulesOf(BoardCopy board) => new()
    {
        RequireApprovalForDone = board.RequireApprovalForDone, RequireReviewBeforeDone = board.RequireReviewBeforeDone,
        CommentRequiredForReview = board.CommentRequiredForReview,
        BlockStatusChangesWithPendingApproval = board.BlockStatusChangesWithPendingApproval,
        OnlyLeadCanChangeStatus = board.OnlyLeadCanChangeStatus, MaxAgents = board.MaxAgents,
    };
}
