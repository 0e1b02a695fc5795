using System.Text.Json;

namespace MissionControl.Orgs.Apis;

/// <summary>Free JSON values (success metrics, default values) are stored as their JSON text.</summary>
public static class JsonText
{
    public static string? From(JsonElement? value) =>
        value is { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) } v ? v.GetRawText() : null;

    public static JsonElement? Parse(string? text)
    {
        if (text is null) return null;
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }
}
