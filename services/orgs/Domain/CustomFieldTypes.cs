using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace MissionControl.Orgs.Domain;

/// <summary>Custom field types (with the names people type for them), visibilities, and value checks.</summary>
public static class CustomFieldTypes
{
    public const string Text = "text", TextLong = "text_long", Integer = "integer", Decimal = "decimal", Boolean = "boolean",
        Date = "date", DateTime = "date_time", Url = "url", Json = "json";

    public static readonly string[] All = [Text, TextLong, Integer, Decimal, Boolean, Date, DateTime, Url, Json];
    public static readonly string[] Visibilities = ["always", "if_set", "hidden"];

    private static readonly TimeSpan RegexTimeout = TimeSpan.FromMilliseconds(100);

    private static readonly Dictionary<string, string> Aliases = new()
    {
        ["string"] = Text, ["short_text"] = Text, ["text_short"] = Text,
        ["long_text"] = TextLong, ["textarea"] = TextLong, ["multiline"] = TextLong,
        ["int"] = Integer, ["whole_number"] = Integer,
        ["number"] = Decimal, ["numeric"] = Decimal, ["float"] = Decimal, ["double"] = Decimal,
        ["bool"] = Boolean, ["true_false"] = Boolean, ["yes_no"] = Boolean, ["checkbox"] = Boolean,
        ["datetime"] = DateTime, ["timestamp"] = DateTime,
        ["link"] = Url, ["uri"] = Url,
        ["object"] = Json,
    };

    /// <summary>"Text (long)" → text_long, "true/false" → boolean, "Date & time" → date_time; null when unknown.</summary>
    public static string? Normalize(string? type)
    {
        if (string.IsNullOrWhiteSpace(type)) return null;
        var sb = new StringBuilder(type.Length);
        foreach (var c in type.Trim().ToLowerInvariant())
        {
            if (char.IsAsciiLetterOrDigit(c)) sb.Append(c);
            else if (sb.Length > 0 && sb[^1] != '_') sb.Append('_');
        }
        var key = sb.ToString().Trim('_');
        return All.Contains(key) ? key : Aliases.GetValueOrDefault(key);
    }

    /// <summary>Types whose values are strings, the only ones a validation_regex applies to.</summary>
    public static bool IsStringType(string type) => type is Text or TextLong or Url;

    /// <summary>The compiled pattern, or null with the reason it does not compile.</summary>
    public static Regex? CompileRegex(string pattern, out string? error)
    {
        try
        {
            error = null;
            return new Regex(pattern, RegexOptions.CultureInvariant, RegexTimeout);
        }
        catch (ArgumentException e)
        {
            error = $"is not a valid regular expression: {e.Message}";
            return null;
        }
    }

    /// <summary>Why <paramref name="value"/> is not a value of <paramref name="type"/>, or null when it is.</summary>
    public static string? CheckValue(string type, JsonElement value, Regex? pattern = null)
    {
        if (value.ValueKind == JsonValueKind.Null) return null;
        var error = type switch
        {
            Text or TextLong => value.ValueKind == JsonValueKind.String ? null : "must be a string",
            Integer => value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out _) ? null : "must be an integer",
            Decimal => value.ValueKind == JsonValueKind.Number ? null : "must be a number",
            Boolean => value.ValueKind is JsonValueKind.True or JsonValueKind.False ? null : "must be true or false",
            Date => value.ValueKind == JsonValueKind.String &&
                    DateOnly.TryParseExact(value.GetString(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _)
                ? null : "must be a date (YYYY-MM-DD)",
            DateTime => value.ValueKind == JsonValueKind.String &&
                        DateTimeOffset.TryParse(value.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out _)
                ? null : "must be an ISO 8601 date and time",
            Url => value.ValueKind == JsonValueKind.String && Uri.TryCreate(value.GetString(), UriKind.Absolute, out var uri) &&
                   uri.Scheme is "http" or "https"
                ? null : "must be an absolute http(s) URL",
            _ => null,
        };
        if (error is not null || pattern is null || !IsStringType(type)) return error;
        try
        {
            return pattern.IsMatch(value.GetString()!) ? null : $"must match {pattern}";
        }
        catch (RegexMatchTimeoutException)
        {
            return "could not be checked against the validation regex in time";
        }
    }
}
