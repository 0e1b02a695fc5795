using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Orgs;
using MissionControl.InternalAuth;
using MissionControl.Messaging;
using MissionControl.Orgs.Data;
using MissionControl.Orgs.Domain;

namespace MissionControl.Orgs.Apis;

public sealed record BoardGroupInput(Optional<string?> Name, Optional<string?> Slug, Optional<string?> Description);

public sealed record BoardGroupRead(Guid Id, Guid OrganizationId, string Name, string Slug, string? Description, DateTime CreatedAt, DateTime UpdatedAt)
{
    public static BoardGroupRead Of(BoardGroup g) => new(g.Id, g.OrganizationId, g.Name, g.Slug, g.Description, g.CreatedAt, g.UpdatedAt);
}

/// <summary>
/// Board groups. A group is as visible as its boards: reading it needs read access to one of them
/// (an empty group: the admin role), changing it the admin role and write access to one of them.
/// </summary>
public static class BoardGroupsApi
{
    private const int MaxName = 200;

    public static IEndpointRouteBuilder MapBoardGroupsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/board-groups");
        api.MapGet("", List);
        api.MapPost("", Create);
        api.MapGet("/{groupId:guid}", Get);
        api.MapPatch("/{groupId:guid}", Update);
        api.MapDelete("/{groupId:guid}", Delete);
        return app;
    }

    private static async Task<IResult> List(HttpContext http, OrgsDbContext db, int? limit, int? offset, CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        if (!Access.TryMember(principal, out var orgId, out var problem)) return problem;
        if (!PageRequest.TryParse(limit, offset, out var page, out var error)) return error!;
        var query = db.BoardGroups.AsNoTracking().Where(g => g.OrganizationId == orgId);
        if (Access.ReadableBoardIds(principal) is { } readable)
            query = query.Where(g => db.Boards.Any(b => b.BoardGroupId == g.Id && readable.Contains(b.Id)));
        var total = await query.CountAsync(ct);
        var groups = await query.OrderBy(g => g.Name.ToLower()).ThenBy(g => g.CreatedAt).Skip(page.Offset).Take(page.Limit).ToListAsync(ct);
        return Results.Ok(new Page<BoardGroupRead>(groups.Select(BoardGroupRead.Of).ToList(), total, page.Limit, page.Offset));
    }

    private static async Task<IResult> Create(BoardGroupInput body, HttpContext http, OrgsDbContext db, TimeProvider time, CancellationToken ct)
    {
        if (!Access.TryAdmin(http.GetPrincipal(), "Creating board groups", out var orgId, out var problem)) return problem;
        var now = time.GetUtcNow().UtcDateTime;
        var group = new BoardGroup { Id = Guid.CreateVersion7(), OrganizationId = orgId, Name = "", Slug = "", CreatedAt = now, UpdatedAt = now };
        var errors = Apply(body, group, creating: true);
        if (errors.Count > 0) return ApiProblems.Validation(errors);
        db.BoardGroups.Add(group);
        QueueChanged(db, group, now);
        await db.SaveChangesAsync(ct);
        return Results.Created($"/api/v1/board-groups/{group.Id}", BoardGroupRead.Of(group));
    }

    private static async Task<IResult> Get(Guid groupId, HttpContext http, OrgsDbContext db, CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        if (!Access.TryMember(principal, out var orgId, out var problem)) return problem;
        var group = await db.BoardGroups.AsNoTracking().FirstOrDefaultAsync(g => g.Id == groupId && g.OrganizationId == orgId, ct);
        if (group is null) return GroupNotFound();
        return await AllowedAsync(db, principal, group.Id, write: false, ct) ? Results.Ok(BoardGroupRead.Of(group)) : ApiProblems.Forbidden("You have no access to this board group.");
    }

    private static async Task<IResult> Update(Guid groupId, BoardGroupInput body, HttpContext http, OrgsDbContext db, TimeProvider time, CancellationToken ct)
    {
        var (group, problem) = await FindWritableAsync(db, http.GetPrincipal(), groupId, "Changing board groups", ct);
        if (problem is not null) return problem;
        var errors = Apply(body, group!, creating: false);
        if (errors.Count > 0) return ApiProblems.Validation(errors);
        var now = time.GetUtcNow().UtcDateTime;
        group!.UpdatedAt = now;
        QueueChanged(db, group, now);
        await db.SaveChangesAsync(ct);
        return Results.Ok(BoardGroupRead.Of(group));
    }

    /// <summary>Deletes the group; its boards stay, ungrouped (each announced by a BoardUpdated).</summary>
    private static async Task<IResult> Delete(Guid groupId, HttpContext http, OrgsDbContext db, TimeProvider time, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var (group, problem) = await FindWritableAsync(db, http.GetPrincipal(), groupId, "Deleting board groups", ct);
        if (problem is not null) return problem;
        var now = time.GetUtcNow().UtcDateTime;
        foreach (var board in await db.Boards.Where(b => b.BoardGroupId == groupId).ToListAsync(ct))
        {
            (board.BoardGroupId, board.UpdatedAt) = (null, now);
            BoardsApi.QueueUpdated(db, board, ["board_group_id"], groupId, now);
        }
        db.BoardGroups.Remove(group!);
        db.AddIntegrationEvent(new BoardGroupDeleted { OrganizationId = group!.OrganizationId, GroupId = groupId, OccurredAt = now });
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return OkRead.Result();
    }

    private static async Task<(BoardGroup? Group, IResult? Problem)> FindWritableAsync(
        OrgsDbContext db, McPrincipal principal, Guid groupId, string action, CancellationToken ct)
    {
        if (!Access.TryAdmin(principal, action, out var orgId, out var problem)) return (null, problem);
        var group = await db.BoardGroups.FirstOrDefaultAsync(g => g.Id == groupId && g.OrganizationId == orgId, ct);
        if (group is null) return (null, GroupNotFound());
        return await AllowedAsync(db, principal, groupId, write: true, ct)
            ? (group, null)
            : (null, ApiProblems.Forbidden("You have no write access to any board of this group."));
    }

    /// <summary>Access to any board of the group; an empty group is the admins'.</summary>
    private static async Task<bool> AllowedAsync(OrgsDbContext db, McPrincipal principal, Guid groupId, bool write, CancellationToken ct)
    {
        if (principal.AllBoardsWrite || (!write && principal.AllBoardsRead)) return true;
        var boards = await db.Boards.Where(b => b.BoardGroupId == groupId).Select(b => b.Id).ToListAsync(ct);
        if (boards.Count == 0) return principal.IsOrgAdmin;
        return boards.Any(id => write ? principal.CanWriteBoard(id) : principal.CanReadBoard(id));
    }

    private static Dictionary<string, string[]> Apply(BoardGroupInput body, BoardGroup group, bool creating)
    {
        var errors = new Dictionary<string, string[]>();
        if (creating || body.Name.IsSet)
        {
            var name = body.Name.Value?.Trim();
            if (string.IsNullOrEmpty(name) || name.Length > MaxName) errors["name"] = [$"must be 1 to {MaxName} characters"];
            else group.Name = name;
        }
        if (creating || body.Slug.IsSet)
        {
            var slug = string.IsNullOrWhiteSpace(body.Slug.Value) ? Slugs.From(group.Name, "group") : Slugs.From(body.Slug.Value, "group");
            if (slug.Length > MaxName) errors["slug"] = [$"must be at most {MaxName} characters"];
            else group.Slug = slug;
        }
        if (body.Description.IsSet) group.Description = body.Description.Value?.Trim() is { Length: > 0 } d ? d : null;
        return errors;
    }

    private static void QueueChanged(OrgsDbContext db, BoardGroup g, DateTime now) =>
        db.AddIntegrationEvent(new BoardGroupChanged
        {
            OrganizationId = g.OrganizationId, OccurredAt = now,
            Group = new BoardGroupState
            {
                Id = g.Id, OrganizationId = g.OrganizationId, Name = g.Name, Slug = g.Slug, Description = g.Description,
                CreatedAt = g.CreatedAt, UpdatedAt = g.UpdatedAt,
            },
        });

    private static IResult GroupNotFound() => ApiProblems.NotFound("Board group not found.");
}
