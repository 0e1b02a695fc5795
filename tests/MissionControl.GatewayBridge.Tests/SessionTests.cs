using System.Collections.Concurrent;
using System.Diagnostics;

namespace MissionControl.GatewayBridge.Tests;

[Collection(OpenClawGatewayFixture.Collection)]
public sealed class SessionTests(OpenClawGatewayFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task A_session_reconnects_after_the_gateway_restarts()
    {
        var ct = Gateway.Timeout(120);
        var states = new ConcurrentQueue<(GatewaySessionState State, GatewayException? Error, TimeSpan At)>();
        var clock = Stopwatch.StartNew();
        await using var session = new GatewaySession(Gateway.Options(fixture), new TestOutputLogger(output, "session"));
        session.StateChanged += (state, error) => states.Enqueue((state, error, clock.Elapsed));
        var events = new EventLog();
        session.EventReceived += events.Add;
        session.Start();

        // A request made right after Start waits for the connection.
        await session.RequestAsync("agents.list", null, ct);
        Assert.Equal(GatewaySessionState.Connected, session.State);
        var firstConnection = session.Hello!.ConnectionId;

        clock.Restart();
        states.Clear();
        await fixture.Gateway.RestartAsync(ct);
        output.WriteLine($"gateway restarted (to /readyz 200) in {clock.Elapsed.TotalSeconds:0.0} s");
        await Gateway.WaitUntilAsync(
            () => states.SkipWhile(s => s.State != GatewaySessionState.Disconnected).Any(s => s.State == GatewaySessionState.Connected),
            TimeSpan.FromSeconds(60), "Disconnected, then Connected again");
        foreach (var (state, error, at) in states)
        {
            output.WriteLine($"{at.TotalMilliseconds,7:0} ms  {state}  {error?.Code} {error?.Message}");
        }

        var disconnected = states.First(s => s.State == GatewaySessionState.Disconnected);
        Assert.Equal(GatewayException.ConnectionClosed, disconnected.Error?.Code);
        Assert.Equal(1012, disconnected.Error?.CloseCode);
        // The gateway broadcasts a shutdown event before that close as a rule, but not always: one CI run saw close 1012
        // without it. What the session does rests on the close code alone; when the event came, the close says so.
        var announced = events.All.Any(e => e.Name == "shutdown");
        output.WriteLine($"shutdown event before the close: {(announced ? "yes" : "no")}");
        Assert.Equal(announced, disconnected.Error!.Message.Contains("after a shutdown event"));
        Assert.NotEqual(firstConnection, session.Hello!.ConnectionId);
        var health = await session.RequestAsync("health", null, ct);
        Assert.True(health.GetProperty("ok").GetBoolean());

        await session.StopAsync();
        Assert.Equal(GatewaySessionState.Stopped, session.State);
        await Assert.ThrowsAsync<GatewayException>(() => session.RequestAsync("health", null, ct));
    }
}
