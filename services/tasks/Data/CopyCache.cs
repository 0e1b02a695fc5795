using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using MissionControl.InternalAuth;
using MissionControl.Tasks.Domain;

namespace MissionControl.Tasks.Data;

/// <summary>
/// The per-board lookups most task requests need (the board's agents, its custom field definitions),
/// cached briefly and dropped by the consumers that change them, so a task create or list asks the
/// database nothing beyond the task rows. Another instance sees a change within the cache time.
/// </summary>
public sealed class CopyCache(TasksDbContext db, IMemoryCache cache)
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(30);
    // Definitions are bound to many boards; any change to one drops them all (bumping the generation).
    private static long _fieldGeneration;

    public static void EvictAgents(IMemoryCache cache, Guid? boardId)
    {
        if (boardId is { } id) cache.Remove("agents:" + id);
    }

    public static void EvictFieldDefinitions() => Interlocked.Increment(ref _fieldGeneration);

    /// <summary>The agents of a board (lead and workers).</summary>
    public async Task<IReadOnlyList<AgentCopy>> AgentsOfBoardAsync(Guid boardId, CancellationToken ct)
    {
        var key = "agents:" + boardId;
        if (cache.TryGetValue(key, out IReadOnlyList<AgentCopy>? agents)) return agents!;
        agents = await db.Agents.AsNoTracking().Where(a => a.BoardId == boardId).OrderBy(a => a.CreatedAt).ToListAsync(ct);
        cache.Set(key, agents, CacheFor);
        return agents;
    }

    public async Task<AgentCopy?> LeadOfBoardAsync(Guid boardId, CancellationToken ct) =>
        (await AgentsOfBoardAsync(boardId, ct)).FirstOrDefault(a => a.IsBoardLead);

    /// <summary>The name a comment or chat message is signed with: the caller's, else the agent copy's, else "Agent" / "User".</summary>
    public async Task<string> AuthorNameAsync(Guid boardId, McPrincipal author, CancellationToken ct)
    {
        if (!string.IsNullOrWhiteSpace(author.Name)) return author.Name.Trim();
        if (author.AgentId is { } id)
            return (await AgentsOfBoardAsync(boardId, ct)).FirstOrDefault(a => a.Id == id)?.Name
                   ?? await db.Agents.AsNoTracking().Where(a => a.Id == id).Select(a => a.Name).FirstOrDefaultAsync(ct) ?? "Agent";
        return "User";
    }

    /// <summary>The organization's custom field definitions bound to the board.</summary>
    public async Task<IReadOnlyList<FieldDefinition>> FieldDefinitionsAsync(BoardCopy board, CancellationToken ct)
    {
        var key = $"fields:{board.Id}:{Interlocked.Read(ref _fieldGeneration)}";
        if (cache.TryGetValue(key, out IReadOnlyList<FieldDefinition>? definitions)) return definitions!;
        var rows = await (
            from binding in db.CustomFieldBindings
            join definition in db.CustomFieldDefinitions on binding.DefinitionId equals definition.Id
            where binding.BoardId == board.Id && definition.OrganizationId == board.OrganizationId
            orderby definition.FieldKey
            select definition).AsNoTracking().ToListAsync(ct);
        definitions = rows.ConvertAll(d => new FieldDefinition(
            d.Id, d.FieldKey, d.FieldType, d.ValidationRegex, d.Required, d.DefaultValue is null ? null : Json.Parse(d.DefaultValue)));
        cache.Set(key, definitions, CacheFor);
        return definitions;
    }
}

/// <summary>JSON text columns.</summary>
public static class Json
{
    public static JsonElement Parse(string text)
    {
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }

    public static string Text<T>(T value) => JsonSerializer.Serialize(value, JsonDefaults.Api);

    public static IReadOnlyList<string> StringList(string text) => JsonSerializer.Deserialize<List<string>>(text) ?? [];
}
