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

    /// <summary>Waits after each failed callback attempt ("1s,5s,30s,5m" or "00:00:01,00:00:05"); after the last, the delivery fails.</summary>
    public string CallbackRetrySchedule { get; set; } = "00:00:01,00:00:05,00:00:30,00:05:00,00:30:00";

    /// <summary>Hosts or addresses callbacks may reach although private, loopback or local (comma-separated), like Webhooks:AllowedHosts.</summary>
    public string CallbackAllowedHosts { get; set; } = "";

    /// <summary>Per callback attempt, redirects included.</summary>
    public TimeSpan CallbackTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often the callback sender looks for due deliveries (it is also woken by new ones).</summary>
    public TimeSpan CallbackPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Finished callback deliveries (delivered, failed, cancelled) are deleted this many days after they were queued.</summary>
    public int CallbackRetentionDays { get; set; } = 30;
}
