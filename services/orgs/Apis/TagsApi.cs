using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Orgs;
using MissionControl.InternalAuth;
using MissionControl.Messaging;
using MissionControl.Orgs.Data;
using MissionControl.Orgs.Domain;

namespace MissionControl.Orgs.Apis;

public sealed record TagInput(Optional<string?> Name, Optional<string?> Slug, Optional<string?> Color, Optional<string?> Description);

public sealed record TagRead(
    Guid Id, Guid OrganizationId, string Name, string Slug, string Color, string? Description, int TaskCount, DateTime CreatedAt, DateTime UpdatedAt);

/// <summary>Tags of the organization; task_count counts the tasks service's assignments, copied from its events.</summary>
public static class TagsApi
{
    public const string SlugTakenCode = "tag_slug_taken";
    private const int MaxName = 100;

    public static IEndpointRouteBuilder MapTagsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/tags");
        api.MapGet("", List);
        api.MapPost("", Create);
        api.MapGet("/{tagId:guid}", Get);
        api.MapPatch("/{tagId:guid}", Update);
        api.MapDelete("/{tagId:guid}", Delete);
        return app;
    }

    private static async Task<IResult> List(HttpContext http, OrgsDbContext db, int? limit, int? offset, CancellationToken ct)
    {
        if (!Access.TryMember(http.GetPrincipal(), out var orgId, out var problem)) return problem;
        if (!PageRequest.TryParse(limit, offset, out var page, out var error)) return error!;
        var query = db.Tags.AsNoTracking().Where(t => t.OrganizationId == orgId);
        var total = await query.CountAsync(ct);
        var tags = await Reads(db, query.OrderBy(t => t.Name.ToLower()).ThenBy(t => t.Slug).Skip(page.Offset).Take(page.Limit)).ToListAsync(ct);
        return Results.Ok(new Page<TagRead>(tags, total, page.Limit, page.Offset));
    }

    private static async Task<IResult> Get(Guid tagId, HttpContext http, OrgsDbContext db, CancellationToken ct)
    {
        if (!Access.TryMember(http.GetPrincipal(), out var orgId, out var problem)) return problem;
        var tag = await Reads(db, db.Tags.AsNoTracking().Where(t => t.Id == tagId && t.OrganizationId == orgId)).FirstOrDefaultAsync(ct);
        return tag is null ? TagNotFound() : Results.Ok(tag);
    }

    private static async Task<IResult> Create(TagInput body, HttpContext http, OrgsDbContext db, TimeProvider time, CancellationToken ct)
    {
        if (!Access.TryAdmin(http.GetPrincipal(), "Creating tags", out var orgId, out var problem)) return problem;
        var now = time.GetUtcNow().UtcDateTime;
        var tag = new Tag { Id = Guid.CreateVersion7(), OrganizationId = orgId, Name = "", Slug = "", Color = TagColors.Default, CreatedAt = now, UpdatedAt = now };
        db.Tags.Add(tag);
        return await SaveAsync(body, tag, creating: true, db, ct) ?? Results.Created($"/api/v1/tags/{tag.Id}", await ReadAsync(db, tag.Id, ct));
    }

    private static async Task<IResult> Update(Guid tagId, TagInput body, HttpContext http, OrgsDbContext db, TimeProvider time, CancellationToken ct)
    {
        if (!Access.TryAdmin(http.GetPrincipal(), "Changing tags", out var orgId, out var problem)) return problem;
        if (!(body.Name.IsSet || body.Slug.IsSet || body.Color.IsSet || body.Description.IsSet))
            return ApiProblems.Unprocessable("Name at least one of name, slug, color, description.", "empty_update");
        var tag = await db.Tags.FirstOrDefaultAsync(t => t.Id == tagId && t.OrganizationId == orgId, ct);
        if (tag is null) return TagNotFound();
        tag.UpdatedAt = time.GetUtcNow().UtcDateTime;
        return await SaveAsync(body, tag, creating: false, db, ct) ?? Results.Ok(await ReadAsync(db, tag.Id, ct));
    }

    private static async Task<IResult> Delete(Guid tagId, HttpContext http, OrgsDbContext db, TimeProvider time, CancellationToken ct)
    {
        if (!Access.TryAdmin(http.GetPrincipal(), "Deleting tags", out var orgId, out var problem)) return problem;
        var tag = await db.Tags.FirstOrDefaultAsync(t => t.Id == tagId && t.OrganizationId == orgId, ct);
        if (tag is null) return TagNotFound();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.TaskTags.Where(t => t.TagId == tagId).ExecuteDeleteAsync(ct);
        db.Tags.Remove(tag);
        db.AddIntegrationEvent(new TagDeleted { OrganizationId = orgId, TagId = tagId, OccurredAt = time.GetUtcNow() });
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return OkRead.Result();
    }

    /// <summary>Validates and applies the input, checks the slug is free, saves with TagChanged; a problem, or null when saved.</summary>
    private static async Task<IResult?> SaveAsync(TagInput body, Tag tag, bool creating, OrgsDbContext db, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (creating || body.Name.IsSet)
        {
            var name = body.Name.Value?.Trim();
            if (string.IsNullOrEmpty(name) || name.Length > MaxName) errors["name"] = [$"must be 1 to {MaxName} characters"];
            else tag.Name = name;
        }
        if (creating || body.Slug.IsSet)
        {
            var slug = Slugs.From(string.IsNullOrWhiteSpace(body.Slug.Value) ? tag.Name : body.Slug.Value, "tag");
            if (slug.Length > MaxName) errors["slug"] = [$"must be at most {MaxName} characters"];
            else tag.Slug = slug;
        }
        if (body.Color.IsSet)
        {
            if (body.Color.Value is null) tag.Color = TagColors.Default;
            else if (TagColors.Normalize(body.Color.Value) is { } color) tag.Color = color;
            else errors["color"] = ["must be six hex digits, e.g. 9e9e9e"];
        }
        if (body.Description.IsSet) tag.Description = body.Description.Value?.Trim() is { Length: > 0 } d ? d : null;
        if (errors.Count > 0) return ApiProblems.Validation(errors);

        var slugTaken = ApiProblems.Conflict($"A tag with the slug '{tag.Slug}' already exists.", SlugTakenCode);
        if (await db.Tags.AnyAsync(t => t.OrganizationId == tag.OrganizationId && t.Slug == tag.Slug && t.Id != tag.Id, ct)) return slugTaken;
        db.AddIntegrationEvent(new TagChanged
        {
            OrganizationId = tag.OrganizationId, OccurredAt = tag.UpdatedAt,
            Tag = new TagState { Id = tag.Id, OrganizationId = tag.OrganizationId, Name = tag.Name, Slug = tag.Slug, Color = tag.Color, Description = tag.Description },
        });
        try
        {
            await db.SaveChangesAsync(ct);
            return null;
        }
        catch (DbUpdateException)
        {
            if (!await SlugTakenAsync(db, tag)) throw;
            return slugTaken; // a concurrent request took the slug first
        }
    }

    private static async Task<bool> SlugTakenAsync(OrgsDbContext db, Tag tag)
    {
        db.ChangeTracker.Clear();
        return await db.Tags.AnyAsync(t => t.OrganizationId == tag.OrganizationId && t.Slug == tag.Slug && t.Id != tag.Id);
    }

    private static IQueryable<TagRead> Reads(OrgsDbContext db, IQueryable<Tag> tags) =>
        tags.Select(t => new TagRead(t.Id, t.OrganizationId, t.Name, t.Slug, t.Color, t.Description,
            db.TaskTags.Count(c => c.TagId == t.Id), t.CreatedAt, t.UpdatedAt));

    private static Task<TagRead> ReadAsync(OrgsDbContext db, Guid tagId, CancellationToken ct) =>
        Reads(db, db.Tags.AsNoTracking().Where(t => t.Id == tagId)).FirstAsync(ct);

    private static IResult TagNotFound() => ApiProblems.NotFound("Tag not found.");
}
