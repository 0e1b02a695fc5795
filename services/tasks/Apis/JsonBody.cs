using System.Text.Json;
using System.Text.Json.Nodes;

namespace MissionControl.Tasks.Apis;

/// <summary>
/// A PATCH body where presence matters (only present keys change anything, and an explicit null
/// means "clear"): read as a JSON object, each field typed on demand, type errors collected.
/// </summary>
public sealed class JsonBody
{
    private readonly JsonObject _json;

    private JsonBody(JsonObject json) => _json = json;

    public Dictionary<string, string[]> Errors { get; } = [];

    /// <summary>Malformed JSON or a body that is not an object is the caller's fault: 400.</summary>
    public static async Task<JsonBody> ReadAsync(HttpRequest request, CancellationToken ct) =>
        new(await JsonRequests.ReadObjectAsync(request, ct));

    public bool Has(string name) => _json.ContainsKey(name);

    /// <summary>The whole object, as sent.</summary>
    public JsonObject Clone() => (JsonObject)_json.DeepClone();

    public IReadOnlySet<string> Present(IEnumerable<string> known) => known.Where(Has).ToHashSet();

    /// <summary>The field's value (default when absent or null); a value of the wrong type is a field error.</summary>
    public T? Get<T>(string name)
    {
        if (!_json.TryGetPropertyValue(name, out var node) || node is null) return default;
        try
        {
            return node.Deserialize<T>(JsonDefaults.Api);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            Errors[name] = ["has the wrong type"];
            return default;
        }
    }
}
