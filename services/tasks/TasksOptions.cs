namespace MissionControl.Tasks;

/// <summary>Settings under "Tasks".</summary>
public sealed class TasksOptions
{
    /// <summary>The public address agents and webhook senders reach Mission Control at (quoted in messages and webhook URLs).</summary>
    public string PublicBaseUrl { get; set; } = "http://localhost:4000";

    /// <summary>
    /// How long a group commit of new tasks waits for more of them when the one before it held several
    /// (see <see cref="Data.TaskWriter"/>); zero turns the wait off. Timers count whole milliseconds, so
    /// 1 ms is the shortest wait: 0.5 ms would not wait at all (measured: an average wait of 10 µs). The
    /// timer fires on a later tick and its continuation waits for a core, so 1 ms waits about 2 ms under
    /// load (1.8–2.4 ms on average at concurrency 16).
    /// </summary>
    public TimeSpan CommitLinger { get; set; } = TimeSpan.FromMilliseconds(1);

    public const string CommitLingerRule = "Tasks:CommitLinger must be 0 (no wait) or at least 1 ms: timers count whole milliseconds, so a shorter wait would not wait at all.";

    /// <summary>False for a linger a timer cannot wait (negative, or between zero and 1 ms).</summary>
    public bool HasValidCommitLinger() => CommitLinger == TimeSpan.Zero || CommitLinger >= TimeSpan.FromMilliseconds(1);

    /// <summary>The "Tasks" section, checked when the service starts (a bad value stops it with <see cref="CommitLingerRule"/>).</summary>
    public static IServiceCollection AddTasksOptions(IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<TasksOptions>().Bind(configuration.GetSection("Tasks"))
            .Validate(o => o.HasValidCommitLinger(), CommitLingerRule).ValidateOnStart();
        return services;
    }
}
