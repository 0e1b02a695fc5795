using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts;
using MissionControl.Contracts.Agents;
using MissionControl.Contracts.Orgs;
using MissionControl.Metrics.Data;
using MissionControl.Metrics.EventLog;

namespace MissionControl.Metrics.Tokens;

/// <summary>
/// One report of tokens used (a TokenUsageReported event, from the gateway bridge or the API). Cost is
/// not stored: it is priced on read from the current price table, so a corrected price corrects history.
/// </summary>
public sealed class TokenUsageRecord
{
    /// <summary>The event's message id.</summary>
    public Guid Id { get; set; }
    public long Seq { get; set; }
    public Guid OrganizationId { get; set; }
    public Guid? AgentId { get; set; }
    public Guid? BoardId { get; set; }
    public Guid? TaskId { get; set; }
    public Guid? GatewayId { get; set; }
    public required string Model { get; set; }
    public long InputTokens { get; set; }
    public long OutputTokens { get; set; }
    /// <summary>gateway | api</summary>
    public required string Source { get; set; }
    public string? RunId { get; set; }
    public DateTime OccurredAt { get; set; }
    /// <summary>The UTC day of OccurredAt (group_by=day without date functions in SQL).</summary>
    public DateTime Day { get; set; }

    public static void Configure(ModelBuilder model) => model.Entity<TokenUsageRecord>(e =>
    {
        e.ToTable("token_usage");
        e.Property(x => x.Id).ValueGeneratedNever();
        e.Property(x => x.Model).HasMaxLength(TokenUsageProjection.MaxModelLength);
        e.Property(x => x.Source).HasMaxLength(16);
        e.Property(x => x.RunId).HasMaxLength(200);
        e.HasIndex(x => new { x.OrganizationId, x.OccurredAt });
        // Every read is within an organization: led by it, a board's or an agent's usage is one range of
        // these, where SQLite took the organization's index and checked the board or agent row by row.
        e.HasIndex(x => new { x.OrganizationId, x.BoardId, x.OccurredAt });
        e.HasIndex(x => new { x.OrganizationId, x.AgentId, x.OccurredAt });
        e.HasIndex(x => x.TaskId);
    });
}

/// <summary>Keeps every logged TokenUsageReported as a row of token_usage.</summary>
public sealed class TokenUsageProjection : ILogProjection
{
    public const int MaxModelLength = 200;

    public async Task ApplyAsync(MetricsDbContext db, IIntegrationEvent message, LogEntry entry, CancellationToken ct)
    {
        switch (message)
        {
            case TokenUsageReported m:
                db.TokenUsage.Add(FromEvent(m, entry.EventId, entry.Seq));
                break;
            case OrganizationDeleted m:
                await db.TokenUsage.Where(u => u.OrganizationId == m.OrganizationId).ExecuteDeleteAsync(ct);
                break;
        }
    }

    public static TokenUsageRecord FromEvent(TokenUsageReported m, Guid id, long seq)
    {
        var at = m.OccurredAt.UtcDateTime;
        var model = m.Model.Trim();
        return new TokenUsageRecord
        {
            Id = id, Seq = seq, OrganizationId = m.OrganizationId, AgentId = m.AgentId, BoardId = m.BoardId, TaskId = m.TaskId, GatewayId = m.GatewayId,
            Model = model.Length > MaxModelLength ? model[..MaxModelLength] : model,
            // A gateway never reports negative usage; if one did, it must not subtract from the totals.
            InputTokens = Math.Max(0, m.InputTokens), OutputTokens = Math.Max(0, m.OutputTokens),
            Source = m.Source.Length > 16 ? m.Source[..16] : m.Source,
            RunId = m.RunId is { Length: > 200 } run ? run[..200] : m.RunId,
            OccurredAt = at, Day = at.Date,
        };
    }
}
