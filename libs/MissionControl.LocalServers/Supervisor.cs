namespace MissionControl.LocalServers;

/// <summary>
/// When to start a failed process again: after 0.5 s, doubling up to 30 s while failures follow each
/// other (a failure more than <see cref="Window"/> after the previous one starts the doubling afresh),
/// and not at all once <see cref="MaxFailures"/> failures fall within <see cref="Window"/>.
/// </summary>
public sealed class RestartPolicy(TimeProvider? clock = null)
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly Queue<DateTimeOffset> _recent = new();
    private DateTimeOffset? _last;
    private int _streak;

    public TimeSpan InitialDelay { get; init; } = TimeSpan.FromSeconds(0.5);
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(30);
    public int MaxFailures { get; init; } = 5;
    public TimeSpan Window { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Records a failure now; returns how long to wait before starting again, or null to give up.</summary>
    public TimeSpan? OnFailure()
    {
        var now = _clock.GetUtcNow();
        _streak = _last is { } last && now - last <= Window ? _streak + 1 : 1;
        _last = now;
        _recent.Enqueue(now);
        while (_recent.Count > 0 && now - _recent.Peek() > Window)
        {
            _recent.Dequeue();
        }
        if (_recent.Count >= MaxFailures)
        {
            return null;
        }
        var delay = InitialDelay * Math.Pow(2, Math.Min(_streak - 1, 30));
        return delay < MaxDelay ? delay : MaxDelay;
    }
}

/// <summary>One start of a supervised process: its pid, exit, and how to stop it (the whole tree).</summary>
public sealed record SupervisedStart(int Pid, Task<int> Exited, Func<Task> Stop)
{
    /// <summary>A <see cref="LocalProcess"/> stopped with SIGTERM, then its tree killed after <paramref name="grace"/>.</summary>
    public static SupervisedStart Of(LocalProcess process, TimeSpan? grace = null) =>
        new(process.Pid, process.Exited, () => process.StopAsync(grace ?? TimeSpan.FromSeconds(10)));
}

/// <summary>
/// A process kept running: started by <c>start</c> (which returns once it is ready, or throws), then
/// watched. When it exits, or <c>probe</c> fails <see cref="UnhealthyAfter"/> times in a row, what is
/// left of it is stopped and it is started again (same start function: same port, same data) after the
/// <see cref="RestartPolicy"/>'s delay; when the policy gives up, the state becomes "failed".
/// Every change raises <see cref="Changed"/>.
/// </summary>
public sealed class SupervisedProcess(
    string name, Func<CancellationToken, Task<SupervisedStart>> start, Func<CancellationToken, Task<bool>> probe, RestartPolicy? policy = null)
{
    private readonly RestartPolicy _policy = policy ?? new RestartPolicy();
    private readonly Lock _lock = new();
    private SupervisedStart? _current;
    private Task? _supervising;
    private CancellationTokenSource? _stop;

    public string Name { get; } = name;
    public string State { get; private set; } = "starting";
    /// <summary>The running process's pid (null while it is being restarted, or given up on).</summary>
    public int? Pid => State is "restarting" or "failed" ? null : _current?.Pid;
    public int Restarts { get; private set; }
    public int? LastExitCode { get; private set; }
    public DateTimeOffset? LastExitAt { get; private set; }

    /// <summary>Why the last restart happened ("exited with code 137", "not answering its health check").</summary>
    public string? LastFailure { get; private set; }

    public TimeSpan ProbeInterval { get; init; } = TimeSpan.FromSeconds(2);
    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromSeconds(5);
    public int UnhealthyAfter { get; init; } = 3;

    /// <summary>Raised (on a pool thread) after every state change.</summary>
    public event Action<SupervisedProcess>? Changed;

    /// <summary>Progress and failures, one line each ("tasks: exited with code 137; restarting in 0.5 s").</summary>
    public Action<string> Log { get; init; } = _ => { };

    /// <summary>The first start (exceptions are the caller's: nothing is retried yet).</summary>
    public async Task StartAsync(CancellationToken ct)
    {
        _current = await start(ct);
        SetState("running");
    }

    /// <summary>Starts watching in the background (after <see cref="StartAsync"/>).</summary>
    public void Supervise()
    {
        lock (_lock)
        {
            _stop ??= new CancellationTokenSource();
            _supervising ??= Task.Run(() => SuperviseAsync(_stop.Token));
        }
    }

    /// <summary>Stops watching, then the process.</summary>
    public async Task StopAsync()
    {
        lock (_lock)
        {
            _stop ??= new CancellationTokenSource();
        }
        await _stop.CancelAsync();
        if (_supervising is not null)
        {
            await _supervising;
        }
        if (_current is { } current)
        {
            await current.Stop();
        }
        SetState("stopped");
    }

    private async Task SuperviseAsync(CancellationToken ct)
    {
        try
        {
            while (true)
            {
                var failure = await WatchAsync(_current!, ct);
                LastFailure = failure;
                LastExitAt = DateTimeOffset.UtcNow;
                await _current!.Stop(); // what is left of it: a hung process, the broker's VM under its script
                if (_current.Exited.IsCompleted)
                {
                    LastExitCode = await _current.Exited;
                }
                while (true)
                {
                    if (_policy.OnFailure() is not { } delay)
                    {
                        _current = null;
                        Log($"!! {Name}: {failure}; GIVING UP after {_policy.MaxFailures} failures within {_policy.Window.TotalMinutes:0.#} min " +
                            "(see its log; restart the AppHost once it is fixed)");
                        SetState("failed");
                        return;
                    }
                    Log($"!! {Name}: {failure}; restarting in {delay.TotalSeconds:0.#} s");
                    SetState("restarting");
                    await Task.Delay(delay, ct);
                    try
                    {
                        _current = await start(ct);
                        Restarts++;
                        Log($"{Name}: running again (pid {_current.Pid}, restart {Restarts})");
                        SetState("running");
                        break;
                    }
                    catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
                    {
                        failure = $"restart failed: {FirstLine(e.Message)}";
                        LastFailure = failure;
                        LastExitAt = DateTimeOffset.UtcNow;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    /// <summary>Returns why the process needs a restart; throws when <paramref name="ct"/> is cancelled.</summary>
    private async Task<string> WatchAsync(SupervisedStart current, CancellationToken ct)
    {
        var misses = 0;
        while (true)
        {
            var tick = Task.Delay(ProbeInterval, ct);
            if (await Task.WhenAny(current.Exited, tick) == current.Exited)
            {
                return $"exited with code {DescribeExit(await current.Exited)}";
            }
            ct.ThrowIfCancellationRequested();
            bool healthy;
            try
            {
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct);
                attempt.CancelAfter(ProbeTimeout);
                healthy = await probe(attempt.Token);
            }
            catch (Exception) when (!ct.IsCancellationRequested)
            {
                healthy = false;
            }
            misses = healthy ? 0 : misses + 1;
            if (misses >= UnhealthyAfter)
            {
                return $"not answering its health check ({misses} times in a row)";
            }
        }
    }

    private void SetState(string state)
    {
        State = state;
        try
        {
            Changed?.Invoke(this);
        }
        catch (Exception e)
        {
            Log($"{Name}: state-change handler failed: {e.Message}");
        }
    }

    /// <summary>"3", or "137 (killed by signal 9)" for the 128+n codes .NET reports for a signal.</summary>
    public static string DescribeExit(int code) => code > 128 && code < 160 ? $"{code} (killed by signal {code - 128})" : $"{code}";

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();
}
