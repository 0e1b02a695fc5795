using Microsoft.EntityFrameworkCore;

namespace MissionControl.Metrics.ReadModels;

/// <summary>A board as orgs last announced it (names for feeds and dashboards; groups for group filters).</summary>
public sealed class BoardCopy
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public required string Name { get; set; }
    public Guid? BoardGroupId { get; set; }
}

/// <summary>An agent as the agents service last announced it, and when it was last seen (heartbeat).</summary>
public sealed class AgentCopy
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public Guid? BoardId { get; set; }
    public required string Name { get; set; }
    public bool IsBoardLead { get; set; }
    public DateTime? LastSeenAt { get; set; }
}

/// <summary>A task's current state (title and status) as the log last showed it.</summary>
public sealed class TaskState
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public Guid BoardId { get; set; }
    public required string Title { get; set; }
    public required string Status { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
    public bool Deleted { get; set; }
    /// <summary>When the task was deleted (the event's occurred_at): it leaves the WIP counts from then on.</summary>
    public DateTime? DeletedAt { get; set; }
}

/// <summary>
/// One status transition of a task: From is null for its creation (To is then its first status).
/// At is the event's occurred_at; Seq its log position (orders transitions at the same instant).
/// </summary>
public sealed class TaskStatusChange
{
    public long Seq { get; set; }
    public Guid TaskId { get; set; }
    public Guid OrganizationId { get; set; }
    public Guid BoardId { get; set; }
    public string? FromStatus { get; set; }
    public required string ToStatus { get; set; }
    public DateTime At { get; set; }
}

/// <summary>An approval's current state.</summary>
public sealed class ApprovalCopy
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public Guid BoardId { get; set; }
    public Guid? TaskId { get; set; }
    public required string Status { get; set; }
    public required string ActionType { get; set; }
    public double Confidence { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? ResolvedAt { get; set; }
}

public static class ReadModelsModel
{
    public static void Configure(ModelBuilder model)
    {
        model.Entity<BoardCopy>(e =>
        {
            e.ToTable("board_copies");
            e.Property(x => x.Id).ValueGeneratedNever();
            e.HasIndex(x => new { x.OrganizationId, x.BoardGroupId });
        });
        model.Entity<AgentCopy>(e =>
        {
            e.ToTable("agent_copies");
            e.Property(x => x.Id).ValueGeneratedNever();
            e.HasIndex(x => new { x.OrganizationId, x.BoardId });
        });
        model.Entity<TaskState>(e =>
        {
            e.ToTable("task_states");
            e.Property(x => x.Id).ValueGeneratedNever();
            e.Property(x => x.Status).HasMaxLength(32);
            e.HasIndex(x => new { x.OrganizationId, x.BoardId, x.Status });
            // The deleted tasks only (the dashboard's deletions in its window, and the counts it takes away).
            e.HasIndex(x => new { x.OrganizationId, x.BoardId, x.Status, x.DeletedAt }).HasFilter("deleted_at IS NOT NULL");
            // When each was deleted: the retention's oldest first (DeletedTaskRetention).
            e.HasIndex(x => x.DeletedAt).HasFilter("deleted_at IS NOT NULL");
        });
        model.Entity<TaskStatusChange>(e =>
        {
            e.ToTable("task_status_history");
            e.HasKey(x => x.Seq);
            e.Property(x => x.Seq).ValueGeneratedNever();
            e.Property(x => x.FromStatus).HasMaxLength(32);
            e.Property(x => x.ToStatus).HasMaxLength(32);
            e.HasIndex(x => new { x.TaskId, x.Seq });
            e.HasIndex(x => new { x.OrganizationId, x.BoardId, x.At });
        });
        model.Entity<ApprovalCopy>(e =>
        {
            e.ToTable("approval_states");
            e.Property(x => x.Id).ValueGeneratedNever();
            e.Property(x => x.Status).HasMaxLength(16);
            e.HasIndex(x => new { x.OrganizationId, x.BoardId, x.Status });
        });
    }
}
