using System.Text.Json;

namespace MissionControl.Agents.Domain;

/// <summary>
/// Agent statuses. The stored status is the lifecycle (provisioning, updating, provision_failed, ready)
/// or what the agent's last heartbeat said; online/offline are computed on read from last_seen_at
/// (reference §5.7), so nobody has to write "offline".
/// </summary>
public static class AgentStatus
{
    public const string Provisioning = "provisioning";
    public const string Updating = "updating";
    public const string ProvisionFailed = "provision_failed";
    public const string Ready = "ready";
    public const string Online = "online";
    public const string Offline = "offline";

    /// <summary>A run is in flight: the bridge's answer decides what comes next, not heartbeats.</summary>
    public static bool IsRunning(string stored) => stored is Provisioning or Updating;

    /// <summary>Lifecycle states a heartbeat does not overwrite.</summary>
    public static bool IsLifecycle(string stored) => stored is Provisioning or Updating or ProvisionFailed;

    public static string Compute(string stored, DateTime? lastSeenAt, TimeSpan offlineAfter, DateTime now)
    {
        if (IsLifecycle(stored)) return stored;
        if (lastSeenAt is not { } seen) return stored;
        if (now - seen > offlineAfter) return Offline;
        return stored == Ready ? Online : stored;
    }

    /// <summary>
    /// How long the agent may stay silent: heartbeat_config.missing_tolerance (seconds) when given, else
    /// the service default (10 minutes, the reference's OFFLINE_AFTER).
    /// </summary>
    public static TimeSpan OfflineAfter(string? heartbeatConfig, TimeSpan fallback)
    {
        if (string.IsNullOrEmpty(heartbeatConfig)) return fallback;
        try
        {
            using var doc = JsonDocument.Parse(heartbeatConfig);
            if (doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("missing_tolerance", out var t)
                && t.ValueKind == JsonValueKind.Number && t.TryGetDouble(out var seconds) && seconds > 0)
                return TimeSpan.FromSeconds(Math.Min(seconds, TimeSpan.FromDays(30).TotalSeconds));
        }
        catch (JsonException)
        {
        }
        return fallback;
    }

    /// <summary>The gateway heartbeat cadence an agent gets when it brings none (reference §5.7).</summary>
    public const string DefaultHeartbeatConfig = """{"every":"10m","target":"last","includeReasoning":false}""";
}
