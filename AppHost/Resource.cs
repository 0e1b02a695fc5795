using MissionControl.LocalServers;

namespace MissionControl.AppHost;

/// <summary>
/// Something the AppHost started (or was given): a server from LocalServers or a .NET project run as
/// <c>dotnet &lt;dll&gt;</c>. Knows its address, pid and log, and how to stop itself.
/// </summary>
internal sealed class Resource(string name, string kind)
{
    private Func<Task>? _stop;
    private string _state = "starting";

    public string Name { get; } = name;
    public string Kind { get; } = kind;
    public string Address { get; set; } = "";
    public string? LogPath { get; set; }

    /// <summary>Set for what the AppHost keeps running (restarted when it exits or stops answering).</summary>
    public SupervisedProcess? Supervised { get; private set; }

    public string State
    {
        get => Supervised?.State ?? _state;
        set => _state = value;
    }

    public int? Pid => Supervised is { } supervised ? supervised.Pid : _pid;
    private int? _pid;

    /// <summary>Completes when the (one-off) process exits; null for an external or supervised one.</summary>
    public Task<int>? Exited { get; private set; }

    public static Resource External(string name, string kind, string address) =>
        new(name, kind) { State = "external", Address = address };

    /// <summary>A one-off process (the build, an install).</summary>
    public void Attach(LocalProcess process)
    {
        (_pid, LogPath, Exited) = (process.Pid, process.LogPath, process.Exited);
        _stop = () => process.StopAsync(TimeSpan.FromSeconds(10));
    }

    public void Attach(SupervisedProcess supervised) => Supervised = supervised;

    public async Task StopAsync()
    {
        if (Supervised is { } supervised)
        {
            await supervised.StopAsync();
        }
        else if (_stop is not null)
        {
            await _stop();
            State = "stopped";
        }
    }

    /// <summary>"3", or "137 (killed by signal 9)" for the 128+n codes .NET reports for a signal.</summary>
    public static string DescribeExit(int code) => SupervisedProcess.DescribeExit(code);

    public IReadOnlyList<string> TailLog(int lines = 20) => LogPath is null ? [] : LocalProcess.Tail(LogPath, lines);

    /// <summary>
    /// Waits until GET /alive and then GET /health answer 200 (what Aspire's WaitFor does for a project),
    /// each within <paramref name="timeout"/>; fails at once if the process exits.
    /// </summary>
    public async Task WaitHealthyAsync(HttpClient http, string baseUrl, Task<int> exited, TimeSpan timeout, CancellationToken ct)
    {
        foreach (var path in new[] { "/alive", "/health" })
        {
            var deadline = DateTime.UtcNow + timeout;
            var last = "no answer";
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                if (exited.IsCompleted)
                {
                    throw new StartupException(this, $"{Name} exited with code {DescribeExit(await exited)} while starting");
                }
                if (await ProbeAsync(http, baseUrl + path, ct) is not { } failure)
                {
                    break;
                }
                last = failure;
                if (DateTime.UtcNow > deadline)
                {
                    throw new StartupException(this, $"{Name}: GET {baseUrl}{path} did not return 200 within {timeout.TotalSeconds:0} s (last: {last})");
                }
                await Task.Delay(100, ct);
            }
        }
    }

    /// <summary>Null when GET <paramref name="url"/> answers 200 within 3 s, else what went wrong.</summary>
    public static async Task<string?> ProbeAsync(HttpClient http, string url, CancellationToken ct)
    {
        try
        {
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct);
            attempt.CancelAfter(TimeSpan.FromSeconds(3));
            using var response = await http.GetAsync(url, attempt.Token);
            return (int)response.StatusCode == 200 ? null : $"HTTP {(int)response.StatusCode}";
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            return e is OperationCanceledException ? "timed out" : e.Message;
        }
    }

    /// <summary>For --verbose: copies new log lines to the console, prefixed with the resource name.</summary>
    public async Task FollowLogAsync(Action<string> write, CancellationToken ct)
    {
        if (LogPath is null)
        {
            return;
        }
        try
        {
            await using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            while (!ct.IsCancellationRequested)
            {
                while (await reader.ReadLineAsync(ct) is { } line)
                {
                    write($"[{Name}] {line}");
                }
                await Task.Delay(200, ct);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // Stopped, or the log went away.
        }
    }
}

/// <summary>A resource did not start: stop everything and show its log.</summary>
internal sealed class StartupException(Resource resource, string message) : Exception(message)
{
    public Resource Resource { get; } = resource;
}
