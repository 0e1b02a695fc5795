using Microsoft.Extensions.Caching.Memory;
using MissionControl.Contracts.Orgs;
using MissionControl.Messaging;
using MissionControl.Tasks.Data;

namespace MissionControl.Tasks.Consumers;

public sealed class BoardCreatedConsumer(TasksDbContext db, DatabaseWriteGate writes, IMemoryCache cache)
    : IdempotentConsumer<BoardCreated, TasksDbContext>(db, writes)
{
    // The board may already be here: a task request can fetch it from orgs before this event arrives.
    protected override Task Handle(BoardCreated message, CancellationToken ct) => BoardUpsert.ApplyAsync(Db, cache, message.Board, ct);
}

public sealed class BoardUpdatedConsumer(TasksDbContext db, DatabaseWriteGate writes, IMemoryCache cache)
    : IdempotentConsumer<BoardUpdated, TasksDbContext>(db, writes)
{
    protected override Task Handle(BoardUpdated message, CancellationToken ct) => BoardUpsert.ApplyAsync(Db, cache, message.Board, ct);
}

/// <summary>The board is gone: so is all the work on it (tasks, comments, approvals, memory, onboarding, webhooks).</summary>
public sealed class BoardDeletedConsumer(TasksDbContext db, DatabaseWriteGate writes, IMemoryCache cache)
    : IdempotentConsumer<BoardDeleted, TasksDbContext>(db, writes)
{
    private readonly DatabaseWriteGate _writes = writes;

    protected override async Task Handle(BoardDeleted message, CancellationToken ct)
    {
        // Deleting again is harmless, so a crash before the inbox row is saved only repeats this.
        await using (var unit = await WriteUnit.BeginAsync(Db, _writes, ct))
        {
            await TenantCleanup.DeleteBoardsAsync(Db, [message.BoardId], ct);
            await unit.CommitAsync(ct);
        }
        BoardCopies.Evict(cache, message.BoardId);
    }
}

internal static class BoardUpsert
{
    /// <summary>Creates or updates the copy; an event older than the copy (events of one board can overtake each other) changes nothing.</summary>
    public static async Task ApplyAsync(TasksDbContext db, IMemoryCache cache, BoardState state, CancellationToken ct)
    {
        var board = await db.Boards.FindAsync([state.Id], ct);
        if (board is null)
        {
            board = new BoardCopy { Id = state.Id, OrganizationId = state.OrganizationId, Name = state.Name };
            db.Boards.Add(board);
        }
        else if (board.UpdatedAt > state.UpdatedAt.UtcDateTime) return;
        BoardCopies.Apply(board, state);
        BoardCopies.Evict(cache, state.Id);
    }
}
