namespace MissionControl.Tasks;

/// <summary>Settings under "Tasks".</summary>
public sealed class TasksOptions
{
    /// <summary>The public address agents and webhook senders reach Mission Control at (quoted in messages and webhook URLs).</summary>
    public string PublicBaseUrl { get; set; } = "http://localhost:4000";

    /// <summary>
    /// How long a group commit of new tasks waits for more of them when the one before it held several
    /// (see <see cref="Data.TaskWriter"/>); zero turns the wait off.
    /// </summary>
    public TimeSpan CommitLinger { get; set; } = TimeSpan.FromMilliseconds(1);
}
