using System.Net;
using MissionControl.LocalServers;

namespace MissionControl.EndToEnd.Tests;

/// <summary>
/// Starts services as real processes from their built dlls, configured as the AppHost does
/// (Aspire's variable names), each on a free loopback port with its log in a temp dir.
/// </summary>
public sealed class SystemProcesses : IAsyncDisposable
{
    private readonly List<LocalProcess> _processes = [];
    private readonly Dictionary<string, (string Project, IReadOnlyDictionary<string, string?> Environment, int Port)> _started = [];
    public string WorkDir { get; } = Directory.CreateTempSubdirectory("mc-e2e-").FullName;

    public static string DllPath(string project)
    {
        // Tests run from artifacts/bin/<test project>/<configuration>/; the services sit beside it.
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/')).Name;
        var bin = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", ".."));
        var dll = Path.Combine(bin, project, configuration, project + ".dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"{project} is not built (looked for {dll})");
    }

    public Task<string> StartAsync(string name, string project, IReadOnlyDictionary<string, string?> environment, bool requireHealthy = true) =>
        StartAsync(name, project, environment, FreePort.Next(), requireHealthy);

    /// <summary>Starts a killed process again, as it was (same port, settings and data).</summary>
    public Task<string> RestartAsync(string name)
    {
        var (project, environment, port) = _started[name];
        return StartAsync(name, project, environment, port, requireHealthy: true);
    }

    private async Task<string> StartAsync(string name, string project, IReadOnlyDictionary<string, string?> environment, int port, bool requireHealthy)
    {
        _started[name] = (project, environment, port);
        var url = $"http://127.0.0.1:{port}";
        var env = new Dictionary<string, string?>(environment)
        {
            ["ASPNETCORE_URLS"] = url,
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["OTEL_SERVICE_NAME"] = name,
        };
        var process = LocalProcess.Start(new LocalProcessStartInfo(name, "dotnet", [DllPath(project)], Path.Combine(WorkDir, name + ".log"))
        {
            AppendLog = true, // a restarted process continues its log
            Environment = env,
            WorkingDirectory = WorkDir,
        });
        _processes.Add(process);
        await WaitAsync(process, url + (requireHealthy ? "/health" : "/alive"));
        return url;
    }

    private static async Task WaitAsync(LocalProcess process, string url)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
                throw new InvalidOperationException($"{process} exited ({await process.Exited}):\n{string.Join("\n", process.TailLog(30))}");
            try
            {
                if ((await http.GetAsync(url)).StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(100);
        }
        throw new TimeoutException($"{process} not healthy at {url} after 60 s:\n{string.Join("\n", process.TailLog(30))}");
    }

    /// <summary>SIGKILL: the process gets no chance to finish anything.</summary>
    public async Task KillAsync(string name)
    {
        var process = _processes.Single(p => p.Name == name && !p.HasExited);
        await process.StopAsync(TimeSpan.Zero, ProcessTree.SIGKILL);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in Enumerable.Reverse(_processes)) await process.DisposeAsync();
        try { Directory.Delete(WorkDir, recursive: true); } catch (IOException) { }
    }
}
