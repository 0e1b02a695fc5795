namespace MissionControl.LocalServers;

/// <summary>How to start one local server.</summary>
/// <param name="WorkDir">Directory the server owns: its data, config, sockets and (by default) its log.</param>
public sealed record LocalServerOptions(string WorkDir)
{
    /// <summary>Port to listen on (127.0.0.1). Null: a free port, retried on a new one if it is lost to a race.</summary>
    public int? Port { get; init; }

    /// <summary>Where the server's stdout/stderr goes. Null: a file in <see cref="WorkDir"/>.</summary>
    public string? LogPath { get; init; }

    /// <summary>Progress lines ("rabbitmq: starting …"), for a console or a test output helper.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>
    /// Called with the pid of the server's main process right after it is launched, before it is ready
    /// (the AppHost keeps a booting broker on a CPU of its own: BootAffinity).
    /// </summary>
    public Action<int>? Launched { get; init; }

    /// <summary>How long to wait for the server to accept connections.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(90);
}
