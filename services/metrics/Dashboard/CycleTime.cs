namespace MissionControl.Metrics.Dashboard;

/// <summary>A task's status transition (From is null for its creation).</summary>
public readonly record struct Transition(string? From, string To, DateTime At);

/// <summary>
/// Cycle time: from the task's entry into in_progress (the first one after it last left the inbox) to
/// its arrival in done. Reworking a task (done or review back to in_progress) keeps its start; sending
/// it back to the inbox starts it over. A task that reaches done without passing in_progress since it
/// last left the inbox has no cycle time.
/// </summary>
public static class CycleTime
{
    /// <summary>When the work that ended at history[doneIndex] (a transition into done) started, or null.</summary>
    public static DateTime? StartOf(IReadOnlyList<Transition> history, int doneIndex)
    {
        var from = 0;
        for (var i = doneIndex; i >= 0; i--)
            if (history[i].From == TaskStatuses.Inbox)
            {
                from = i;
                break;
            }
        for (var i = from; i < doneIndex; i++)
            if (history[i].To == TaskStatuses.InProgress) return history[i].At;
        return null;
    }

    /// <summary>Hours from the start to the done transition at <paramref name="doneIndex"/>, or null.</summary>
    public static double? Hours(IReadOnlyList<Transition> history, int doneIndex) =>
        StartOf(history, doneIndex) is { } start ? (history[doneIndex].At - start).TotalHours : null;

    /// <summary>The median (PostgreSQL percentile_cont(0.5)): the middle value, or the mean of the two middle ones.</summary>
    public static double? Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        if (sorted.Count == 0) return null;
        var mid = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}

public static class TaskStatuses
{
    public const string Inbox = "inbox";
    public const string InProgress = "in_progress";
    public const string Review = "review";
    public const string Done = "done";
}
