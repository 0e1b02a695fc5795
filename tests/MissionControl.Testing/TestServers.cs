using MissionControl.LocalServers;

namespace MissionControl.Testing;

/// <summary>What the fixtures share: private temp dirs and a process-exit backstop.</summary>
internal static class TestServers
{
    /// <summary>
    /// A fresh directory under /tmp, unique per process and call, so test assemblies that run in
    /// parallel (each with its own servers) never share a data dir, node name or port.
    /// </summary>
    public static string CreateWorkDir(string kind)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"mc-test-{kind}-{Environment.ProcessId}-{Guid.NewGuid():N}"[..48]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static void DeleteWorkDir(string? dir)
    {
        try
        {
            if (dir is not null && Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: a leftover temp dir is harmless.
        }
    }

    /// <summary>
    /// Stops <paramref name="server"/> at process exit if the fixture was never disposed (a crashed or
    /// aborted run). LocalProcess has its own backstop too; this one also removes the temp dir.
    /// </summary>
    public static Action RegisterBackstop(IAsyncDisposable server, string? workDir)
    {
        var done = 0;
        void Stop()
        {
            if (Interlocked.Exchange(ref done, 1) == 0)
            {
                server.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(20));
                DeleteWorkDir(workDir);
            }
        }
        void OnExit(object? sender, EventArgs e) => Stop();
        AppDomain.CurrentDomain.ProcessExit += OnExit;
        return () =>
        {
            AppDomain.CurrentDomain.ProcessExit -= OnExit;
            Stop();
        };
    }

    public static string? Env(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;

    public static string Install(string what, string envName, string apt) =>
        $"No {what} for the tests. Do one of: set {envName} to an existing server; start a Docker engine (Testcontainers); " +
        $"or install it locally: `apt-get install -y {apt}` (or run scripts/install-prereqs.sh).";
}
