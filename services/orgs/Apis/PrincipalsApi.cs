using Microsoft.EntityFrameworkCore;
using MissionControl.InternalAuth;
using MissionControl.Orgs.Data;

namespace MissionControl.Orgs.Apis;

/// <summary>Internal: the edge resolves an authenticated user identity to its active membership.</summary>
public static class PrincipalsApi
{
    public static IEndpointRouteBuilder MapPrincipalsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/internal/v1/principals/resolve", Resolve);
        return app;
    }

    private static async Task<IResult> Resolve(ResolvePrincipalRequest body, HttpContext http, OrgsDbContext db, TimeProvider time, CancellationToken ct)
    {
        if (http.GetPrincipal().Kind != PrincipalKind.Service) return ApiProblems.Forbidden("Only Mission Control services may resolve principals.");
        if (string.IsNullOrWhiteSpace(body.ExternalId) || body.ExternalId.Length > 300)
            return ApiProblems.Validation("external_id", "must be 1 to 300 characters");

        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.ExternalId == body.ExternalId, ct)
                   ?? await CreateUserAsync(db, body, time, ct);

        var memberships = await db.Members.AsNoTracking().Include(m => m.BoardAccess)
            .Where(m => m.UserId == user.Id).OrderBy(m => m.CreatedAt).ToListAsync(ct);
        // The active organization, else the oldest membership.
        var active = memberships.FirstOrDefault(m => m.OrganizationId == user.ActiveOrganizationId) ?? memberships.FirstOrDefault();
        return Results.Ok(active is null
            ? new ResolvedUser(user.Id, null, null, false, false, [])
            : new ResolvedUser(user.Id, active.OrganizationId, active.Role, active.AllBoardsRead, active.AllBoardsWrite,
                active.BoardAccess.Select(a => new BoardGrant(a.BoardId, a.CanRead, a.CanWrite)).ToList()));
    }

    private static async Task<User> CreateUserAsync(OrgsDbContext db, ResolvePrincipalRequest body, TimeProvider time, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var user = new User { Id = Guid.CreateVersion7(), ExternalId = body.ExternalId, Email = body.Email, Name = body.Name, CreatedAt = now, UpdatedAt = now };
        db.Users.Add(user);
        try
        {
            await db.SaveChangesAsync(ct);
            return user;
        }
        catch (DbUpdateException)
        {
            // Two first requests raced; the other one created the user.
            db.ChangeTracker.Clear();
            return await db.Users.AsNoTracking().FirstAsync(u => u.ExternalId == body.ExternalId, ct);
        }
    }
}
