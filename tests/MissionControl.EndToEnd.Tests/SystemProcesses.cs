using System.Net;
using MissionControl.LocalServers;

namespace MissionControl.EndToEnd.Tests;

/// <summary>
/// Starts services as real processes from their built dlls, configured as the AppHost does
/// (Aspire's variable names), each on a free loopback port with its log in a temp dir.
/// </summary>
public sealed class SystemProcesses : IAsyncDisposable
{
    private static readonly List<SystemProcesses> Running = [];
    private readonly List<LocalProcess> _processes = [];
    private readonly Dictionary<string, (string Project, IReadOnlyDictionary<string, string?> Environment, int Port)> _started = [];
    public string WorkDir { get; } = Directory.CreateTempSubdirectory("mc-e2e-").FullName;

    public SystemProcesses()
    {
        lock (Running) Running.Add(this);
    }

    /// <summary>
    /// The error entries (and the lines after each) that every running system's processes logged so far, for a
    /// failing assertion's message: a 500 seen through the edge says nothing of its cause on its own.
    /// </summary>
    public static string LoggedErrors(int maxLines = 60)
    {
        SystemProcesses[] systems;
        lock (Running) systems = [.. Running];
        var lines = new List<string>();
        foreach (var system in systems)
        foreach (var log in Directory.EnumerateFiles(system.WorkDir, "*.log"))
        {
            string[] text;
            try { text = File.ReadAllLines(log); } catch (IOException) { continue; }
            for (var i = 0; i < text.Length; i++)
            {
                if (!text[i].StartsWith("fail:") && !text[i].StartsWith("crit:")) continue;
                lines.Add($"[{Path.GetFileNameWithoutExtension(log)}] {text[i]}");
                for (var j = i + 1; j < text.Length && j <= i + 12 && text[j].StartsWith(' '); j++) lines.Add(text[j]);
            }
        }
        return lines.Count == 0 ? "(no errors logged)" : string.Join("\n", lines.TakeLast(maxLines));
    }

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
        lock (Running) Running.Remove(this);
        foreach (var process in Enumerable.Reverse(_processes)) await process.DisposeAsync();
        try { Directory.Delete(WorkDir, recursive: true); } catch (IOException) { }
    }
}
