using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace MissionControl.Tasks.Domain;

/// <summary>A custom field definition bound to a board, as the rules need it.</summary>
public sealed record FieldDefinition(Guid Id, string Key, string Type, string? ValidationRegex, bool Required, JsonElement? DefaultValue);

/// <summary>Custom field values against the organization's definitions bound to the board.</summary>
public static class CustomFieldRules
{
    public const string InvalidCode = "custom_field_invalid";
    private static readonly TimeSpan RegexTimeout = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Field errors of setting <paramref name="changes"/> (a JSON null clears a value) on a task whose
    /// stored values are <paramref name="stored"/>: unknown keys, wrong types, regex mismatches, and
    /// required fields left without a value (a default counts as a value).
    /// </summary>
    public static Dictionary<string, string[]> Validate(
        IReadOnlyDictionary<string, JsonElement> changes, IReadOnlyDictionary<string, JsonElement> stored,
        IReadOnlyList<FieldDefinition> definitions)
    {
        var errors = new Dictionary<string, string[]>();
        var byKey = definitions.ToDictionary(d => d.Key);
        foreach (var (key, value) in changes)
        {
            if (!byKey.TryGetValue(key, out var definition)) errors[key] = ["is not a custom field of this board"];
            else if (value.ValueKind != JsonValueKind.Null && ValueError(definition, value) is { } error) errors[key] = [error];
        }
        foreach (var definition in definitions.Where(d => d.Required))
        {
            var value = changes.TryGetValue(definition.Key, out var changed) ? changed
                : stored.TryGetValue(definition.Key, out var kept) ? kept : (JsonElement?)null;
            if (IsNull(value) && IsNull(definition.DefaultValue) && !errors.ContainsKey(definition.Key))
                errors[definition.Key] = ["is required"];
        }
        return errors;
    }

    /// <summary>The values a read shows: every bound field, its stored value or else its default (or null).</summary>
    public static Dictionary<string, JsonElement> Effective(IReadOnlyDictionary<string, JsonElement> stored, IReadOnlyList<FieldDefinition> definitions)
    {
        var values = new Dictionary<string, JsonElement>(definitions.Count);
        foreach (var d in definitions)
            values[d.Key] = stored.TryGetValue(d.Key, out var v) ? v : d.DefaultValue ?? Null;
        return values;
    }

    private static readonly JsonElement Null = JsonDocument.Parse("null").RootElement.Clone();

    private static bool IsNull(JsonElement? value) => value is null || value.Value.ValueKind == JsonValueKind.Null;

    private static string? ValueError(FieldDefinition definition, JsonElement value)
    {
        var typeError = definition.Type switch
        {
            "text" or "text_long" => value.ValueKind == JsonValueKind.String ? null : "must be a string",
            "integer" => value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out _) ? null : "must be an integer",
            "decimal" => value.ValueKind == JsonValueKind.Number ? null : "must be a number",
            "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False ? null : "must be true or false",
            "date" => value.ValueKind == JsonValueKind.String
                      && DateOnly.TryParseExact(value.GetString(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _)
                ? null : "must be a date (YYYY-MM-DD)",
            "date_time" => value.ValueKind == JsonValueKind.String
                           && DateTimeOffset.TryParse(value.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _)
                ? null : "must be an ISO 8601 date and time",
            "url" => value.ValueKind == JsonValueKind.String && Uri.TryCreate(value.GetString(), UriKind.Absolute, out var uri)
                     && uri.Scheme is "http" or "https"
                ? null : "must be an absolute http(s) URL",
            "json" => null,
            _ => null,
        };
        if (typeError is not null) return typeError;
        if (definition.ValidationRegex is { Length: > 0 } pattern && value.ValueKind == JsonValueKind.String
            && definition.Type is "text" or "text_long" or "url")
        {
            try
            {
                if (!Regex.IsMatch(value.GetString()!, pattern, RegexOptions.None, RegexTimeout))
                    return $"does not match the pattern {pattern}";
            }
            catch (Exception e) when (e is RegexMatchTimeoutException or ArgumentException)
            {
                return "could not be checked against the field's pattern";
            }
        }
        return null;
    }
}
