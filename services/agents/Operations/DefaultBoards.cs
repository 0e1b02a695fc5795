using System.Net;
using System.Net.Http.Headers;
using Microsoft.EntityFrameworkCore;
using MissionControl.Agents.Data;
using MissionControl.Messaging;

namespace MissionControl.Agents.Operations;

/// <summary>
/// The organization's default board, for a POST /api/agents that names none (seed 000 creates agents
/// with a name and capabilities only; its tasks land on the same board). orgs makes it on first use
/// (POST /internal/v1/organizations/{id}/default-board, asked with the caller's forwarded token, as tasks
/// does); its copy is written here at once rather than waiting for BoardCreated.
/// </summary>
public sealed class DefaultBoards(AgentsDbContext db, DatabaseWriteGate gate, HttpClient orgs)
{
    /// <summary>orgs' BoardRead, the part the copy keeps.</summary>
    private sealed record OrgsBoard(Guid Id, Guid OrganizationId, string Name, string? Description, Guid? GatewayId, int MaxAgents, DateTimeOffset UpdatedAt);

    /// <summary>Null when orgs refuses (no such organization for this caller).</summary>
    public async Task<BoardCopy?> GetAsync(Guid organizationId, string callerToken, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/internal/v1/organizations/{organizationId}/default-board");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", callerToken);
        using var response = await orgs.SendAsync(request, ct);
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Forbidden) return null;
        response.EnsureSuccessStatusCode();
        var read = await response.Content.ReadFromJsonAsync<OrgsBoard>(JsonDefaults.Api, ct) ?? throw new InvalidOperationException("orgs answered an empty board");
        if (await db.Boards.AsNoTracking().FirstOrDefaultAsync(b => b.Id == read.Id, ct) is { } copy) return copy;
        var board = new BoardCopy
        {
            Id = read.Id, OrganizationId = read.OrganizationId, Name = read.Name, Description = read.Description ?? "", GatewayId = read.GatewayId,
            MaxAgents = read.MaxAgents, UpdatedAt = read.UpdatedAt.UtcDateTime,
        };
        db.Boards.Add(board);
        try
        {
            using (await gate.EnterAsync(ct))
                await db.SaveChangesAsync(ct);
            return board;
        }
        catch (DbUpdateException)
        {
            // BoardCreated got here meanwhile: its copy stands.
            db.ChangeTracker.Clear();
            return await db.Boards.AsNoTracking().FirstOrDefaultAsync(b => b.Id == read.Id, ct);
        }
    }
}
