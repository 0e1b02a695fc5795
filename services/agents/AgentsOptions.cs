namespace MissionControl.Agents;

/// <summary>Settings under "Agents".</summary>
public sealed class AgentsOptions
{
    /// <summary>How long one provisioning request waits for the gateway-bridge's answer.</summary>
    public TimeSpan ProvisionTimeout { get; set; } = TimeSpan.FromSeconds(90);

    /// <summary>Requests per run (the first one included) before the run is marked provision_failed.</summary>
    public int ProvisionAttempts { get; set; } = 3;

    /// <summary>Wait before the first retry of a run; doubled for each further one, at most <see cref="ProvisionRetryMaxDelay"/>.</summary>
    public TimeSpan ProvisionRetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan ProvisionRetryMaxDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often the sweeper looks for missed deadlines, due retries and agents gone offline.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>An agent not seen for this long is offline, unless its heartbeat_config says otherwise (missing_tolerance).</summary>
    public TimeSpan OfflineAfter { get; set; } = TimeSpan.FromMinutes(10);
}
