using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Tasks;
using MissionControl.Messaging;
using MissionControl.Orgs.Data;

namespace MissionControl.Orgs.Consumers;

/// <summary>Which task carries which tag, kept from the tasks service's events so tags can show a task_count.</summary>
public static class TaskTagCopies
{
    /// <summary>Makes the task's rows its snapshot's tags (only tags of its organization); an older snapshot changes nothing.</summary>
    public static async Task ApplyAsync(OrgsDbContext db, Guid orgId, Guid boardId, TaskSnapshot task, CancellationToken ct)
    {
        var version = task.UpdatedAt.UtcDateTime;
        var rows = await db.TaskTags.Where(t => t.TaskId == task.Id).ToListAsync(ct);
        if (rows.Any(r => r.TaskUpdatedAt > version)) return;

        var wanted = task.TagIds.Distinct().ToList();
        var known = await db.Tags.Where(t => wanted.Contains(t.Id) && t.OrganizationId == orgId).Select(t => t.Id).ToListAsync(ct);
        db.TaskTags.RemoveRange(rows.Where(r => !known.Contains(r.TagId)));
        foreach (var row in rows.Where(r => known.Contains(r.TagId))) (row.BoardId, row.TaskUpdatedAt) = (boardId, version);
        db.TaskTags.AddRange(known.Where(id => rows.All(r => r.TagId != id)).Select(id => new TaskTagCopy
        {
            TaskId = task.Id, TagId = id, OrganizationId = orgId, BoardId = boardId, TaskUpdatedAt = version,
        }));
    }

    public static async Task RemoveAsync(OrgsDbContext db, Guid taskId, CancellationToken ct) =>
        db.TaskTags.RemoveRange(await db.TaskTags.Where(t => t.TaskId == taskId).ToListAsync(ct));
}

// Most task events do not touch tags: those are dropped before any query or write (task events
// arrive at thousands per second under load).
public sealed class TaskCreatedTagsConsumer(OrgsDbContext db, DatabaseWriteGate writes) : IdempotentConsumer<TaskCreated, OrgsDbContext>(db, writes)
{
    protected override bool Applies(TaskCreated message) => message.Task.TagIds.Count > 0;

    protected override Task Handle(TaskCreated message, CancellationToken ct) =>
        TaskTagCopies.ApplyAsync(Db, message.OrganizationId, message.BoardId, message.Task, ct);
}

public sealed class TaskUpdatedTagsConsumer(OrgsDbContext db, DatabaseWriteGate writes) : IdempotentConsumer<TaskUpdated, OrgsDbContext>(db, writes)
{
    protected override bool Applies(TaskUpdated message) => message.ChangedFields.Contains("tag_ids");

    protected override Task Handle(TaskUpdated message, CancellationToken ct) =>
        TaskTagCopies.ApplyAsync(Db, message.OrganizationId, message.BoardId, message.Task, ct);
}

public sealed class TaskDeletedTagsConsumer(OrgsDbContext db, DatabaseWriteGate writes) : IdempotentConsumer<TaskDeleted, OrgsDbContext>(db, writes)
{
    protected override bool Applies(TaskDeleted message) => message.Task.TagIds.Count > 0;

    protected override Task Handle(TaskDeleted message, CancellationToken ct) => TaskTagCopies.RemoveAsync(Db, message.Task.Id, ct);
}
