using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Orgs;
using MissionControl.InternalAuth;
using MissionControl.Messaging;
using MissionControl.Orgs.Data;
using MissionControl.Orgs.Domain;

namespace MissionControl.Orgs.Apis;

public sealed record CreateApiKeyRequest(string? Name, DateTimeOffset? ExpiresAt);

/// <summary>The only answer that shows the key itself.</summary>
public sealed record ApiKeyCreated(Guid Id, string Name, string Prefix, string Key, DateTime CreatedAt, DateTime? ExpiresAt);

public sealed record ApiKeyRead(Guid Id, string Name, string Prefix, DateTime CreatedAt, DateTime? ExpiresAt, DateTime? LastUsedAt)
{
    public static ApiKeyRead Of(ApiKey k) => new(k.Id, k.Name, k.Prefix, k.CreatedAt, k.ExpiresAt, k.LastUsedAt);
}

/// <summary>Users' API keys (agents have agent tokens, in the agents service).</summary>
public static class ApiKeysApi
{
    public static IEndpointRouteBuilder MapApiKeysApi(this IEndpointRouteBuilder app)
    {
        var mine = app.MapGroup("/api/v1/users/me/api-keys");
        mine.MapPost("", CreateMine);
        mine.MapGet("", ListMine);
        mine.MapDelete("/{keyId:guid}", DeleteMine);
        app.MapPost("/api/v1/users/{userId:guid}/api-keys", CreateForUser);
        return app;
    }

    private static Task<IResult> CreateMine(CreateApiKeyRequest body, HttpContext http, OrgsDbContext db, TimeProvider time, CancellationToken ct) =>
        Access.TryUser(http.GetPrincipal(), out var userId, out var problem)
            ? CreateAsync(userId, body, db, time, ct)
            : Task.FromResult(problem);

    private static async Task<IResult> CreateForUser(Guid userId, CreateApiKeyRequest body, HttpContext http, OrgsDbContext db, TimeProvider time, CancellationToken ct)
    {
        if (!Access.TryInstanceAdmin(http.GetPrincipal(), out var problem)) return problem;
        return await CreateAsync(userId, body, db, time, ct);
    }

    private static async Task<IResult> CreateAsync(Guid userId, CreateApiKeyRequest body, OrgsDbContext db, TimeProvider time, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var errors = new Dictionary<string, string[]>();
        var name = body.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > 200) errors["name"] = ["must be 1 to 200 characters"];
        if (body.ExpiresAt is { } expires && expires.UtcDateTime <= now) errors["expires_at"] = ["must be in the future"];
        if (errors.Count > 0) return ApiProblems.Validation(errors);
        if (!await db.Users.AnyAsync(u => u.Id == userId, ct)) return ApiProblems.NotFound("User not found.");

        var key = Secrets.NewApiKey();
        var row = new ApiKey
        {
            Id = Guid.CreateVersion7(), UserId = userId, Name = name!, Prefix = Secrets.DisplayPrefix(key), KeyHash = Secrets.Hash(key),
            CreatedAt = now, ExpiresAt = body.ExpiresAt?.UtcDateTime,
        };
        db.ApiKeys.Add(row);
        await db.SaveChangesAsync(ct);
        return Results.Created($"/api/v1/users/me/api-keys/{row.Id}", new ApiKeyCreated(row.Id, row.Name, row.Prefix, key, row.CreatedAt, row.ExpiresAt));
    }

    private static async Task<IResult> ListMine(HttpContext http, OrgsDbContext db, int? limit, int? offset, CancellationToken ct)
    {
        if (!Access.TryUser(http.GetPrincipal(), out var userId, out var problem)) return problem;
        if (!PageRequest.TryParse(limit, offset, out var page, out var error)) return error!;
        var query = db.ApiKeys.AsNoTracking().Where(k => k.UserId == userId);
        var total = await query.CountAsync(ct);
        var keys = await query.OrderByDescending(k => k.CreatedAt).Skip(page.Offset).Take(page.Limit).ToListAsync(ct);
        return Results.Ok(new Page<ApiKeyRead>(keys.Select(ApiKeyRead.Of).ToList(), total, page.Limit, page.Offset));
    }

    private static async Task<IResult> DeleteMine(Guid keyId, HttpContext http, OrgsDbContext db, TimeProvider time, CancellationToken ct)
    {
        if (!Access.TryUser(http.GetPrincipal(), out var userId, out var problem)) return problem;
        var key = await db.ApiKeys.FirstOrDefaultAsync(k => k.Id == keyId && k.UserId == userId, ct);
        if (key is null) return ApiProblems.NotFound("API key not found.");
        db.ApiKeys.Remove(key);
        db.AddIntegrationEvent(new CredentialRevoked { UserId = userId, ApiKeyId = key.Id, OccurredAt = time.GetUtcNow() });
        await db.SaveChangesAsync(ct);
        return OkRead.Result();
    }
}
