using Microsoft.Extensions.Caching.Memory;
using MissionControl.Contracts.Orgs;
using MissionControl.Messaging;
using MissionControl.Tasks.Data;

namespace MissionControl.Tasks.Consumers;

public sealed class BoardCreatedConsumer(TasksDbContext db, DatabaseWriteGate writes, IMemoryCache cache)
    : IdempotentConsumer<BoardCreated, TasksDbContext>(db, writes)
{
    protected override async Task Handle(BoardCreated message, CancellationToken ct)
    {
        // The board may already be here: a task request can fetch it from orgs before this event arrives.
        var board = await Db.Boards.FindAsync([message.BoardId], ct);
        if (board is null)
        {
            board = new BoardCopy { Id = message.BoardId, OrganizationId = message.OrganizationId, Name = message.Board.Name };
            Db.Boards.Add(board);
        }
        BoardCopies.Apply(board, message.Board.Name, message.Board.Rules, message.OccurredAt.UtcDateTime);
        BoardCopies.Evict(cache, message.BoardId);
    }
}
