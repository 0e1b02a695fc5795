using Microsoft.EntityFrameworkCore;
using MissionControl.InternalAuth;
using MissionControl.Orgs.Data;
using MissionControl.Orgs.Domain;
using MissionControl.Orgs.Membership;

namespace MissionControl.Orgs.Apis;

/// <summary>Internal: the edge turns a user identity or an API key into the user's principal.</summary>
public static class PrincipalsApi
{
    /// <summary>last_used_at is written at most this often per key: resolution stays a read.</summary>
    public static readonly TimeSpan LastUsedResolution = TimeSpan.FromSeconds(60);

    public static IEndpointRouteBuilder MapPrincipalsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/internal/v1/principals/resolve", Resolve);
        app.MapPost("/internal/v1/principals/resolve-api-key", ResolveApiKey);
        return app;
    }

    private static IResult ServicesOnly() => ApiProblems.Forbidden("Only Mission Control services may resolve principals.");

    private static async Task<IResult> Resolve(ResolvePrincipalRequest body, HttpContext http, OrgsDbContext db, TimeProvider time, CancellationToken ct)
    {
        if (http.GetPrincipal().Kind != PrincipalKind.Service) return ServicesOnly();
        if (string.IsNullOrWhiteSpace(body.ExternalId) || body.ExternalId.Length > 300)
            return ApiProblems.Validation("external_id", "must be 1 to 300 characters");

        var now = time.GetUtcNow().UtcDateTime;
        var userId = await db.Users.AsNoTracking().Where(u => u.ExternalId == body.ExternalId).Select(u => (Guid?)u.Id).FirstOrDefaultAsync(ct)
                     ?? await UpsertAsync(db, body, now, ct);
        return Results.Ok(await UserResolution.AnswerAsync(db, userId, now, ct));
    }

    private static async Task<IResult> ResolveApiKey(ResolveApiKeyRequest body, HttpContext http, OrgsDbContext db, TimeProvider time, CancellationToken ct)
    {
        if (http.GetPrincipal().Kind != PrincipalKind.Service) return ServicesOnly();
        var unknown = ApiProblems.NotFound("No live API key matches.", "unknown_api_key");
        if (string.IsNullOrEmpty(body.Key) || body.Key.Length > Secrets.MaxPresentedLength) return unknown;

        var now = time.GetUtcNow().UtcDateTime;
        var hash = Secrets.Hash(body.Key);
        var key = await db.ApiKeys.AsNoTracking().FirstOrDefaultAsync(k => k.KeyHash == hash, ct);
        if (key is null || key.ExpiresAt <= now) return unknown;
        if (key.LastUsedAt is not { } last || now - last > LastUsedResolution)
            await db.ApiKeys.Where(k => k.Id == key.Id).ExecuteUpdateAsync(s => s.SetProperty(k => k.LastUsedAt, now), ct);
        return Results.Ok(await UserResolution.AnswerAsync(db, key.UserId, now, ct));
    }

    /// <summary>
    /// First call of an identity: a user the instance admin created for its email (and that has not
    /// signed in yet) becomes this identity's user; otherwise a new user is created.
    /// </summary>
    private static async Task<Guid> UpsertAsync(OrgsDbContext db, ResolvePrincipalRequest body, DateTime now, CancellationToken ct)
    {
        var email = EmailAddresses.NormalizeOrNull(body.Email);
        try
        {
            if (email is not null && await LinkAdminCreatedUserAsync(db, email, body, now, ct) is { } linked) return linked;
            var user = new User
            {
                Id = Guid.CreateVersion7(), ExternalId = body.ExternalId, Email = email is null ? null : body.Email!.Trim(),
                NormalizedEmail = email, Name = body.Name, CreatedAt = now, UpdatedAt = now,
            };
            db.Users.Add(user);
            await db.SaveChangesAsync(ct);
            return user.Id;
        }
        catch (Exception e) when (e is DbUpdateException or System.Data.Common.DbException)
        {
            // Two first requests raced; the other one created (or linked) the user.
            db.ChangeTracker.Clear();
            return await db.Users.AsNoTracking().Where(u => u.ExternalId == body.ExternalId).Select(u => u.Id).FirstAsync(ct);
        }
    }

    /// <summary>Claims the admin-created user of that email that no identity has claimed yet, if any.</summary>
    private static async Task<Guid?> LinkAdminCreatedUserAsync(OrgsDbContext db, string email, ResolvePrincipalRequest body, DateTime now, CancellationToken ct)
    {
        var candidate = await db.Users.AsNoTracking().Where(u => u.NormalizedEmail == email && u.ExternalId == null)
            .OrderBy(u => u.CreatedAt).Select(u => (Guid?)u.Id).FirstOrDefaultAsync(ct);
        if (candidate is not { } id) return null;
        var claimed = await db.Users.Where(u => u.Id == id && u.ExternalId == null).ExecuteUpdateAsync(s => s
            .SetProperty(u => u.ExternalId, body.ExternalId).SetProperty(u => u.Name, u => u.Name ?? body.Name).SetProperty(u => u.UpdatedAt, now), ct);
        return claimed == 1 ? id : null;
    }
}
