using System.Text.Json;

namespace MissionControl.Orgs.Domain;

public static class BoardGoals
{
    public const string Goal = "goal";
    public const string General = "general";
    public static readonly string[] BoardTypes = [Goal, General];

    /// <summary>
    /// A goal board whose goal is confirmed (or that just became a goal board) must say what the goal
    /// is: an objective and success metrics, neither blank nor empty.
    /// </summary>
    public static bool IsGoalIncomplete(string boardType, bool goalConfirmed, bool becameGoal, string? objective, JsonElement? successMetrics) =>
        boardType == Goal && (goalConfirmed || becameGoal) && (string.IsNullOrWhiteSpace(objective) || IsEmpty(successMetrics));

    private static bool IsEmpty(JsonElement? value) => value is not { } v || v.ValueKind switch
    {
        JsonValueKind.Undefined or JsonValueKind.Null => true,
        JsonValueKind.String => string.IsNullOrWhiteSpace(v.GetString()),
        JsonValueKind.Object => !v.EnumerateObject().Any(),
        JsonValueKind.Array => v.GetArrayLength() == 0,
        _ => false,
    };
}
