using Microsoft.EntityFrameworkCore;
using MissionControl.EventLog;
using MissionControl.InternalAuth;

namespace MissionControl.Metrics.EventLog;

public static class EventLogQueries
{
    /// <summary>The events <paramref name="principal"/> may see (the SQL form of <see cref="EventAudiences.CanSee(McPrincipal, LoggedEvent)"/>).</summary>
    public static IQueryable<LogEntry> VisibleTo(this IQueryable<LogEntry> events, McPrincipal principal)
    {
        var org = principal.OrganizationId ?? Guid.Empty;
        events = events.Where(e => e.OrganizationId == org && e.Audience != EventAudiences.Internal);
        if (principal.Kind == PrincipalKind.Agent)
        {
            var board = principal.AgentBoardId ?? Guid.Empty;
            return events.Where(e => e.Audience == EventAudiences.Board && e.BoardId == board);
        }
        if (principal.Kind != PrincipalKind.User) return events.Where(_ => false);
        if (principal.IsOrgAdmin) return events;
        if (principal.AllBoardsRead || principal.AllBoardsWrite)
            return events.Where(e => e.Audience != EventAudiences.Admins);
        var boards = principal.Boards.Where(b => b.CanRead || b.CanWrite).Select(b => (Guid?)b.BoardId).ToList();
        return events.Where(e => e.Audience == EventAudiences.Organization || e.Audience == EventAudiences.Board && boards.Contains(e.BoardId));
    }

    /// <summary>The position just before the first event logged at or after <paramref name="since"/>.</summary>
    public static async Task<long> SeqBeforeAsync(this IQueryable<LogEntry> events, DateTime since, CancellationToken ct)
    {
        var first = await events.Where(e => e.LoggedAt >= since).OrderBy(e => e.Seq).Select(e => (long?)e.Seq).FirstOrDefaultAsync(ct);
        if (first is { } seq) return seq - 1;
        return await events.MaxAsync(e => (long?)e.Seq, ct) ?? 0;
    }
}
