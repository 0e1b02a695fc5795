using Microsoft.EntityFrameworkCore;
using MissionControl.Agents.Apis;
using MissionControl.Agents.Data;
using MissionControl.InternalAuth;

namespace MissionControl.Agents.Operations;

/// <summary>Which agents a caller can see, and how they read.</summary>
public sealed class AgentReads(AgentsDbContext db, AgentClock clock)
{
    /// <summary>
    /// Users: the agents of the boards they can read, plus their organization's gateway-main agents.
    /// Board agents: their own board's agents. Gateway-main agents: their organization's agents.
    /// Another organization's agents never exist.
    /// </summary>
    public IQueryable<Agent> Visible(McPrincipal principal)
    {
        var none = db.Agents.Where(a => false);
        if (principal.OrganizationId is not { } org) return none;
        var agents = db.Agents.AsNoTracking().Where(a => a.OrganizationId == org);
        switch (principal.Kind)
        {
            case PrincipalKind.User when principal.AllBoardsRead || principal.AllBoardsWrite:
                return agents;
            case PrincipalKind.User:
                var boards = principal.Boards.Where(b => b.CanRead || b.CanWrite).Select(b => b.BoardId).ToList();
                return agents.Where(a => a.BoardId == null || boards.Contains(a.BoardId.Value));
            case PrincipalKind.Agent when principal.Role == AgentRoles.Main:
                return agents;
            case PrincipalKind.Agent when principal.AgentBoardId is { } board:
                return agents.Where(a => a.BoardId == board);
            default:
                return none;
        }
    }

    public async Task<Page<AgentRead>> PageAsync(IQueryable<Agent> query, PageRequest page, CancellationToken ct)
    {
        var total = await query.CountAsync(ct);
        var items = await query.OrderBy(a => a.CreatedAt).ThenBy(a => a.Id).Skip(page.Offset).Take(page.Limit).ToListAsync(ct);
        var now = clock.Now;
        return new Page<AgentRead>(items.Select(a => Read(a, now)).ToList(), total, page.Limit, page.Offset);
    }

    public AgentRead Read(Agent agent, DateTime now) => AgentRead.From(agent, clock.StatusOf(agent, now));

    public AgentRead Read(Agent agent) => Read(agent, clock.Now);
}
