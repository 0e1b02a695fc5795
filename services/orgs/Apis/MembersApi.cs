using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using MissionControl.InternalAuth;
using MissionControl.Orgs.Data;
using MissionControl.Orgs.Domain;
using MissionControl.Orgs.Membership;

namespace MissionControl.Orgs.Apis;

public sealed record UpdateMemberRequest(string? Role);

public sealed record SetMemberAccessRequest(bool? AllBoardsRead, bool? AllBoardsWrite, IReadOnlyList<BoardAccessItem>? BoardAccess);

public sealed record MemberUserRead(Guid Id, string? Email, string? Name, string? PreferredName);

public sealed record BoardAccessRead(Guid Id, Guid BoardId, bool CanRead, bool CanWrite, DateTime CreatedAt, DateTime UpdatedAt);

/// <summary>The reference's OrganizationMemberRead; board_access only on single-member answers.</summary>
public sealed record MemberRead(
    Guid Id, Guid OrganizationId, Guid UserId, string Role, bool AllBoardsRead, bool AllBoardsWrite, DateTime CreatedAt, DateTime UpdatedAt,
    MemberUserRead? User, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<BoardAccessRead>? BoardAccess)
{
    public static MemberRead Of(OrganizationMember m, User? u, bool withAccess) => new(
        m.Id, m.OrganizationId, m.UserId, m.Role, m.AllBoardsRead, m.AllBoardsWrite, m.CreatedAt, m.UpdatedAt,
        u is null ? null : new MemberUserRead(u.Id, u.Email, u.Name, u.PreferredName),
        withAccess ? m.BoardAccess.OrderBy(a => a.CreatedAt).Select(a => new BoardAccessRead(a.Id, a.BoardId, a.CanRead, a.CanWrite, a.CreatedAt, a.UpdatedAt)).ToList() : null);
}

public static class MembersApi
{
    public static IEndpointRouteBuilder MapMembersApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/organizations/me");
        api.MapGet("/member", GetMine);
        api.MapGet("/members", List);
        api.MapGet("/members/{memberId:guid}", Get);
        api.MapPatch("/members/{memberId:guid}", UpdateRole);
        api.MapPut("/members/{memberId:guid}/access", SetAccess);
        api.MapDelete("/members/{memberId:guid}", Remove);
        return app;
    }

    private static async Task<IResult> GetMine(HttpContext http, OrgsDbContext db, CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        if (!Access.TryMember(principal, out var orgId, out var problem)) return problem;
        var member = await db.Members.AsNoTracking().Include(m => m.BoardAccess)
            .FirstOrDefaultAsync(m => m.OrganizationId == orgId && m.UserId == principal.UserId, ct);
        return member is null ? ApiProblems.NotFound("You are not a member of your active organization.") : await ReadAsync(db, member, ct);
    }

    private static async Task<IResult> List(HttpContext http, OrgsDbContext db, int? limit, int? offset, CancellationToken ct)
    {
        if (!Access.TryMember(http.GetPrincipal(), out var orgId, out var problem)) return problem;
        if (!PageRequest.TryParse(limit, offset, out var page, out var error)) return error!;
        var query = from m in db.Members.AsNoTracking()
                    join u in db.Users.AsNoTracking() on m.UserId equals u.Id
                    where m.OrganizationId == orgId
                    select new { Member = m, User = u };
        var total = await query.CountAsync(ct);
        var rows = await query.OrderBy(r => r.User.NormalizedEmail).ThenBy(r => r.User.Name).ThenBy(r => r.Member.CreatedAt)
            .Skip(page.Offset).Take(page.Limit).ToListAsync(ct);
        return Results.Ok(new Page<MemberRead>(rows.Select(r => MemberRead.Of(r.Member, r.User, withAccess: false)).ToList(), total, page.Limit, page.Offset));
    }

    private static async Task<IResult> Get(Guid memberId, HttpContext http, OrgsDbContext db, CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        if (!Access.TryMember(principal, out var orgId, out var problem)) return problem;
        var member = await FindAsync(db.Members.AsNoTracking(), orgId, memberId, ct);
        if (member is null) return MemberNotFound();
        if (member.UserId != principal.UserId && !principal.IsOrgAdmin)
            return ApiProblems.Forbidden("Only owners and admins may read other members.");
        return await ReadAsync(db, member, ct);
    }

    private static async Task<IResult> UpdateRole(Guid memberId, UpdateMemberRequest body, HttpContext http, OrgsDbContext db, TimeProvider time, CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        if (!Access.TryAdmin(principal, "Changing roles", out var orgId, out var problem)) return problem;
        var role = body.Role is null ? null : MemberRules.NormalizeRole(body.Role);
        if (body.Role is not null && role is null) return ApiProblems.Validation("role", "must be owner, admin or member");

        await using var tx = await OrganizationLock.BeginAsync(db, orgId, ct);
        var member = await FindAsync(db.Members, orgId, memberId, ct);
        if (member is null) return MemberNotFound();
        if (role is not null && role != member.Role)
        {
            var owners = await db.Members.CountAsync(m => m.OrganizationId == orgId && m.Role == Roles.Owner, ct);
            if (MemberRules.CheckRoleChange(principal.Role, member.Role, role, owners) is { } violation) return violation.ToProblem();
            var now = time.GetUtcNow().UtcDateTime;
            (member.Role, member.UpdatedAt) = (role, now);
            MemberChanges.Queue(db, orgId, member.UserId, MemberChanges.Role, now);
            await db.SaveChangesAsync(ct);
        }
        await tx.CommitAsync(ct);
        return await ReadAsync(db, member, ct);
    }

    private static async Task<IResult> SetAccess(Guid memberId, SetMemberAccessRequest body, HttpContext http, OrgsDbContext db, TimeProvider time, CancellationToken ct)
    {
        if (!Access.TryAdmin(http.GetPrincipal(), "Changing board access", out var orgId, out var problem)) return problem;
        var member = await FindAsync(db.Members, orgId, memberId, ct);
        if (member is null) return MemberNotFound();
        var errors = new Dictionary<string, string[]>();
        var grants = await BoardGrantsInput.ParseAsync(db, orgId, body.BoardAccess, errors, ct);
        if (errors.Count > 0) return ApiProblems.Validation(errors);

        var now = time.GetUtcNow().UtcDateTime;
        (member.AllBoardsRead, member.AllBoardsWrite, member.UpdatedAt) = (body.AllBoardsRead ?? false, body.AllBoardsWrite ?? false, now);
        BoardAccessRows.Replace(db, member, grants, now);
        MemberChanges.Queue(db, orgId, member.UserId, MemberChanges.Access, now);
        await db.SaveChangesAsync(ct);
        return await ReadAsync(db, member, ct);
    }

    private static async Task<IResult> Remove(Guid memberId, HttpContext http, OrgsDbContext db, TimeProvider time, CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        if (!Access.TryAdmin(principal, "Removing members", out var orgId, out var problem)) return problem;
        await using var tx = await OrganizationLock.BeginAsync(db, orgId, ct);
        var member = await FindAsync(db.Members.AsNoTracking(), orgId, memberId, ct);
        if (member is null) return MemberNotFound();
        var owners = await db.Members.CountAsync(m => m.OrganizationId == orgId && m.Role == Roles.Owner, ct);
        if (MemberRules.CheckRemoval(principal.Role, member.UserId == principal.UserId, member.Role, owners) is { } violation)
            return violation.ToProblem();

        await Removals.DeleteMembershipAsync(db, member, time.GetUtcNow().UtcDateTime, ct);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return OkRead.Result();
    }

    private static Task<OrganizationMember?> FindAsync(IQueryable<OrganizationMember> members, Guid orgId, Guid memberId, CancellationToken ct) =>
        members.Include(m => m.BoardAccess).FirstOrDefaultAsync(m => m.Id == memberId && m.OrganizationId == orgId, ct);

    private static async Task<IResult> ReadAsync(OrgsDbContext db, OrganizationMember member, CancellationToken ct)
    {
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == member.UserId, ct);
        return Results.Ok(MemberRead.Of(member, user, withAccess: true));
    }

    private static IResult MemberNotFound() => ApiProblems.NotFound("Member not found.");
}
