using System.Text.Json;
using System.Text.Json.Nodes;

namespace MissionControl.Agents.Operations;

/// <summary>POST /api/v1/agents (reference AgentCreate; status is accepted and ignored: heartbeats own it).</summary>
public sealed record AgentCreateRequest(
    string? Name, Guid? BoardId = null, string? Status = null, JsonElement? HeartbeatConfig = null, JsonElement? IdentityProfile = null,
    string? IdentityTemplate = null, string? SoulTemplate = null, bool? IsBoardLead = null);

public sealed record HeartbeatRequest(string? Status = null);

public sealed record NamedHeartbeatRequest(string? Name, Guid? BoardId = null, string? Status = null);

public sealed record NudgeRequest(string? Message);

public sealed record SoulUpdateRequest(string? Content, string? SourceUrl = null, string? Reason = null);

/// <summary>Checks and normalizations of agent fields.</summary>
public static class AgentInput
{
    public const int MaxTemplate = 64_000;
    public const int MaxStatus = 32;

    /// <summary>heartbeat_config: a JSON object (stored as sent) or null.</summary>
    public static bool TryObject(JsonElement? value, out string? json)
    {
        json = null;
        if (value is not { } v || v.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined) return true;
        if (v.ValueKind != JsonValueKind.Object) return false;
        json = v.GetRawText();
        return true;
    }

    /// <summary>identity_profile: a JSON object normalized to {str: str} (nulls dropped, other values as JSON text), or null.</summary>
    public static bool TryProfile(JsonElement? value, out string? json)
    {
        json = null;
        if (value is not { } v || v.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined) return true;
        if (v.ValueKind != JsonValueKind.Object) return false;
        var normalized = new JsonObject();
        foreach (var p in v.EnumerateObject())
            if (p.Value.ValueKind != JsonValueKind.Null)
                normalized[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : p.Value.GetRawText();
        json = normalized.ToJsonString();
        return true;
    }

    public static string? CheckTemplate(string? template) =>
        template is { Length: > MaxTemplate } ? $"must be at most {MaxTemplate} characters" : null;

    /// <summary>A status an agent may report: short, and not one of the lifecycle states Mission Control sets.</summary>
    public static string? CheckReportedStatus(string? status) =>
        status is null ? null
        : string.IsNullOrWhiteSpace(status) || status.Length > MaxStatus ? $"must be 1 to {MaxStatus} characters"
        : Domain.AgentStatus.IsLifecycle(status) || status == Domain.AgentStatus.Ready ? "is set by Mission Control, not by heartbeats"
        : null;

    public const int MaxCapabilities = 50;
    public const int MaxCapability = 100;

    /// <summary>capabilities[]: up to 50 non-blank strings of at most 100 characters; stored trimmed, duplicates dropped.</summary>
    public static string? CheckCapabilities(IReadOnlyList<string?>? capabilities, out string? json)
    {
        json = null;
        if (capabilities is null) return null;
        if (capabilities.Count > MaxCapabilities) return $"must have at most {MaxCapabilities} entries";
        if (capabilities.Any(c => string.IsNullOrWhiteSpace(c) || c.Trim().Length > MaxCapability)) return $"entries must be 1 to {MaxCapability} characters";
        json = JsonSerializer.Serialize(capabilities.Select(c => c!.Trim()).Distinct().ToList());
        return null;
    }

    public static IReadOnlyList<string> ReadCapabilities(string? json) =>
        json is null ? [] : JsonSerializer.Deserialize<List<string>>(json) ?? [];

    public static string? CheckRole(string? role) => role is { Length: > 100 } ? "must be at most 100 characters" : null;

    /// <summary>callbackUrl: an absolute http(s) URL the address guard lets through (checked again, after DNS, at every send).</summary>
    public static string? CheckCallbackUrl(string? url, MissionControl.Outbound.AddressGuard guard) =>
        url is null ? null
        : url.Length > 2048 ? "must be at most 2048 characters"
        : !Uri.TryCreate(url, UriKind.Absolute, out var uri) ? "must be an absolute http or https URL"
        : guard.CheckUrl(uri);

    /// <summary>Same JSON text ignoring formatting (PATCH detects effective changes).</summary>
    public static bool SameJson(string? a, string? b)
    {
        if (a is null || b is null) return a == b;
        return JsonNode.DeepEquals(JsonNode.Parse(a), JsonNode.Parse(b));
    }
}
