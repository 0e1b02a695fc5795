extern alias apphost;

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using apphost::MissionControl.AppHost;
using Microsoft.Extensions.Logging;
using MissionControl.LocalServers;
using MissionControl.Messaging;
using MissionControl.Testing;

namespace MissionControl.UnitTests;

/// <summary>
/// The pieces that let the apps start while the private broker boots: their bus waits for the broker's
/// port (BrokerListening), and the AppHost keeps them off the broker's CPU until it is ready (BootAffinity).
/// </summary>
public sealed class BootOverlapTests
{
    [Fact]
    public async Task The_bus_starts_as_soon_as_the_broker_listens_not_after_a_reconnect_backoff()
    {
        var port = FreePort.Next();
        var logs = new Lines();
        var observer = new BrokerListening("127.0.0.1", port, logs);
        var listener = new TcpListener(IPAddress.Loopback, port);
        var opens = Task.Run(async () =>
        {
            await Task.Delay(400);
            listener.Start();
        });
        try
        {
            var clock = Stopwatch.StartNew();
            await observer.PreStart(null!);
            await opens;
            Assert.InRange(clock.Elapsed.TotalMilliseconds, 350, 3_000); // waited for it, then went at once
            Assert.Contains(logs.All, l => l.Contains("accepted a connection after"));
            Assert.DoesNotContain(logs.All, l => l.StartsWith("Warning"));
        }
        finally
        {
            listener.Stop();
        }
    }

    [Fact]
    public async Task A_broker_that_never_listens_holds_the_bus_only_for_the_wait_it_was_given()
    {
        var logs = new Lines();
        var observer = new BrokerListening("127.0.0.1", FreePort.Next(), logs, maxWait: TimeSpan.FromMilliseconds(600));

        var clock = Stopwatch.StartNew();
        await observer.PreStart(null!);

        Assert.InRange(clock.Elapsed.TotalMilliseconds, 550, 5_000);
        Assert.Contains(logs.All, l => l.StartsWith("Warning") && l.Contains("starting the bus anyway"));
        Assert.False(await BrokerListening.AcceptsAsync("127.0.0.1", FreePort.Next(), TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task Apps_are_kept_off_the_first_CPU_while_the_broker_boots_on_it_then_get_every_CPU_back()
    {
        var mine = CpuAffinityProbe.AllowedCpus(Environment.ProcessId);
        var affinity = BootAffinity.TryCreate();
        if (mine.Count < 2)
        {
            Assert.Null(affinity); // nothing to leave free on one CPU
            return;
        }
        Assert.NotNull(affinity);

        // The broker's launcher script starts its VM a moment later: the VM inherits the reservation.
        using var broker = Process.Start("bash", ["-c", "sleep 0.3; sleep 30 & wait"]);
        affinity.Reserve(broker.Id);
        using var app = Process.Start("sleep", ["30"]);
        affinity.Confine(app.Id);
        try
        {
            var vm = await ChildOfAsync(broker.Id);
            Assert.Equal([mine[0]], CpuAffinityProbe.AllowedCpus(broker.Id));
            Assert.Equal([mine[0]], CpuAffinityProbe.AllowedCpus(vm));
            Assert.Equal(mine.Skip(1), CpuAffinityProbe.AllowedCpus(app.Id));

            await affinity.ReleaseAsync();

            Assert.Equal(mine, CpuAffinityProbe.AllowedCpus(broker.Id));
            Assert.Equal(mine, CpuAffinityProbe.AllowedCpus(vm));
            Assert.Equal(mine, CpuAffinityProbe.AllowedCpus(app.Id));

            // An app restarted once the broker is up starts on every CPU.
            using var restarted = Process.Start("sleep", ["30"]);
            affinity.Confine(restarted.Id);
            Assert.Equal(mine, CpuAffinityProbe.AllowedCpus(restarted.Id));
            restarted.Kill();
        }
        finally
        {
            broker.Kill(entireProcessTree: true);
            app.Kill();
        }
    }

    private static async Task<int> ChildOfAsync(int pid)
    {
        for (var i = 0; i < 100; i++)
        {
            // The long-lived child, not the short "sleep 0.3" before it: that one is gone a moment later.
            if (ProcessTree.Descendants(pid).FirstOrDefault(c => ProcFs.CommandLine(c) == "sleep 30") is var child and > 0) return child;
            await Task.Delay(50);
        }
        throw new TimeoutException($"no child of {pid} after 5 s");
    }

    private sealed class Lines : ILogger<BrokerListening>
    {
        private readonly List<string> _lines = [];

        public List<string> All
        {
            get { lock (_lines) return [.. _lines]; }
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_lines) _lines.Add($"{logLevel}: {formatter(state, exception)}");
        }
    }
}
