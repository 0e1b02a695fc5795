using System.Collections.Concurrent;
using System.Diagnostics;
using MissionControl.LocalServers;
using Microsoft.Extensions.Logging.Abstractions;

namespace MissionControl.GatewayBridge.Tests;

[Collection(OpenClawGatewayFixture.Collection)]
public sealed class ConnectionTests(OpenClawGatewayFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task Handshake_gives_the_pinned_version_and_the_admin_scope()
    {
        var ct = Gateway.Timeout();
        output.WriteLine($"gateway start (to /readyz 200): {fixture.StartTime.TotalSeconds:0.0} s");
        var clock = Stopwatch.StartNew();
        await using var client = await GatewayClient.ConnectAsync(Gateway.Options(fixture), ct);
        output.WriteLine($"connect → hello-ok: {clock.Elapsed.TotalMilliseconds:0} ms");

        Assert.Equal(OpenClawServer.Version, client.Hello.ServerVersion);
        Assert.Equal(4, client.Hello.Protocol);
        Assert.Contains(GatewayScopes.Admin, client.Hello.Scopes);
        Assert.Equal("token", client.Hello.AuthMethod);
        Assert.True(client.Hello.TickIntervalMs > 0);
        Assert.Contains("agents.create", client.Hello.Methods);

        // Several requests in flight at once, each matched to its own answer by id.
        var answers = await Task.WhenAll(
            client.RequestAsync("agents.list", null, ct),
            client.RequestAsync("health", null, ct),
            client.RequestAsync("status", null, ct),
            client.RequestAsync("agents.list", new { }, ct));
        Assert.True(answers[0].TryGetProperty("agents", out _));
        Assert.True(answers[1].GetProperty("ok").GetBoolean());
        Assert.True(answers[2].TryGetProperty("sessions", out _));
        Assert.True(answers[3].TryGetProperty("agents", out _));
    }

    [Fact]
    public async Task A_gateway_error_carries_code_and_details()
    {
        var ct = Gateway.Timeout();
        await using var client = await GatewayClient.ConnectAsync(Gateway.Options(fixture), ct);
        var e = await Assert.ThrowsAsync<GatewayException>(() => client.RequestAsync("agents.files.get", new { agentId = "nope-" + Guid.NewGuid().ToString("N"), name = "AGENTS.md" }, ct));
        Assert.Equal("INVALID_REQUEST", e.Code);
        Assert.Contains("not found", e.Message);
        var unknown = await Assert.ThrowsAsync<GatewayException>(() => client.RequestAsync("agents.files.delete", new { agentId = "main", name = "AGENTS.md" }, ct));
        Assert.Equal("INVALID_REQUEST", unknown.Code);
        // The connection stays usable after errors.
        await client.RequestAsync("agents.list", null, ct);
    }

    [Fact]
    public async Task Wrong_token_fails_fast_with_AUTH_TOKEN_MISMATCH_and_the_session_does_not_retry()
    {
        var ct = Gateway.Timeout();
        var options = Gateway.Options(fixture) with { Token = "wrong-" + Guid.NewGuid().ToString("N") };
        var clock = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<GatewayException>(() => GatewayClient.ConnectAsync(options, ct));
        output.WriteLine($"wrong token refused after {clock.Elapsed.TotalMilliseconds:0} ms: {e.Code}/{e.DetailCode} {e.Message}");
        Assert.Equal("AUTH_TOKEN_MISMATCH", e.DetailCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");

        var states = new ConcurrentQueue<GatewaySessionState>();
        await using var session = new GatewaySession(options, new TestOutputLogger(output));
        session.StateChanged += (state, _) => states.Enqueue(state);
        session.Start();
        await Gateway.WaitUntilAsync(() => session.State == GatewaySessionState.AuthFailed, TimeSpan.FromSeconds(10), "AuthFailed");
        Assert.Equal("AUTH_TOKEN_MISMATCH", session.LastError?.DetailCode);

        // A request fails at once with the cause instead of waiting for a connection that will not come.
        clock.Restart();
        var failed = await Assert.ThrowsAsync<GatewayException>(() => session.RequestAsync("agents.list", null, ct));
        Assert.Equal("AUTH_TOKEN_MISMATCH", failed.DetailCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1));

        await Task.Delay(TimeSpan.FromSeconds(2), ct);
        Assert.Equal(1, states.Count(s => s == GatewaySessionState.Connecting));
        Assert.Equal(GatewaySessionState.AuthFailed, session.State);
    }

    [Fact]
    public async Task Nothing_listening_is_gateway_unreachable_within_the_connect_timeout()
    {
        var port = FreePort.Next();
        var options = new GatewayConnectOptions(new Uri($"ws://127.0.0.1:{port}"), "token") { ConnectTimeout = TimeSpan.FromSeconds(3) };
        var clock = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<GatewayException>(() => GatewayClient.ConnectAsync(options, CancellationToken.None));
        output.WriteLine($"{e.Code} after {clock.Elapsed.TotalMilliseconds:0} ms: {e.Message}");
        Assert.Equal(GatewayException.Unreachable, e.Code);
        Assert.True(e.Retryable);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3.5));

        // A session keeps trying, and a request gives up at its own timeout with the cause.
        await using var session = new GatewaySession(options, NullLogger.Instance);
        session.Start();
        var failed = await Assert.ThrowsAsync<GatewayException>(() => session.RequestAsync("agents.list", null, CancellationToken.None, TimeSpan.FromSeconds(1.5)));
        Assert.Equal(GatewayException.Unreachable, failed.Code);
        Assert.Equal(GatewaySessionState.Disconnected, session.State);
    }

    [Fact]
    public async Task A_client_without_device_identity_other_than_gateway_client_gets_no_scopes_and_is_told_to_pair()
    {
        var options = Gateway.Options(fixture) with { ClientId = "test" };
        var e = await Assert.ThrowsAsync<GatewayException>(() => GatewayClient.ConnectAsync(options, Gateway.Timeout()));
        Assert.Equal(GatewayException.PairingRequired, e.Code);

        await using var session = new GatewaySession(options, new TestOutputLogger(output));
        session.Start();
        await Gateway.WaitUntilAsync(() => session.State == GatewaySessionState.PairingRequired, TimeSpan.FromSeconds(10), "PairingRequired");
        var failed = await Assert.ThrowsAsync<GatewayException>(() => session.RequestAsync("agents.list", null, CancellationToken.None));
        Assert.Equal(GatewayException.PairingRequired, failed.Code);
    }

    [Fact]
    public async Task Pending_requests_fail_with_connection_closed_when_the_socket_closes()
    {
        var ct = Gateway.Timeout();
        var client = await GatewayClient.ConnectAsync(Gateway.Options(fixture), ct);
        var events = new EventLog();
        client.EventReceived += events.Add;
        // agent.wait on a run that does not exist waits for its timeout: a request still pending at close.
        var pending = client.RequestAsync("agent.wait", new { runId = Guid.NewGuid().ToString(), timeoutMs = 20000 }, ct);
        await Task.Delay(200, ct);
        await client.DisposeAsync();
        var e = await Assert.ThrowsAsync<GatewayException>(() => pending);
        Assert.Equal(GatewayException.ConnectionClosed, e.Code);
        var close = await client.Completion;
        output.WriteLine($"closed: {close}");
        var after = await Assert.ThrowsAsync<GatewayException>(() => client.RequestAsync("agents.list", null, ct));
        Assert.Equal(GatewayException.ConnectionClosed, after.Code);
    }
}
