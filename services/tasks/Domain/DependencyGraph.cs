namespace MissionControl.Tasks.Domain;

/// <summary>Task dependencies on one board: a task may not (transitively) depend on itself.</summary>
public static class DependencyGraph
{
    /// <summary>
    /// Whether giving <paramref name="taskId"/> the dependencies <paramref name="newDependsOn"/> closes a
    /// cycle, given the board's other edges (task → the tasks it depends on). A depth-first walk from
    /// the new dependencies: reaching the task again means a cycle.
    /// </summary>
    public static bool CreatesCycle(Guid taskId, IEnumerable<Guid> newDependsOn, ILookup<Guid, Guid> dependsOn)
    {
        var seen = new HashSet<Guid>();
        var stack = new Stack<Guid>(newDependsOn);
        while (stack.Count > 0)
        {
            var current = stack.Pop();
            if (current == taskId) return true;
            if (!seen.Add(current)) continue;
            foreach (var next in dependsOn[current]) stack.Push(next);
        }
        return false;
    }

    /// <summary>Order-preserving de-duplication.</summary>
    public static List<Guid> Distinct(IEnumerable<Guid> ids) => ids.Distinct().ToList();
}
