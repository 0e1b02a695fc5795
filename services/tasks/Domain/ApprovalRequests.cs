using System.Text.Json;
using System.Text.Json.Nodes;

namespace MissionControl.Tasks.Domain;

/// <summary>How an approval request names its tasks and its reasoning (reference §3.8).</summary>
public static class ApprovalRequests
{
    private static readonly string[] SingleKeys = ["task_id", "taskId", "taskID"];
    private static readonly string[] ListKeys = ["task_ids", "taskIds", "taskIDs"];

    /// <summary>task_ids, then task_id, then the payload's task keys: de-duplicated in order; the first is the primary task.</summary>
    public static List<Guid> TaskIds(IEnumerable<Guid>? taskIds, Guid? taskId, JsonObject? payload)
    {
        var ids = new List<Guid>();
        if (taskIds is not null) ids.AddRange(taskIds);
        if (taskId is { } single) ids.Add(single);
        if (payload is not null)
        {
            foreach (var key in SingleKeys)
                if (AsGuid(payload[key]) is { } id) ids.Add(id);
            foreach (var key in ListKeys)
                if (payload[key] is JsonArray array)
                    ids.AddRange(array.Select(AsGuid).OfType<Guid>());
        }
        return ids.Distinct().ToList();
    }

    /// <summary>
    /// The payload with its reasoning: payload.reason or payload.decision.reason must be non-blank,
    /// else lead_reasoning is copied into payload.reason; null when there is no reasoning at all.
    /// </summary>
    public static JsonObject? WithReasoning(JsonObject? payload, string? leadReasoning)
    {
        payload ??= new JsonObject();
        if (IsNonBlank(payload["reason"]) || (payload["decision"] is JsonObject decision && IsNonBlank(decision["reason"]))) return payload;
        if (string.IsNullOrWhiteSpace(leadReasoning)) return null;
        payload["reason"] = leadReasoning.Trim();
        return payload;
    }

    private static bool IsNonBlank(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String && !string.IsNullOrWhiteSpace(value.GetValue<string>());

    private static Guid? AsGuid(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String && Guid.TryParse(value.GetValue<string>(), out var id) ? id : null;
}
