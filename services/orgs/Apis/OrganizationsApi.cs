using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Orgs;
using MissionControl.InternalAuth;
using MissionControl.Messaging;
using MissionControl.Orgs.Data;
using MissionControl.Orgs.Membership;

namespace MissionControl.Orgs.Apis;

public sealed record CreateOrganizationRequest(string? Name);
public sealed record SetActiveOrganizationRequest(Guid? OrganizationId);
public sealed record OrganizationRead(Guid Id, string Name, bool IsPersonal, DateTime CreatedAt, DateTime UpdatedAt);
public sealed record OrganizationListItem(Guid Id, string Name, string Role, bool IsActive);

public static class OrganizationsApi
{
    public static IEndpointRouteBuilder MapOrganizationsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/organizations");
        api.MapPost("", Create);
        api.MapGet("/me", GetActive);
        api.MapGet("/me/list", ListMine);
        api.MapPatch("/me/active", SetActive);
        api.MapDelete("/me", DeleteActive);
        return app;
    }

    private static async Task<IResult> Create(CreateOrganizationRequest body, HttpContext http, OrgsDbContext db, TimeProvider time, CancellationToken ct)
    {
        if (http.GetPrincipal().UserId is not { } userId) return ApiProblems.Forbidden("Only users can create organizations.");
        var name = body.Name?.Trim();
        if (string.IsNullOrEmpty(name)) return ApiProblems.Validation("name", "must not be blank");
        if (name.Length > 200) return ApiProblems.Validation("name", "must be at most 200 characters");

        var normalized = name.ToLowerInvariant();
        if (await db.Organizations.AnyAsync(o => o.NormalizedName == normalized && !o.IsPersonal, ct))
            return NameTaken(name);
        var user = await db.Users.FindAsync([userId], ct);
        if (user is null) return ApiProblems.Forbidden("Unknown user.");

        var now = time.GetUtcNow().UtcDateTime;
        var org = new Organization { Id = Guid.CreateVersion7(), Name = name, NormalizedName = normalized, CreatedAt = now, UpdatedAt = now };
        db.Organizations.Add(org);
        db.Members.Add(OrganizationSetup.Owner(org.Id, userId, now));
        user.ActiveOrganizationId = org.Id;
        user.UpdatedAt = now;
        db.AddIntegrationEvent(new OrganizationCreated { OrganizationId = org.Id, Name = name, CreatedByUserId = userId, OccurredAt = now });
        MemberChanges.Queue(db, org.Id, userId, MemberChanges.Added, now);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            // Lost a race with a concurrent create of the same name.
            if (!await db.Organizations.AsNoTracking().AnyAsync(o => o.NormalizedName == normalized && !o.IsPersonal, CancellationToken.None)) throw;
            return NameTaken(name);
        }
        return Results.Created($"/api/v1/organizations/{org.Id}", ToRead(org));
    }

    private static async Task<IResult> GetActive(HttpContext http, OrgsDbContext db, CancellationToken ct)
    {
        if (http.GetPrincipal().OrganizationId is not { } orgId) return ApiProblems.NotFound("You have no active organization.");
        var org = await db.Organizations.AsNoTracking().FirstOrDefaultAsync(o => o.Id == orgId, ct);
        return org is null ? ApiProblems.NotFound("Organization not found.") : Results.Ok(ToRead(org));
    }

    private static async Task<IResult> ListMine(HttpContext http, OrgsDbContext db, CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        if (principal.UserId is not { } userId) return ApiProblems.Forbidden("Only users belong to organizations.");
        var rows = await (from m in db.Members.AsNoTracking()
                          join o in db.Organizations.AsNoTracking() on m.OrganizationId equals o.Id
                          where m.UserId == userId
                          orderby o.NormalizedName
                          select new OrganizationListItem(o.Id, o.Name, m.Role, o.Id == principal.OrganizationId)).ToListAsync(ct);
        return Results.Ok(rows);
    }

    private static async Task<IResult> SetActive(SetActiveOrganizationRequest body, HttpContext http, OrgsDbContext db, TimeProvider time, CancellationToken ct)
    {
        if (http.GetPrincipal().UserId is not { } userId) return ApiProblems.Forbidden("Only users belong to organizations.");
        if (body.OrganizationId is not { } orgId) return ApiProblems.Validation("organization_id", "is required");
        if (!await db.Members.AnyAsync(m => m.UserId == userId && m.OrganizationId == orgId, ct))
            return ApiProblems.Forbidden("No org access.");
        var user = await db.Users.FirstAsync(u => u.Id == userId, ct);
        var now = time.GetUtcNow().UtcDateTime;
        (user.ActiveOrganizationId, user.UpdatedAt) = (orgId, now);
        MemberChanges.Queue(db, orgId, userId, MemberChanges.ActiveOrganization, now);
        await db.SaveChangesAsync(ct);
        var org = await db.Organizations.AsNoTracking().FirstAsync(o => o.Id == orgId, ct);
        return Results.Ok(ToRead(org));
    }

    /// <summary>The owner deletes the active organization and everything in it.</summary>
    private static async Task<IResult> DeleteActive(HttpContext http, OrgsDbContext db, TimeProvider time, CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        if (!Access.TryMember(principal, out var orgId, out var problem)) return problem;
        if (principal.Role != Roles.Owner) return ApiProblems.Forbidden("Only an owner may delete the organization.");
        await using var tx = await OrganizationLock.BeginAsync(db, orgId, ct);
        if (!await db.Organizations.AnyAsync(o => o.Id == orgId, ct)) return ApiProblems.NotFound("Organization not found.");
        await Removals.DeleteOrganizationAsync(db, orgId, time.GetUtcNow().UtcDateTime, ct);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return OkRead.Result();
    }

    private static IResult NameTaken(string name) => ApiProblems.Conflict($"An organization named '{name}' already exists.", "organization_name_taken");

    private static OrganizationRead ToRead(Organization o) => new(o.Id, o.Name, o.IsPersonal, o.CreatedAt, o.UpdatedAt);
}
