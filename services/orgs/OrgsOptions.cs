namespace MissionControl.Orgs;

/// <summary>The "Orgs" configuration section.</summary>
public sealed class OrgsOptions
{
    /// <summary>How long an invite can be accepted (Orgs:InviteLifetime, e.g. "7.00:00:00").</summary>
    public TimeSpan InviteLifetime { get; set; } = TimeSpan.FromDays(7);
}
