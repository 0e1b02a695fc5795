namespace MissionControl.LocalServers.Tests;

public sealed class LocalProcessTests
{
    [Fact]
    public async Task StopAsync_KillsTheWholeTree_EvenChildrenThatIgnoreSigterm()
    {
        var log = Path.Combine(Path.GetTempPath(), $"mc-lstest-tree-{Guid.NewGuid():N}.log");
        // A parent that ignores SIGTERM and waits on two children: only the SIGKILL pass can end it.
        var process = LocalProcess.Start(new LocalProcessStartInfo("tree", "sh",
            ["-c", "trap '' TERM; sleep 300 & sleep 300 & echo started; wait"], log));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (ProcessTree.Descendants(process.Pid).Count < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        var tree = ProcessTree.Descendants(process.Pid);
        Assert.Equal(2, tree.Count);

        await process.StopAsync(TimeSpan.FromMilliseconds(500));

        Assert.True(process.HasExited);
        Assert.All(tree.Append(process.Pid), pid => Assert.False(ProcessTree.IsAlive(pid), $"pid {pid} still runs"));
        Assert.Contains("started", process.TailLog(5));
        File.Delete(log);
    }

    [Fact]
    public async Task Start_PassesEnvironmentIncludingNonIdentifierNames_AndRunsInItsOwnSession()
    {
        var log = Path.Combine(Path.GetTempPath(), $"mc-lstest-env-{Guid.NewGuid():N}.log");
        Environment.SetEnvironmentVariable("MC_LSTEST_REMOVE_ME", "inherited");
        var process = LocalProcess.Start(new LocalProcessStartInfo("env", "bash", ["-c", "env; echo sid=$(ps -o sid= -p $$ | tr -d ' ') pid=$$"], log)
        {
            Environment = new Dictionary<string, string?>
            {
                ["services__gateway-bridge__http__0"] = "http://127.0.0.1:5104",
                ["ConnectionStrings__messaging"] = "amqp://guest:guest@127.0.0.1:1",
                ["MC_LSTEST_REMOVE_ME"] = null,
            },
        });
        Assert.Equal(0, await process.Exited.WaitAsync(TimeSpan.FromSeconds(10)));
        var output = File.ReadAllText(log);
        Assert.Contains("services__gateway-bridge__http__0=http://127.0.0.1:5104", output);
        Assert.Contains("ConnectionStrings__messaging=amqp://guest:guest@127.0.0.1:1", output);
        Assert.DoesNotContain("MC_LSTEST_REMOVE_ME", output);
        // exec all the way down: the pid we hold is the program's, and it leads its own session.
        Assert.Contains($"sid={process.Pid} pid={process.Pid}", output);
        await process.DisposeAsync();
        File.Delete(log);
    }

    [Fact]
    public void FreePort_Next_GivesDistinctBindablePorts()
    {
        var ports = Enumerable.Range(0, 20).Select(_ => FreePort.Next()).ToList();
        Assert.Equal(ports.Count, ports.Distinct().Count());
        Assert.All(ports, port => Assert.True(FreePort.IsFree(port)));
    }
}
