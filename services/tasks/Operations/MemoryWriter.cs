using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using MissionControl.Contracts.Tasks;
using MissionControl.InternalAuth;
using MissionControl.Messaging;
using MissionControl.Tasks.Data;
using MissionControl.Tasks.Domain;

namespace MissionControl.Tasks.Operations;

/// <summary>
/// Writes board and board-group memory with its event, and fans chat out to agents (reference §3.7):
/// board chat to the lead and @mentioned agents; /pause and /resume verbatim to every board agent;
/// group chat to the group's leads and mentioned agents, a broadcast to every agent of the group.
/// Never to the author.
/// </summary>
public sealed class MemoryWriter(TasksDbContext db, DatabaseWriteGate gate, CopyCache copies, TimeProvider time, IOptions<TasksOptions> options)
{
    public async Task<MemoryState> AddBoardMemoryAsync(BoardCopy board, McPrincipal author, string content, IReadOnlyList<string> tags, string? source,
        CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var name = await copies.AuthorNameAsync(board.Id, author, ct);
        await using var unit = await WriteUnit.BeginAsync(db, gate, ct);
        var memory = StageBoardMemory(board, author, name, content, tags, source, now);
        if (memory.IsChat) await NotifyBoardChatAsync(board, author, name, memory, now, ct);
        await unit.CommitAsync(ct);
        return State(memory);
    }

    /// <summary>Adds a board memory entry and its event to the context (the caller saves, inside its own unit).</summary>
    public BoardMemory StageBoardMemory(BoardCopy board, McPrincipal author, string authorName, string content, IReadOnlyList<string> tags, string? source,
        DateTime now)
    {
        var memory = Fill(new BoardMemory { BoardId = board.Id, Content = content.Trim(), Tags = "[]" }, board.OrganizationId, author, authorName, tags, source, now);
        db.BoardMemory.Add(memory);
        db.AddIntegrationEvent(new BoardMemoryAdded
        {
            OrganizationId = board.OrganizationId, BoardId = board.Id, Memory = State(memory), OccurredAt = now,
            Activity = Events.Activity(memory.IsChat ? "board.chat" : "board.memory", Notices.Snippet(memory.Content, 200), author, null, now),
        });
        return memory;
    }

    public async Task<MemoryState> AddGroupMemoryAsync(BoardGroupCopy group, McPrincipal author, string content, IReadOnlyList<string> tags, string? source,
        CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var name = await copies.AuthorNameAsync(author.AgentBoardId ?? Guid.Empty, author, ct);
        var memory = Fill(new BoardGroupMemory { BoardGroupId = group.Id, Content = content.Trim(), Tags = "[]" }, group.OrganizationId, author, name, tags, source, now);
        await using var unit = await WriteUnit.BeginAsync(db, gate, ct);
        db.BoardGroupMemory.Add(memory);
        var state = State(memory);
        db.AddIntegrationEvent(new BoardGroupMemoryAdded
        {
            OrganizationId = group.OrganizationId, BoardGroupId = group.Id, Memory = state, OccurredAt = now,
            Activity = Events.Activity(memory.IsChat ? "board.group.chat" : "board.group.memory", Notices.Snippet(memory.Content, 200), author, null, now),
        });
        await NotifyGroupAsync(group, author, name, memory, tags, now, ct);
        await unit.CommitAsync(ct);
        return state;
    }

    private static T Fill<T>(T memory, Guid organizationId, McPrincipal author, string authorName, IReadOnlyList<string> tags, string? source, DateTime now)
        where T : MemoryEntry
    {
        var clean = tags.Select(t => t.Trim()).Distinct().ToList();
        memory.Id = Guid.CreateVersion7();
        memory.OrganizationId = organizationId;
        memory.Tags = Json.Text(clean);
        memory.IsChat = clean.Contains("chat");
        memory.Source = string.IsNullOrWhiteSpace(source) ? (memory.IsChat ? authorName : null) : source.Trim();
        memory.AgentId = author.AgentId;
        memory.UserId = author.UserId;
        memory.CreatedAt = now;
        return memory;
    }

    private async Task NotifyBoardChatAsync(BoardCopy board, McPrincipal author, string from, BoardMemory memory, DateTime now, CancellationToken ct)
    {
        var agents = (await copies.AgentsOfBoardAsync(board.Id, ct)).Where(a => a.Id != author.AgentId).ToList();
        if (memory.Content is "/pause" or "/resume")
        {
            foreach (var agent in agents) Events.NotifyAgent(db, board, agent.Id, Notices.ChatCommand, memory.Content, null, now, deliver: true);
            return;
        }
        var mentions = Mentions.Extract(memory.Content);
        foreach (var agent in agents)
        {
            var mentioned = Mentions.Matches(mentions, agent.Name, agent.IsBoardLead);
            if (!agent.IsBoardLead && !mentioned) continue;
            Events.NotifyAgent(db, board, agent.Id, Notices.ChatNotified,
                Notices.BoardChat(board.Name, board.Id, from, memory.Content, mentioned, options.Value.PublicBaseUrl), null, now);
        }
    }

    private async Task NotifyGroupAsync(BoardGroupCopy group, McPrincipal author, string from, BoardGroupMemory memory, IReadOnlyList<string> tags,
        DateTime now, CancellationToken ct)
    {
        var mentions = Mentions.Extract(memory.Content);
        var broadcast = tags.Contains("broadcast") || mentions.Contains("all");
        if (!memory.IsChat && !broadcast) return;
        var boards = await db.Boards.AsNoTracking().Where(b => b.BoardGroupId == group.Id).ToDictionaryAsync(b => b.Id, ct);
        var boardIds = boards.Keys.ToList();
        var agents = await db.Agents.AsNoTracking().Where(a => a.BoardId != null && boardIds.Contains(a.BoardId.Value) && a.Id != author.AgentId).ToListAsync(ct);
        foreach (var agent in agents)
        {
            var mentioned = Mentions.Matches(mentions, agent.Name, agent.IsBoardLead);
            if (!broadcast && !agent.IsBoardLead && !mentioned) continue;
            var board = boards[agent.BoardId!.Value];
            Events.NotifyAgent(db, board, agent.Id, Notices.GroupChatNotified,
                Notices.GroupChat(group.Name, board.Id, from, memory.Content, mentioned, broadcast, options.Value.PublicBaseUrl), null, now);
        }
    }

    public static MemoryState State(MemoryEntry m) => new()
    {
        Id = m.Id, BoardId = (m as BoardMemory)?.BoardId, BoardGroupId = (m as BoardGroupMemory)?.BoardGroupId, Content = m.Content,
        Tags = Json.StringList(m.Tags), IsChat = m.IsChat, Source = m.Source, AgentId = m.AgentId, UserId = m.UserId, CreatedAt = m.CreatedAt,
    };
}
