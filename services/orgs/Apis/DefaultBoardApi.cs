using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Orgs;
using MissionControl.InternalAuth;
using MissionControl.Messaging;
using MissionControl.Orgs.Data;

namespace MissionControl.Orgs.Apis;

/// <summary>
/// Internal: the organization's default board, created ("Default") on first use. The tasks service asks
/// for it when a task of the /api dialect (seed 000/001) names no board. Idempotent and race-safe: the
/// unique marker lets exactly one creation commit (with its BoardCreated); a loser reads the winner's.
/// </summary>
public static class DefaultBoardApi
{
    public const string Name = "Default";

    public static IEndpointRouteBuilder MapDefaultBoardApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/internal/v1/organizations/{orgId:guid}/default-board", GetOrCreate);
        return app;
    }

    /// <summary>
    /// Services only. The edge never routes /internal/*, and only the edge signs tokens, so a service
    /// calls with the caller's forwarded principal (as tasks asks orgs for boards): a Service principal,
    /// or a user or agent principal of that very organization, is a service acting for its caller.
    /// </summary>
    private static async Task<IResult> GetOrCreate(Guid orgId, HttpContext http, OrgsDbContext db, TimeProvider time, CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        if (principal.Kind is not (PrincipalKind.Service or PrincipalKind.User or PrincipalKind.Agent)
            || (principal.Kind != PrincipalKind.Service && principal.OrganizationId != orgId))
            return ApiProblems.Forbidden("Only Mission Control services ask for an organization's default board.");
        if (await FindAsync(db, orgId, ct) is { } existing) return Results.Ok(BoardRead.Of(existing));
        if (!await db.Organizations.AnyAsync(o => o.Id == orgId, ct)) return ApiProblems.NotFound("Organization not found.");

        var now = time.GetUtcNow().UtcDateTime;
        var board = new Board
        {
            Id = Guid.CreateVersion7(), OrganizationId = orgId, Name = Name, Slug = "default", BoardType = "general",
            Description = "Tasks created through /api/tasks without a board.", DefaultOfOrganizationId = orgId,
            // Seed-dialect agents finish their own tasks (PATCH status done): no approval gate on this board.
            RequireApprovalForDone = false, CreatedAt = now, UpdatedAt = now,
        };
        db.Boards.Add(board);
        db.AddIntegrationEvent(new BoardCreated { OrganizationId = orgId, BoardId = board.Id, Board = BoardsApi.StateOf(board), OccurredAt = now });
        try
        {
            await db.SaveChangesAsync(ct);
            return Results.Created($"/api/v1/boards/{board.Id}", BoardRead.Of(board));
        }
        catch (Exception e) when (e is DbUpdateException or System.Data.Common.DbException)
        {
            // Another first use won the unique marker; its board (and its one BoardCreated) stands.
            db.ChangeTracker.Clear();
            if (await FindAsync(db, orgId, ct) is { } winner) return Results.Ok(BoardRead.Of(winner));
            throw;
        }
    }

    private static Task<Board?> FindAsync(OrgsDbContext db, Guid orgId, CancellationToken ct) =>
        db.Boards.AsNoTracking().FirstOrDefaultAsync(b => b.DefaultOfOrganizationId == orgId, ct);
}
