using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using MissionControl.Contracts.Orgs;
using MissionControl.Messaging;
using MissionControl.Tasks.Data;

namespace MissionControl.Tasks.Consumers;

public sealed class BoardGroupChangedConsumer(TasksDbContext db, DatabaseWriteGate writes)
    : IdempotentConsumer<BoardGroupChanged, TasksDbContext>(db, writes)
{
    protected override async Task Handle(BoardGroupChanged message, CancellationToken ct)
    {
        var state = message.Group;
        var group = await Db.BoardGroups.FindAsync([state.Id], ct);
        if (group is null)
        {
            group = new BoardGroupCopy { Id = state.Id, OrganizationId = state.OrganizationId, Name = state.Name, Slug = state.Slug };
            Db.BoardGroups.Add(group);
        }
        else if (group.UpdatedAt > state.UpdatedAt.UtcDateTime) return;
        group.Name = state.Name;
        group.Slug = state.Slug;
        group.Description = state.Description;
        group.CreatedAt = state.CreatedAt.UtcDateTime;
        group.UpdatedAt = state.UpdatedAt.UtcDateTime;
    }
}

/// <summary>The group and its memory go; its boards are ungrouped (each also gets a BoardUpdated).</summary>
public sealed class BoardGroupDeletedConsumer(TasksDbContext db, DatabaseWriteGate writes, IMemoryCache cache)
    : IdempotentConsumer<BoardGroupDeleted, TasksDbContext>(db, writes)
{
    protected override async Task Handle(BoardGroupDeleted message, CancellationToken ct)
    {
        if (await Db.BoardGroups.FindAsync([message.GroupId], ct) is { } group) Db.BoardGroups.Remove(group);
        Db.BoardGroupMemory.RemoveRange(await Db.BoardGroupMemory.Where(m => m.BoardGroupId == message.GroupId).ToListAsync(ct));
        foreach (var board in await Db.Boards.Where(b => b.BoardGroupId == message.GroupId).ToListAsync(ct))
        {
            board.BoardGroupId = null;
            BoardCopies.Evict(cache, board.Id);
        }
    }
}

public sealed class TagChangedConsumer(TasksDbContext db, DatabaseWriteGate writes) : IdempotentConsumer<TagChanged, TasksDbContext>(db, writes)
{
    protected override async Task Handle(TagChanged message, CancellationToken ct)
    {
        var state = message.Tag;
        var tag = await Db.Tags.FindAsync([state.Id], ct);
        if (tag is null)
        {
            tag = new TagCopy { Id = state.Id, OrganizationId = state.OrganizationId, Name = state.Name, Slug = state.Slug, Color = state.Color };
            Db.Tags.Add(tag);
        }
        tag.Name = state.Name;
        tag.Slug = state.Slug;
        tag.Color = state.Color;
        tag.Description = state.Description;
    }
}

/// <summary>The tag and its assignments to tasks go.</summary>
public sealed class TagDeletedConsumer(TasksDbContext db, DatabaseWriteGate writes) : IdempotentConsumer<TagDeleted, TasksDbContext>(db, writes)
{
    protected override async Task Handle(TagDeleted message, CancellationToken ct)
    {
        if (await Db.Tags.FindAsync([message.TagId], ct) is { } tag) Db.Tags.Remove(tag);
        Db.TaskTags.RemoveRange(await Db.TaskTags.Where(t => t.TagId == message.TagId).ToListAsync(ct));
    }
}

/// <summary>A definition and the boards it is bound to.</summary>
public sealed class CustomFieldDefinitionChangedConsumer(TasksDbContext db, DatabaseWriteGate writes)
    : IdempotentConsumer<CustomFieldDefinitionChanged, TasksDbContext>(db, writes)
{
    protected override async Task Handle(CustomFieldDefinitionChanged message, CancellationToken ct)
    {
        var state = message.Definition;
        var definition = await Db.CustomFieldDefinitions.FindAsync([state.Id], ct);
        if (definition is null)
        {
            definition = new CustomFieldDefinitionCopy
            {
                Id = state.Id, OrganizationId = state.OrganizationId, FieldKey = state.FieldKey, Label = state.Label, FieldType = state.FieldType,
                UiVisibility = state.UiVisibility,
            };
            Db.CustomFieldDefinitions.Add(definition);
        }
        definition.FieldKey = state.FieldKey;
        definition.Label = state.Label;
        definition.FieldType = state.FieldType;
        definition.UiVisibility = state.UiVisibility;
        definition.ValidationRegex = state.ValidationRegex;
        definition.Description = state.Description;
        definition.Required = state.Required;
        definition.DefaultValue = state.DefaultValue is { ValueKind: not System.Text.Json.JsonValueKind.Null and not System.Text.Json.JsonValueKind.Undefined } value
            ? value.GetRawText() : null;
        var bindings = await Db.CustomFieldBindings.Where(b => b.DefinitionId == state.Id).ToListAsync(ct);
        Db.CustomFieldBindings.RemoveRange(bindings.Where(b => !state.BoardIds.Contains(b.BoardId)));
        Db.CustomFieldBindings.AddRange(state.BoardIds.Distinct().Where(id => bindings.All(b => b.BoardId != id))
            .Select(id => new CustomFieldBinding { DefinitionId = state.Id, BoardId = id }));
        CopyCache.EvictFieldDefinitions();
    }
}

/// <summary>The definition, its bindings and the values stored under it go.</summary>
public sealed class CustomFieldDefinitionDeletedConsumer(TasksDbContext db, DatabaseWriteGate writes)
    : IdempotentConsumer<CustomFieldDefinitionDeleted, TasksDbContext>(db, writes)
{
    protected override async Task Handle(CustomFieldDefinitionDeleted message, CancellationToken ct)
    {
        if (await Db.CustomFieldDefinitions.FindAsync([message.DefinitionId], ct) is { } definition) Db.CustomFieldDefinitions.Remove(definition);
        Db.CustomFieldBindings.RemoveRange(await Db.CustomFieldBindings.Where(b => b.DefinitionId == message.DefinitionId).ToListAsync(ct));
        Db.TaskCustomFieldValues.RemoveRange(await Db.TaskCustomFieldValues.Where(v => v.DefinitionId == message.DefinitionId).ToListAsync(ct));
        CopyCache.EvictFieldDefinitions();
    }
}

/// <summary>The organization is gone: every row of the tenant goes.</summary>
public sealed class OrganizationDeletedConsumer(TasksDbContext db, DatabaseWriteGate writes, IMemoryCache cache)
    : IdempotentConsumer<OrganizationDeleted, TasksDbContext>(db, writes)
{
    private readonly DatabaseWriteGate _writes = writes;

    protected override async Task Handle(OrganizationDeleted message, CancellationToken ct)
    {
        var boardIds = await Db.Boards.Where(b => b.OrganizationId == message.OrganizationId).Select(b => b.Id).ToListAsync(ct);
        await using (var unit = await WriteUnit.BeginAsync(Db, _writes, ct))
        {
            await TenantCleanup.DeleteOrganizationAsync(Db, message.OrganizationId, ct);
            await unit.CommitAsync(ct);
        }
        foreach (var id in boardIds)
        {
            BoardCopies.Evict(cache, id);
            CopyCache.EvictAgents(cache, id);
        }
    }
}
