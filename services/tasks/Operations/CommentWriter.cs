using MissionControl.Contracts.Tasks;
using MissionControl.InternalAuth;
using MissionControl.Messaging;
using MissionControl.Tasks.Data;
using MissionControl.Tasks.Domain;

namespace MissionControl.Tasks.Operations;

/// <summary>
/// Adds a task comment with its author, its task.comment event and its notifications: the agents
/// it @mentions, else (for a posted comment) the assignee; never the author.
/// </summary>
public sealed class CommentWriter(TasksDbContext db, CopyCache copies)
{
    public async Task<TaskComment> AddAsync(BoardCopy board, TaskItem task, McPrincipal author, string message, bool notifyAssignee, DateTime now,
        CancellationToken ct)
    {
        var comment = new TaskComment
        {
            Id = Guid.CreateVersion7(), OrganizationId = board.OrganizationId, BoardId = board.Id, TaskId = task.Id, Message = message.Trim(),
            AgentId = author.AgentId, UserId = author.UserId, AuthorName = await copies.AuthorNameAsync(board.Id, author, ct), CreatedAt = now,
        };
        db.TaskComments.Add(comment);
        db.AddIntegrationEvent(new TaskCommentAdded
        {
            OrganizationId = board.OrganizationId, BoardId = board.Id, Comment = State(comment), OccurredAt = now,
            TaskTitle = task.Title, BoardName = board.Name, AuthorRole = author.Kind == PrincipalKind.Agent ? author.Role : null,
            Activity = Events.Activity("task.comment", comment.Message, author, task.Id, now),
        });

        var agents = await copies.AgentsOfBoardAsync(board.Id, ct);
        var mentions = Mentions.Extract(comment.Message);
        var targets = agents.Where(a => Mentions.Matches(mentions, a.Name, a.IsBoardLead)).ToList();
        if (mentions.Count == 0 && notifyAssignee && agents.FirstOrDefault(a => a.Id == task.AssignedAgentId) is { } assignee) targets.Add(assignee);
        foreach (var agent in targets.Where(a => a.Id != author.AgentId))
        {
            var mentioned = Mentions.Matches(mentions, agent.Name, agent.IsBoardLead);
            Events.NotifyAgent(db, board, agent.Id, mentioned ? Notices.MentionNotified : Notices.CommentNotified,
                Notices.Comment(board.Name, Events.Notice(task), comment.AuthorName!, comment.Message, mentioned), task.Id, now);
        }
        return comment;
    }

    public static TaskCommentState State(TaskComment c) => new()
    {
        Id = c.Id, TaskId = c.TaskId, Message = c.Message, AgentId = c.AgentId, UserId = c.UserId, AuthorName = c.AuthorName, CreatedAt = c.CreatedAt,
    };
}
