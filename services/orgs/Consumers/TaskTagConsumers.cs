using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Tasks;
using MissionControl.Messaging;
using MissionControl.Orgs.Data;

namespace MissionControl.Orgs.Consumers;

/// <summary>
/// Which task carries which tag, kept from the tasks service's TaskTagsChanged events so tags can
/// show a task_count. Only tag changes arrive here, not every task event.
/// </summary>
public sealed class TaskTagsChangedConsumer(OrgsDbContext db, DatabaseWriteGate writes) : IdempotentConsumer<TaskTagsChanged, OrgsDbContext>(db, writes)
{
    /// <summary>Makes the task's rows its current tags (only tags of its organization); an older change changes nothing.</summary>
    protected override async Task Handle(TaskTagsChanged message, CancellationToken ct)
    {
        var version = message.TaskUpdatedAt.UtcDateTime;
        var rows = await Db.TaskTags.Where(t => t.TaskId == message.TaskId).ToListAsync(ct);
        if (rows.Any(r => r.TaskUpdatedAt > version)) return;

        var wanted = message.TagIds.Distinct().ToList();
        var known = await Db.Tags.Where(t => wanted.Contains(t.Id) && t.OrganizationId == message.OrganizationId).Select(t => t.Id).ToListAsync(ct);
        Db.TaskTags.RemoveRange(rows.Where(r => !known.Contains(r.TagId)));
        foreach (var row in rows.Where(r => known.Contains(r.TagId))) (row.BoardId, row.TaskUpdatedAt) = (message.BoardId, version);
        Db.TaskTags.AddRange(known.Where(id => rows.All(r => r.TagId != id)).Select(id => new TaskTagCopy
        {
            TaskId = message.TaskId, TagId = id, OrganizationId = message.OrganizationId, BoardId = message.BoardId, TaskUpdatedAt = version,
        }));
    }
}
