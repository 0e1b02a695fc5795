namespace MissionControl.LocalServers.Tests;

public sealed class RabbitMqServerTests(ITestOutputHelper output)
{
    [Fact]
    public async Task StartAsync_AcceptsAmqpAndRoundTripsAMessage_AndDisposeLeavesNothingRunning()
    {
        var workDir = Probes.NewWorkDir("rabbitmq");
        // What an earlier node (each start has a name of its own) left in the work dir.
        var stale = Path.Combine(workDir, "log", "mc-1-earlier@localhost_upgrade.log");
        Directory.CreateDirectory(Path.GetDirectoryName(stale)!);
        File.WriteAllText(stale, "");
        var server = await RabbitMqServer.StartAsync(new LocalServerOptions(workDir) { Log = output.WriteLine });
        int pid = server.Pid, epmdPid = server.EpmdPid;
        try
        {
            Assert.False(File.Exists(stale), "an earlier node's log is left behind");
            Assert.Equal($"amqp://guest:guest@127.0.0.1:{server.Port}", server.ConnectionString);
            Assert.True(File.Exists(server.LogPath));
            Assert.Equal("hello from the test", await Probes.RoundTripAsync(server.ConnectionString, "hello from the test"));
            // The VM runs with the small tables and one scheduler, spinning only very briefly on the shared cores.
            var vm = ProcFs.CommandLine(server.BeamPid!.Value);
            Assert.Contains("-P 65536", vm);
            Assert.Contains("-sbwt very_short -sbwtdcpu very_short -sbwtdio very_short", vm);
            Assert.Contains("-S 1:1", vm);
            // The listener's options as the broker holds them: Nagle off and the fixed buffers together
            // (a partial list replaces the broker's defaults, nodelay included).
            var listen = await server.EvalAsync("application:get_env(rabbit, tcp_listen_options).");
            Assert.Contains("{nodelay,true}", listen);
            Assert.Contains("{sndbuf,196608}", listen);
            Assert.Contains("{linger,{true,0}}", listen);
            // Only the broker's own applications are on its code path, not the package's ~60 plugins.
            var libs = File.ReadAllText($"/proc/{server.BeamPid}/environ").Split('\0').Single(v => v.StartsWith("ERL_LIBS="));
            Assert.Equal($"ERL_LIBS={Path.Combine(Path.GetFullPath(workDir), "core", "plugins")}", libs);
            var apps = Directory.GetDirectories(Path.Combine(workDir, "core", "plugins")).Select(Path.GetFileName).ToList();
            Assert.Contains(apps, a => a!.StartsWith("rabbit_common-"));
            Assert.DoesNotContain(apps, a => a!.StartsWith("rabbitmq_management-"));
        }
        finally
        {
            await server.DisposeAsync();
        }

        Assert.False(ProcessTree.IsAlive(pid), "rabbitmq-server still runs");
        Assert.False(ProcessTree.IsAlive(epmdPid), "epmd still runs");
        await Probes.AssertPortClosedAsync(server.Port);
        await Probes.AssertPortClosedAsync(server.DistributionPort);
        await Probes.AssertPortClosedAsync(server.EpmdPort);
        Probes.AssertNoProcessMentions(server.NodeName.Split('@')[0]);
        Directory.Delete(workDir, recursive: true);
    }

    [Fact]
    public async Task A_killed_script_leaves_no_VM_behind_and_the_node_starts_again_on_its_port()
    {
        var workDir = Probes.NewWorkDir("rabbitmq-script");
        var server = await RabbitMqServer.StartAsync(new LocalServerOptions(workDir) { Log = output.WriteLine });
        var beam = server.BeamPid!.Value;
        // kill -9 of the pid the AppHost shows: the VM under the script is reparented and lives on.
        Assert.True(ProcessTree.Signal(server.Pid, ProcessTree.SIGKILL));
        await server.Exited.WaitAsync(TimeSpan.FromSeconds(10)); // what the supervisor reacts to
        await using (var again = await server.StartAgainAsync()) // stops what is left of the old node first
        {
            Assert.False(ProcessTree.IsAlive(beam), "the old VM still runs");
            Assert.Equal(server.Port, again.Port);
            Assert.NotEqual(beam, again.BeamPid);
            Assert.Equal("again", await Probes.RoundTripAsync(again.ConnectionString, "again"));
        }
        Probes.AssertNoProcessMentions(server.NodeName.Split('@')[0]);
        Directory.Delete(workDir, recursive: true);
    }

    [Fact]
    public async Task StartAsync_TwoNodesSideBySide_DoNotClash()
    {
        var (dirA, dirB) = (Probes.NewWorkDir("rabbitmq-a"), Probes.NewWorkDir("rabbitmq-b"));
        var started = await Task.WhenAll(RabbitMqServer.StartAsync(dirA), RabbitMqServer.StartAsync(dirB));
        await using (var a = started[0])
        await using (var b = started[1])
        {
            Assert.NotEqual(a.Port, b.Port);
            Assert.NotEqual(a.NodeName, b.NodeName);
            Assert.Equal("a", await Probes.RoundTripAsync(a.ConnectionString, "a"));
            Assert.Equal("b", await Probes.RoundTripAsync(b.ConnectionString, "b"));
        }
        Directory.Delete(dirA, recursive: true);
        Directory.Delete(dirB, recursive: true);
    }
}
