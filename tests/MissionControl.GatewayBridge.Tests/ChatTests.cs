namespace MissionControl.GatewayBridge.Tests;

[Collection(OpenClawGatewayFixture.Collection)]
public sealed class ChatTests(OpenClawGatewayFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task A_message_to_a_provisioned_agent_gets_the_models_reply_and_usage()
    {
        var ct = Gateway.Timeout(120);
        await using var client = await GatewayClient.ConnectAsync(Gateway.Options(fixture), ct);
        var events = new EventLog();
        client.EventReceived += events.Add;
        var id = Gateway.NewAgentId();
        var marker = "MARKER-" + Guid.NewGuid().ToString("N");
        var files = new Dictionary<string, string>
        {
            ["AGENTS.md"] = $"# AGENTS\n\nAlways answer briefly. {marker}\n",
            ["IDENTITY.md"] = "# IDENTITY\n\n- Name: Chatty\n",
        };
        await AgentProvisioner.ProvisionAsync(client, id, Path.Combine(fixture.WorkspaceRoot, "workspace-" + id), files, [], ct);
        try
        {
            var sessionKey = GatewayChat.SessionKey(id);
            var runId = Guid.NewGuid().ToString();
            var text = "Please confirm task " + Guid.NewGuid().ToString("N")[..8];
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await GatewayChat.SendAsync(client, sessionKey, text, runId, deliver: false, ct);
            output.WriteLine($"chat.send acknowledged after {clock.Elapsed.TotalMilliseconds:0} ms");

            var final = await events.WaitForAsync(e => GatewayChat.TryParse(e, out var c) && c.RunId == runId && c.IsTerminal ? c : null,
                TimeSpan.FromSeconds(90), "the final chat event");
            output.WriteLine($"{final.State} after {clock.Elapsed.TotalMilliseconds:0} ms: {final.Text} {final.ErrorMessage}");
            foreach (var e in events.All.Where(e => e.Name is "chat" or "agent"))
            {
                var raw = e.Payload.GetRawText();
                output.WriteLine($"  {e.Name} {raw[..Math.Min(300, raw.Length)]}");
            }
            Assert.Equal("final", final.State);
            Assert.Equal(sessionKey, final.SessionKey);
            Assert.Equal(id, final.AgentId);

            var request = Assert.Single(fixture.Model.Requests, r => r.LastUserMessage?.Contains(text, StringComparison.Ordinal) == true);
            output.WriteLine($"model saw user message: {request.LastUserMessage}");
            Assert.Equal(request.Reply, final.Text);
            Assert.Equal("Ack: " + text, final.Text);
            Assert.Contains(marker, request.SystemPrompt);
            Assert.Contains("Chatty", request.SystemPrompt);

            var usage = events.All.Select(e => GatewayChat.TryParseUsage(e, out var u) && u.RunId == runId ? u : null).Where(u => u is not null).ToList();
            foreach (var u in usage)
            {
                output.WriteLine($"usage: {u}");
            }
            // Live: output tokens only (the run's total so far).
            var live = Assert.IsType<ChatUsage>(usage.LastOrDefault());
            Assert.True(live.IsPartial);
            Assert.Equal(sessionKey, live.SessionKey);
            Assert.Equal(id, live.AgentId);
            Assert.Equal(request.CompletionTokens, live.OutputTokens);

            // Complete: from the transcript, exactly what the model reported.
            var full = await GatewayChat.GetRunUsageAsync(client, sessionKey, runId, ct);
            output.WriteLine($"run usage: {full}");
            Assert.NotNull(full);
            Assert.Equal(request.PromptTokens, full.InputTokens);
            Assert.Equal(request.CompletionTokens, full.OutputTokens);
            Assert.Equal(request.TotalTokens, full.TotalTokens);
            Assert.Equal("fake-model", full.Model);
            Assert.Equal("fake", full.Provider);
            Assert.False(full.IsPartial);
        }
        finally
        {
            // Tidying the fixture's gateway, not what this test checks (deletion has tests of its own): on a
            // saturated machine the gateway can time out its own state lease here (OPENCLAW_STATE_LEASE_LOST).
            try
            {
                await AgentProvisioner.DeleteAsync(client, id, GatewayChat.SessionKey(id), CancellationToken.None);
            }
            catch (GatewayException e)
            {
                output.WriteLine($"cleanup: the agent was not deleted: {e.Message}");
            }
        }
    }
}
