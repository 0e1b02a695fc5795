using System.Collections.Concurrent;
using System.Diagnostics;

namespace MissionControl.LocalServers;

/// <summary>What to run in a <see cref="LocalProcess"/>.</summary>
public sealed record LocalProcessStartInfo(string Name, string FileName, IReadOnlyList<string> Arguments, string LogPath)
{
    /// <summary>Variables to set on top of this process's environment; a null value removes one.</summary>
    public IReadOnlyDictionary<string, string?> Environment { get; init; } = new Dictionary<string, string?>();

    public string? WorkingDirectory { get; init; }

    /// <summary>When running as root, switch to this user (setpriv) before exec. Ignored when not root.</summary>
    public string? RunAsUser { get; init; }

    /// <summary>Append to <see cref="LogPath"/> instead of starting it afresh.</summary>
    public bool AppendLog { get; init; }
}

/// <summary>
/// A child process in its own session (so a terminal's Ctrl+C reaches only us, and we stop children in
/// our own order), with stdin from /dev/null and stdout+stderr written straight to a log file by
/// bash (nothing to pump, and the child keeps logging if we stall). Stopping kills the whole tree.
/// Anything still running when this process exits (or crashes) is killed by a backstop.
/// </summary>
public sealed class LocalProcess : IAsyncDisposable
{
    private static readonly ConcurrentDictionary<LocalProcess, byte> Running = new();
    private readonly Process _process;
    private readonly Lock _stopLock = new();
    private Task? _stopping;

    static LocalProcess()
    {
        // ProcessExit does not run when the host dies of an unhandled exception: cover that too.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => StopAllNow();
        AppDomain.CurrentDomain.UnhandledException += (_, _) => StopAllNow();
    }

    private LocalProcess(string name, string logPath, Process process)
    {
        Name = name;
        LogPath = logPath;
        _process = process;
        Pid = process.Id;
        Exited = WatchAsync();
    }

    public string Name { get; }
    public int Pid { get; }
    public string LogPath { get; }

    /// <summary>Completes with the exit code when the process exits, for whatever reason.</summary>
    public Task<int> Exited { get; }

    public bool HasExited => Exited.IsCompleted;

    public static LocalProcess Start(LocalProcessStartInfo info)
    {
        Platform.EnsureLinux();
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(info.LogPath))!);
        if (!info.AppendLog)
        {
            File.WriteAllText(info.LogPath, "");
        }

        // setsid: own session and process group. bash: redirect, then exec, so the pid we hold is the
        // program's. Not sh: dash drops variables whose names are not identifiers, such as
        // services__gateway-bridge__http__0; bash passes them on.
        var psi = new ProcessStartInfo("setsid") { UseShellExecute = false };
        psi.ArgumentList.Add("bash");
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("log=$1; shift; exec \"$@\" </dev/null >>\"$log\" 2>&1");
        psi.ArgumentList.Add("bash");
        psi.ArgumentList.Add(Path.GetFullPath(info.LogPath));
        if (info.RunAsUser is { } user && Platform.IsRoot)
        {
            foreach (var arg in new[] { "setpriv", $"--reuid={user}", $"--regid={user}", "--init-groups", "--" })
            {
                psi.ArgumentList.Add(arg);
            }
        }
        psi.ArgumentList.Add(info.FileName);
        foreach (var arg in info.Arguments)
        {
            psi.ArgumentList.Add(arg);
        }
        if (info.WorkingDirectory is not null)
        {
            psi.WorkingDirectory = info.WorkingDirectory;
        }
        foreach (var (key, value) in info.Environment)
        {
            if (value is null)
            {
                psi.Environment.Remove(key);
            }
            else
            {
                psi.Environment[key] = value;
            }
        }

        var process = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {info.Name} ({info.FileName}).");
        var local = new LocalProcess(info.Name, info.LogPath, process);
        Running.TryAdd(local, 0);
        if (local.HasExited)
        {
            Running.TryRemove(local, out _); // it was gone before we could list it
        }
        return local;
    }

    /// <summary>
    /// Sends <paramref name="signal"/> (SIGTERM by default), waits up to <paramref name="grace"/>, then
    /// kills whatever is left of the tree. Safe to call more than once and concurrently.
    /// </summary>
    public Task StopAsync(TimeSpan grace, int signal = ProcessTree.SIGTERM)
    {
        lock (_stopLock)
        {
            return _stopping ??= StopCoreAsync(grace, signal);
        }
    }

    public ValueTask DisposeAsync() => new(StopAsync(TimeSpan.FromSeconds(10)));

    /// <summary>The last <paramref name="count"/> lines of the log file.</summary>
    public IReadOnlyList<string> TailLog(int count = 20) => Tail(LogPath, count);

    public static IReadOnlyList<string> Tail(string path, int count)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            var lines = new Queue<string>();
            while (reader.ReadLine() is { } line)
            {
                lines.Enqueue(line);
                if (lines.Count > count)
                {
                    lines.Dequeue();
                }
            }
            return [.. lines];
        }
        catch (IOException)
        {
            return [];
        }
    }

    public override string ToString() => $"{Name} (pid {Pid})";

    private async Task StopCoreAsync(TimeSpan grace, int signal)
    {
        try
        {
            if (!HasExited)
            {
                await ProcessTree.TerminateAsync(Pid, grace, signal);
            }
            await Exited.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
            // The kernel has been told to SIGKILL it; nothing more we can do.
        }
        finally
        {
            Running.TryRemove(this, out _);
            _process.Dispose();
        }
    }

    private async Task<int> WatchAsync()
    {
        await _process.WaitForExitAsync();
        // Once it has exited its pid may be reused: the backstop must never signal it again.
        Running.TryRemove(this, out _);
        return _process.ExitCode;
    }

    // Backstop for a host that exits without disposing (a test run ending, an unhandled exception).
    private static void StopAllNow()
    {
        var left = Running.Keys.ToList();
        foreach (var process in left)
        {
            ProcessTree.Signal(process.Pid, ProcessTree.SIGTERM);
        }
        var deadline = DateTime.UtcNow.AddSeconds(3);
        while (left.Any(p => ProcessTree.IsAlive(p.Pid)) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(50);
        }
        foreach (var process in left)
        {
            ProcessTree.Terminate(process.Pid, TimeSpan.Zero, ProcessTree.SIGKILL);
        }
    }
}
