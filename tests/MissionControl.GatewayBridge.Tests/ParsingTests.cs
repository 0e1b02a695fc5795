using System.Text.Json;

namespace MissionControl.GatewayBridge.Tests;

/// <summary>Frames as the real gateway (2026.9.6) sent them, parsed without a gateway.</summary>
public sealed class ParsingTests
{
    private static GatewayEvent Event(string name, string payload) => new(name, JsonDocument.Parse(payload).RootElement.Clone(), 1);

    private static GatewayException Error(string json) => GatewayException.FromErrorShape(JsonDocument.Parse(json).RootElement);

    [Fact]
    public void Error_shapes_map_to_session_states()
    {
        var mismatch = Error("""{"code":"INVALID_REQUEST","message":"unauthorized: gateway token mismatch","details":{"code":"AUTH_TOKEN_MISMATCH","authReason":"token_mismatch"}}""");
        Assert.Equal("INVALID_REQUEST", mismatch.Code);
        Assert.Equal("AUTH_TOKEN_MISMATCH", mismatch.DetailCode);
        Assert.Equal(GatewaySessionState.AuthFailed, GatewaySession.Classify(mismatch));

        var protocol = Error("""{"code":"INVALID_REQUEST","message":"protocol mismatch","details":{"code":"PROTOCOL_MISMATCH","expectedProtocol":4}}""");
        Assert.Equal(GatewaySessionState.Incompatible, GatewaySession.Classify(protocol));
        Assert.Equal(4, protocol.Details!.Value.GetProperty("expectedProtocol").GetInt32());

        var notPaired = Error("""{"code":"NOT_PAIRED","message":"device identity required","details":{"code":"DEVICE_IDENTITY_REQUIRED"}}""");
        Assert.Equal(GatewaySessionState.PairingRequired, GatewaySession.Classify(notPaired));
        Assert.Equal(GatewaySessionState.PairingRequired, GatewaySession.Classify(new GatewayException(GatewayException.PairingRequired, "no scopes")));

        var starting = Error("""{"code":"UNAVAILABLE","message":"gateway starting; retry shortly","retryable":true,"retryAfterMs":500,"details":{"reason":"startup-sidecars"}}""");
        Assert.True(starting.Retryable);
        Assert.Equal(500, starting.RetryAfterMs);
        Assert.Null(GatewaySession.Classify(starting));
        Assert.Null(GatewaySession.Classify(new GatewayException(GatewayException.Unreachable, "refused", retryable: true)));
    }

    [Fact]
    public void Chat_events_parse()
    {
        Assert.True(GatewayChat.TryParse(Event("chat",
            """{"runId":"r1","sessionKey":"agent:a1:main","agentId":"a1","seq":12,"state":"final","stopReason":"stop","message":{"role":"assistant","content":[{"type":"text","text":"Ack: hi"}],"timestamp":1}}"""),
            out var final));
        Assert.Equal(("r1", "agent:a1:main", "a1", "final", "Ack: hi", "stop", 12L), (final.RunId, final.SessionKey, final.AgentId, final.State, final.Text, final.StopReason, final.Seq));
        Assert.True(final.IsTerminal);

        Assert.True(GatewayChat.TryParse(Event("chat",
            """{"runId":"r1","sessionKey":"agent:a1:main","state":"delta","deltaText":"Ack","message":{"role":"assistant","content":[{"type":"text","text":"Ack"}]}}"""), out var delta));
        Assert.Equal("Ack", delta.DeltaText);
        Assert.False(delta.IsTerminal);

        Assert.True(GatewayChat.TryParse(Event("chat",
            """{"runId":"r2","sessionKey":"agent:main:main","agentId":"main","seq":5,"state":"error","errorMessage":"No route-compatible authentication source is configured for openai."}"""), out var error));
        Assert.Equal("error", error.State);
        Assert.StartsWith("No route-compatible", error.ErrorMessage);

        Assert.False(GatewayChat.TryParse(Event("tick", """{"ts":1}"""), out _));
        Assert.False(GatewayChat.TryParse(Event("agent", """{"runId":"r1","stream":"usage","data":{"outputTokens":6}}"""), out _));
    }

    [Fact]
    public void Live_usage_has_only_output_tokens()
    {
        Assert.True(GatewayChat.TryParseUsage(Event("agent",
            """{"runId":"r1","sessionKey":"agent:a1:main","stream":"usage","data":{"outputTokens":6},"agentId":"a1","seq":9,"ts":1,"isHeartbeat":false}"""), out var usage));
        Assert.Equal(("r1", "agent:a1:main", "a1", 0L, 6L, true), (usage.RunId, usage.SessionKey, usage.AgentId, usage.InputTokens, usage.OutputTokens, usage.IsPartial));
        Assert.False(GatewayChat.TryParseUsage(Event("agent", """{"runId":"r1","stream":"assistant","data":{"text":"x"}}"""), out _));
    }

    [Fact]
    public void Hello_ok_parses()
    {
        var hello = GatewayClient.ParseHello(JsonDocument.Parse(
            """{"type":"hello-ok","protocol":4,"server":{"version":"2026.9.6","connId":"c1"},"features":{"methods":["agents.list","chat.send"]},"auth":{"method":"token","role":"operator","scopes":["operator.admin"],"deviceToken":"dt"},"policy":{"tickIntervalMs":30000}}""").RootElement);
        Assert.Equal(("2026.9.6", 4, "dt", 30000, "token", "c1"), (hello.ServerVersion, hello.Protocol, hello.DeviceToken, hello.TickIntervalMs, hello.AuthMethod, hello.ConnectionId));
        Assert.Equal(["operator.admin"], hello.Scopes);
        Assert.Contains("chat.send", hello.Methods);
    }

    [Fact]
    public void The_fake_model_replies_to_the_operators_text()
    {
        Assert.Equal("Ack: Please confirm task 1",
            FakeModelServer.ReplyFor("[Mon 2026-11-30 04:13 UTC] Please confirm task 1\n\nRuntime: agent=a1 | session=agent:a1:main"));
        Assert.Equal("Ack: " + new string('x', 80), FakeModelServer.ReplyFor(new string('x', 100)));
    }
}
