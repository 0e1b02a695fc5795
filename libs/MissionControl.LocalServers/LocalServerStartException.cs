namespace MissionControl.LocalServers;

/// <summary>A server was started but did not come up; the message ends with the tail of its log.</summary>
public sealed class LocalServerStartException(string message, string logPath, bool lostPortRace = false)
    : Exception(message)
{
    public string LogPath { get; } = logPath;

    /// <summary>It exited because its port was taken meanwhile (worth retrying on another port).</summary>
    public bool LostPortRace { get; } = lostPortRace;
}
