using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using MissionControl.InternalAuth;
using MissionControl.Orgs.Data;
using MissionControl.Orgs.Domain;
using MissionControl.Orgs.Membership;

namespace MissionControl.Orgs.Apis;

public sealed record CreateInviteRequest(
    string? InvitedEmail, string? Role, bool? AllBoardsRead, bool? AllBoardsWrite, IReadOnlyList<BoardAccessItem>? BoardAccess);

public sealed record AcceptInviteRequest(string? Token);

public sealed record InviteBoardAccessRead(Guid BoardId, bool CanRead, bool CanWrite);

/// <summary>An invite; <c>token</c> appears only in the answer that created it (only its hash is kept).</summary>
public sealed record InviteRead(
    Guid Id, Guid OrganizationId, string InvitedEmail, string Role, bool AllBoardsRead, bool AllBoardsWrite,
    IReadOnlyList<InviteBoardAccessRead> BoardAccess, Guid? CreatedByUserId, Guid? AcceptedByUserId, DateTime? AcceptedAt,
    DateTime ExpiresAt, DateTime CreatedAt, DateTime UpdatedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Token = null)
{
    public static InviteRead Of(OrganizationInvite i, string? token = null) => new(
        i.Id, i.OrganizationId, i.InvitedEmail, i.Role, i.AllBoardsRead, i.AllBoardsWrite,
        i.BoardAccess.Select(a => new InviteBoardAccessRead(a.BoardId, a.CanRead, a.CanWrite)).ToList(),
        i.CreatedByUserId, i.AcceptedByUserId, i.AcceptedAt, i.ExpiresAt, i.CreatedAt, i.UpdatedAt, token);
}

public static class InvitesApi
{
    public const string ExpiredCode = "invite_expired";

    public static IEndpointRouteBuilder MapInvitesApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/organizations");
        api.MapGet("/me/invites", List);
        api.MapPost("/me/invites", Create);
        api.MapDelete("/me/invites/{inviteId:guid}", Delete);
        api.MapPost("/invites/accept", Accept);
        return app;
    }

    private static async Task<IResult> List(HttpContext http, OrgsDbContext db, int? limit, int? offset, CancellationToken ct)
    {
        if (!Access.TryAdmin(http.GetPrincipal(), "Managing invites", out var orgId, out var problem)) return problem;
        if (!PageRequest.TryParse(limit, offset, out var page, out var error)) return error!;
        var pending = db.Invites.AsNoTracking().Where(i => i.OrganizationId == orgId && i.AcceptedAt == null);
        var total = await pending.CountAsync(ct);
        var invites = await pending.Include(i => i.BoardAccess).OrderByDescending(i => i.CreatedAt)
            .Skip(page.Offset).Take(page.Limit).ToListAsync(ct);
        return Results.Ok(new Page<InviteRead>(invites.Select(i => InviteRead.Of(i)).ToList(), total, page.Limit, page.Offset));
    }

    private static async Task<IResult> Create(
        CreateInviteRequest body, HttpContext http, OrgsDbContext db, TimeProvider time, IOptions<OrgsOptions> options, CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        if (!Access.TryAdmin(principal, "Managing invites", out var orgId, out var problem)) return problem;
        var errors = new Dictionary<string, string[]>();
        if (!EmailAddresses.TryNormalize(body.InvitedEmail, out var email)) errors["invited_email"] = ["must be a valid email address"];
        var role = MemberRules.NormalizeRole(body.Role);
        if (role is null) errors["role"] = ["must be owner, admin or member"];
        var grants = await BoardGrantsInput.ParseAsync(db, orgId, body.BoardAccess, errors, ct);
        if (errors.Count > 0) return ApiProblems.Validation(errors);
        if (MemberRules.CheckInviteRole(principal.Role, role!) is { } violation) return violation.ToProblem();
        var isMember = await (from m in db.Members
                              join u in db.Users on m.UserId equals u.Id
                              where m.OrganizationId == orgId && u.NormalizedEmail == email
                              select m.Id).AnyAsync(ct);
        if (isMember) return ApiProblems.Conflict($"{email} is already a member of the organization.", "already_member");

        var now = time.GetUtcNow().UtcDateTime;
        var token = Secrets.NewInviteToken();
        var invite = new OrganizationInvite
        {
            Id = Guid.CreateVersion7(), OrganizationId = orgId, InvitedEmail = email, TokenHash = Secrets.Hash(token), Role = role!,
            AllBoardsRead = body.AllBoardsRead ?? false, AllBoardsWrite = body.AllBoardsWrite ?? false, CreatedByUserId = principal.UserId,
            ExpiresAt = now + options.Value.InviteLifetime, CreatedAt = now, UpdatedAt = now,
        };
        invite.BoardAccess.AddRange(grants.Select(g => new InviteBoardAccess
        {
            Id = Guid.CreateVersion7(), OrganizationInviteId = invite.Id, BoardId = g.BoardId, CanRead = g.CanRead, CanWrite = g.CanWrite,
        }));
        db.Invites.Add(invite);
        await db.SaveChangesAsync(ct);
        return Results.Created($"/api/v1/organizations/me/invites/{invite.Id}", InviteRead.Of(invite, token));
    }

    private static async Task<IResult> Delete(Guid inviteId, HttpContext http, OrgsDbContext db, CancellationToken ct)
    {
        if (!Access.TryAdmin(http.GetPrincipal(), "Managing invites", out var orgId, out var problem)) return problem;
        var invite = await db.Invites.Include(i => i.BoardAccess).FirstOrDefaultAsync(i => i.Id == inviteId && i.OrganizationId == orgId, ct);
        if (invite is null) return ApiProblems.NotFound("Invite not found.");
        db.Invites.Remove(invite);
        await db.SaveChangesAsync(ct);
        return Results.Ok(InviteRead.Of(invite));
    }

    /// <summary>The caller joins the invite's organization (or gains its grants) and makes it its active one.</summary>
    private static async Task<IResult> Accept(AcceptInviteRequest body, HttpContext http, OrgsDbContext db, TimeProvider time, CancellationToken ct)
    {
        if (!Access.TryUser(http.GetPrincipal(), out var userId, out var problem)) return problem;
        if (string.IsNullOrWhiteSpace(body.Token)) return ApiProblems.Validation("token", "is required");
        var now = time.GetUtcNow().UtcDateTime;
        var unknown = ApiProblems.NotFound("No pending invite has this token.", "unknown_invite");
        var invite = body.Token.Length > Secrets.MaxPresentedLength ? null : await InviteAcceptance.FindByTokenAsync(db, body.Token.Trim(), ct);
        if (invite is null || invite.AcceptedAt is not null) return unknown;
        if (invite.ExpiresAt <= now) return ApiProblems.Status(StatusCodes.Status410Gone, "This invite has expired: ask for a new one.", ExpiredCode);
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == userId, ct);
        if (user is null) return ApiProblems.NotFound("Your user no longer exists.");
        if (user.NormalizedEmail is { } email && email != invite.InvitedEmail)
            return ApiProblems.Forbidden("This invite was sent to another email address.", "invite_email_mismatch");

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var member = await InviteAcceptance.ApplyAsync(db, invite, userId, now, ct);
        if (member is null) return unknown;
        await db.Users.Where(u => u.Id == userId).ExecuteUpdateAsync(s => s
            .SetProperty(u => u.ActiveOrganizationId, invite.OrganizationId).SetProperty(u => u.UpdatedAt, now), ct);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return Results.Ok(MemberRead.Of(member, user, withAccess: true));
    }
}
