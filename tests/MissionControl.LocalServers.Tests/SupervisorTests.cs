using Microsoft.Extensions.Time.Testing;

namespace MissionControl.LocalServers.Tests;

public sealed class RestartPolicyTests
{
    [Fact]
    public void Delays_Double_From_Half_A_Second_Up_To_Thirty()
    {
        var clock = new FakeTimeProvider();
        var policy = new RestartPolicy(clock);
        var delays = new List<double>();
        for (var i = 0; i < 9; i++)
        {
            // 40 s apart: never 5 failures within 2 minutes, but each follows the last within the window.
            delays.Add(policy.OnFailure()!.Value.TotalSeconds);
            clock.Advance(TimeSpan.FromSeconds(40));
        }
        Assert.Equal([0.5, 1, 2, 4, 8, 16, 30, 30, 30], delays);
    }

    [Fact]
    public void Gives_Up_On_The_Fifth_Failure_Within_Two_Minutes()
    {
        var clock = new FakeTimeProvider();
        var policy = new RestartPolicy(clock);
        for (var i = 0; i < 4; i++)
        {
            Assert.NotNull(policy.OnFailure());
            clock.Advance(TimeSpan.FromSeconds(29)); // 4 failures over 87 s
        }
        Assert.Null(policy.OnFailure()); // the fifth at 116 s
    }

    [Fact]
    public void Failures_Older_Than_The_Window_Do_Not_Count_And_A_Quiet_Spell_Resets_The_Backoff()
    {
        var clock = new FakeTimeProvider();
        var policy = new RestartPolicy(clock);
        for (var i = 0; i < 4; i++)
        {
            Assert.NotNull(policy.OnFailure());
            clock.Advance(TimeSpan.FromSeconds(1));
        }
        clock.Advance(TimeSpan.FromMinutes(3)); // those four are out of the window
        Assert.Equal(TimeSpan.FromSeconds(0.5), policy.OnFailure());
        Assert.NotNull(policy.OnFailure());
    }
}

public sealed class SupervisedProcessTests(ITestOutputHelper output)
{
    private static RestartPolicy Quick => new() { InitialDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromSeconds(1) };

    [Fact]
    public async Task A_Killed_Process_Comes_Back_By_Itself_On_Its_Port()
    {
        var port = FreePort.Next();
        var log = Path.Combine(Path.GetTempPath(), $"mc-lstest-sup-{Guid.NewGuid():N}.log");
        var supervised = new SupervisedProcess("web", async ct =>
        {
            var process = LocalProcess.Start(new LocalProcessStartInfo("web", "python3", ["-m", "http.server", port.ToString(), "--bind", "127.0.0.1"], log)
            {
                AppendLog = true,
                WorkingDirectory = Path.GetTempPath(),
            });
            await WaitUntilAsync(() => FreePort.IsListeningAsync("127.0.0.1", port), TimeSpan.FromSeconds(20));
            return SupervisedStart.Of(process, TimeSpan.FromSeconds(2));
        }, _ => FreePort.IsListeningAsync("127.0.0.1", port), Quick)
        {
            ProbeInterval = TimeSpan.FromMilliseconds(200),
            Log = output.WriteLine,
        };
        try
        {
            await supervised.StartAsync(CancellationToken.None);
            supervised.Supervise();
            var first = supervised.Pid!.Value;

            ProcessTree.Signal(first, ProcessTree.SIGKILL);

            await WaitUntilAsync(() => Task.FromResult(supervised is { State: "running", Restarts: 1 }), TimeSpan.FromSeconds(20));
            Assert.NotEqual(first, supervised.Pid);
            Assert.Equal(137, supervised.LastExitCode);
            Assert.True(await FreePort.IsListeningAsync("127.0.0.1", port));
        }
        finally
        {
            await supervised.StopAsync();
            File.Delete(log);
        }
        Assert.Equal("stopped", supervised.State);
        Assert.False(await FreePort.IsListeningAsync("127.0.0.1", port));
    }

    [Fact]
    public async Task A_Hung_Process_Is_Restarted_When_Its_Probe_Keeps_Failing()
    {
        var log = Path.Combine(Path.GetTempPath(), $"mc-lstest-sup-{Guid.NewGuid():N}.log");
        var healthy = false;
        var supervised = new SupervisedProcess("hung", _ =>
        {
            var process = LocalProcess.Start(new LocalProcessStartInfo("hung", "sleep", ["300"], log) { AppendLog = true });
            return Task.FromResult(SupervisedStart.Of(process, TimeSpan.FromSeconds(1)));
        }, _ => Task.FromResult(healthy), Quick)
        {
            ProbeInterval = TimeSpan.FromMilliseconds(100),
            Log = output.WriteLine,
        };
        try
        {
            await supervised.StartAsync(CancellationToken.None);
            var first = supervised.Pid!.Value;
            supervised.Supervise();
            await WaitUntilAsync(() => Task.FromResult(supervised.Restarts >= 1), TimeSpan.FromSeconds(10));
            healthy = true;
            Assert.False(ProcessTree.IsAlive(first)); // the hung one was stopped, not left behind
            Assert.Contains("health check", supervised.LastFailure);
        }
        finally
        {
            await supervised.StopAsync();
            File.Delete(log);
        }
    }

    [Fact]
    public async Task A_Process_That_Keeps_Dying_Is_Given_Up_On()
    {
        var log = Path.Combine(Path.GetTempPath(), $"mc-lstest-sup-{Guid.NewGuid():N}.log");
        var starts = 0;
        var changes = new List<string>();
        var supervised = new SupervisedProcess("crashy", _ =>
        {
            starts++;
            var process = LocalProcess.Start(new LocalProcessStartInfo("crashy", "sh", ["-c", "exit 3"], log) { AppendLog = true });
            return Task.FromResult(SupervisedStart.Of(process));
        }, _ => Task.FromResult(true), new RestartPolicy { InitialDelay = TimeSpan.FromMilliseconds(50), MaxFailures = 3 })
        {
            ProbeInterval = TimeSpan.FromMilliseconds(100),
            Log = output.WriteLine,
        };
        supervised.Changed += p => { lock (changes) { changes.Add(p.State); } };
        try
        {
            await supervised.StartAsync(CancellationToken.None);
            supervised.Supervise();
            await WaitUntilAsync(() => Task.FromResult(supervised.State == "failed"), TimeSpan.FromSeconds(15));
            Assert.Equal(3, starts); // the first start and two restarts; the third failure gives up
            Assert.Equal(2, supervised.Restarts);
            Assert.Equal(3, supervised.LastExitCode);
            Assert.Null(supervised.Pid);
            Assert.Equal(["running", "restarting", "running", "restarting", "running", "failed"], changes);
        }
        finally
        {
            await supervised.StopAsync();
            File.Delete(log);
        }
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"not within {timeout.TotalSeconds} s");
            }
            await Task.Delay(50);
        }
    }
}
