using System.Net;
using System.Net.Http.Headers;
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
    private sealed record OrgsBoard(
        Guid Id, Guid OrganizationId, string Name, bool RequireApprovalForDone, bool RequireReviewBeforeDone,
        bool CommentRequiredForReview, bool BlockStatusChangesWithPendingApproval, bool OnlyLeadCanChangeStatus, int MaxAgents,
        DateTime UpdatedAt);

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

    private async Task<BoardCopy?> FetchFromOrgsAsync(Guid boardId, string callerToken, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/boards/{boardId}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", callerToken);
        using var response = await orgs.SendAsync(request, ct);
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Forbidden) return null;
        response.EnsureSuccessStatusCode();
        var read = await response.Content.ReadFromJsonAsync<OrgsBoard>(JsonDefaults.Api, ct)
                   ?? throw new InvalidOperationException("orgs answered an empty board");

        var board = new BoardCopy { Id = read.Id, OrganizationId = read.OrganizationId, Name = read.Name };
        Apply(board, read.Name, new BoardRules
        {
            RequireApprovalForDone = read.RequireApprovalForDone, RequireReviewBeforeDone = read.RequireReviewBeforeDone,
            CommentRequiredForReview = read.CommentRequiredForReview, BlockStatusChangesWithPendingApproval = read.BlockStatusChangesWithPendingApproval,
            OnlyLeadCanChangeStatus = read.OnlyLeadCanChangeStatus, MaxAgents = read.MaxAgents,
        }, read.UpdatedAt);
        db.Boards.Add(board);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            log.LogDebug("Board {BoardId} copy arrived concurrently", boardId);
        }
        db.ChangeTracker.Clear();
        return board;
    }

    public static void Apply(BoardCopy board, string name, BoardRules rules, DateTime updatedAt)
    {
        board.Name = name;
        board.RequireApprovalForDone = rules.RequireApprovalForDone;
        board.RequireReviewBeforeDone = rules.RequireReviewBeforeDone;
        board.CommentRequiredForReview = rules.CommentRequiredForReview;
        board.BlockStatusChangesWithPendingApproval = rules.BlockStatusChangesWithPendingApproval;
        board.OnlyLeadCanChangeStatus = rules.OnlyLeadCanChangeStatus;
        board.MaxAgents = rules.MaxAgents;
        board.UpdatedAt = updatedAt;
    }
}
