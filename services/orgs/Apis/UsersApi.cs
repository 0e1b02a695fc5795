using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Orgs;
using MissionControl.InternalAuth;
using MissionControl.Messaging;
using MissionControl.Orgs.Data;
using MissionControl.Orgs.Domain;
using MissionControl.Orgs.Membership;

namespace MissionControl.Orgs.Apis;

public sealed record CreateUserRequest(string? Email, string? Name);

public sealed record UpdateUserRequest(
    Optional<string?> Name, Optional<string?> PreferredName, Optional<string?> Pronouns, Optional<string?> Timezone,
    Optional<string?> Notes, Optional<string?> Context);

/// <summary>The reference's UserRead; is_super_admin and is_instance_admin both name the instance admin.</summary>
public sealed record UserRead(
    Guid Id, string? ExternalId, string? Email, string? Name, string? PreferredName, string? Pronouns, string? Timezone,
    string? Notes, string? Context, bool IsSuperAdmin, bool IsInstanceAdmin, Guid? ActiveOrganizationId, DateTime CreatedAt, DateTime UpdatedAt)
{
    public static UserRead Of(User u) => new(
        u.Id, u.ExternalId, u.Email, u.Name, u.PreferredName, u.Pronouns, u.Timezone, u.Notes, u.Context,
        u.IsInstanceAdmin, u.IsInstanceAdmin, u.ActiveOrganizationId, u.CreatedAt, u.UpdatedAt);
}

public static class UsersApi
{
    private const int MaxShortText = 200;
    private const int MaxLongText = 20_000;

    public static IEndpointRouteBuilder MapUsersApi(this IEndpointRouteBuilder app)
    {
        var users = app.MapGroup("/api/v1/users");
        users.MapPost("", Create);
        users.MapGet("", List);
        users.MapGet("/me", GetMe);
        users.MapPatch("/me", UpdateMe);
        users.MapDelete("/me", DeleteMe);
        app.MapPost("/api/v1/auth/bootstrap", GetMe);
        return app;
    }

    private static async Task<IResult> Create(CreateUserRequest body, HttpContext http, OrgsDbContext db, TimeProvider time, CancellationToken ct)
    {
        if (!Access.TryInstanceAdmin(http.GetPrincipal(), out var problem)) return problem;
        var errors = new Dictionary<string, string[]>();
        if (!EmailAddresses.TryNormalize(body.Email, out var email)) errors["email"] = ["must be a valid email address"];
        var name = body.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > MaxShortText) errors["name"] = [$"must be 1 to {MaxShortText} characters"];
        if (errors.Count > 0) return ApiProblems.Validation(errors);
        if (await db.Users.AnyAsync(u => u.NormalizedEmail == email, ct))
            return ApiProblems.Conflict($"A user with the email '{body.Email!.Trim()}' already exists.", "email_taken");

        var now = time.GetUtcNow().UtcDateTime;
        var user = new User { Id = Guid.CreateVersion7(), Email = body.Email!.Trim(), NormalizedEmail = email, Name = name, CreatedAt = now, UpdatedAt = now };
        db.Users.Add(user);
        await db.SaveChangesAsync(ct);
        return Results.Created($"/api/v1/users/{user.Id}", UserRead.Of(user));
    }

    private static async Task<IResult> List(HttpContext http, OrgsDbContext db, int? limit, int? offset, CancellationToken ct)
    {
        if (!Access.TryInstanceAdmin(http.GetPrincipal(), out var problem)) return problem;
        if (!PageRequest.TryParse(limit, offset, out var page, out var error)) return error!;
        var total = await db.Users.CountAsync(ct);
        var users = await db.Users.AsNoTracking().OrderBy(u => u.NormalizedEmail).ThenBy(u => u.CreatedAt)
            .Skip(page.Offset).Take(page.Limit).ToListAsync(ct);
        return Results.Ok(new Page<UserRead>(users.Select(UserRead.Of).ToList(), total, page.Limit, page.Offset));
    }

    private static async Task<IResult> GetMe(HttpContext http, OrgsDbContext db, CancellationToken ct)
    {
        if (!Access.TryUser(http.GetPrincipal(), out var userId, out var problem)) return problem;
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == userId, ct);
        return user is null ? UserGone() : Results.Ok(UserRead.Of(user));
    }

    private static async Task<IResult> UpdateMe(UpdateUserRequest body, HttpContext http, OrgsDbContext db, TimeProvider time, CancellationToken ct)
    {
        if (!Access.TryUser(http.GetPrincipal(), out var userId, out var problem)) return problem;
        var errors = new Dictionary<string, string[]>();
        var name = Text(body.Name, "name", MaxShortText, errors);
        if (body.Name.IsSet && name is null) errors["name"] = ["must not be blank"];
        var preferredName = Text(body.PreferredName, "preferred_name", MaxShortText, errors);
        var pronouns = Text(body.Pronouns, "pronouns", MaxShortText, errors);
        var timezone = Text(body.Timezone, "timezone", MaxShortText, errors);
        var notes = Text(body.Notes, "notes", MaxLongText, errors);
        var context = Text(body.Context, "context", MaxLongText, errors);
        if (errors.Count > 0) return ApiProblems.Validation(errors);

        var user = await db.Users.FirstOrDefaultAsync(u => u.Id == userId, ct);
        if (user is null) return UserGone();
        if (body.Name.IsSet) user.Name = name;
        if (body.PreferredName.IsSet) user.PreferredName = preferredName;
        if (body.Pronouns.IsSet) user.Pronouns = pronouns;
        if (body.Timezone.IsSet) user.Timezone = timezone;
        if (body.Notes.IsSet) user.Notes = notes;
        if (body.Context.IsSet) user.Context = context;
        user.UpdatedAt = time.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(ct);
        return Results.Ok(UserRead.Of(user));
    }

    /// <summary>
    /// Deletes the caller: its API keys, its memberships, and every organization where it is the only
    /// member. Refused while it is the last owner of an organization others still belong to.
    /// </summary>
    private static async Task<IResult> DeleteMe(HttpContext http, OrgsDbContext db, TimeProvider time, CancellationToken ct)
    {
        if (!Access.TryUser(http.GetPrincipal(), out var userId, out var problem)) return problem;
        var now = time.GetUtcNow().UtcDateTime;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        if (!await db.Users.AnyAsync(u => u.Id == userId, ct)) return UserGone();

        var memberships = await db.Members.AsNoTracking().Where(m => m.UserId == userId)
            .Select(m => new
            {
                Member = m,
                Members = db.Members.Count(x => x.OrganizationId == m.OrganizationId),
                Owners = db.Members.Count(x => x.OrganizationId == m.OrganizationId && x.Role == Roles.Owner),
            }).ToListAsync(ct);
        if (memberships.FirstOrDefault(m => m.Members > 1 && m.Member.Role == Roles.Owner && m.Owners == 1) is { } stuck)
            return ApiProblems.Unprocessable(
                "You are the last owner of an organization other people belong to: make someone else owner, or delete it, first.",
                MemberRules.LastOwnerCode, new Dictionary<string, object?> { ["organization_id"] = stuck.Member.OrganizationId });

        foreach (var m in memberships)
        {
            if (m.Members == 1) await Removals.DeleteOrganizationAsync(db, m.Member.OrganizationId, now, ct);
            else
            {
                await db.BoardAccess.Where(a => a.OrganizationMemberId == m.Member.Id).ExecuteDeleteAsync(ct);
                await db.Members.Where(x => x.Id == m.Member.Id).ExecuteDeleteAsync(ct);
                MemberChanges.Queue(db, m.Member.OrganizationId, userId, MemberChanges.UserDeleted, now);
            }
        }
        await db.ApiKeys.Where(k => k.UserId == userId).ExecuteDeleteAsync(ct);
        await db.Users.Where(u => u.Id == userId).ExecuteDeleteAsync(ct);
        db.AddIntegrationEvent(new CredentialRevoked { UserId = userId, ApiKeyId = null, OccurredAt = now });
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return OkRead.Result();
    }

    private static IResult UserGone() => ApiProblems.NotFound("Your user no longer exists.");

    /// <summary>A trimmed optional text: blank becomes null; too long is a field error.</summary>
    private static string? Text(Optional<string?> value, string field, int max, Dictionary<string, string[]> errors)
    {
        var text = value.IsSet ? value.Value?.Trim() : null;
        if (text?.Length > max) errors[field] = [$"must be at most {max} characters"];
        return string.IsNullOrEmpty(text) ? null : text;
    }
}
