using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MissionControl.GatewayBridge.OpenClaw;

namespace MissionControl.EndToEnd.Tests;

[CollectionDefinition(Collection)]
public sealed class GatewaySystemCollection : ICollectionFixture<BrokerFixture>, ICollectionFixture<OpenClawGatewayFixture>
{
    public const string Collection = "system-with-gateway";
}

/// <summary>
/// The whole system as processes (orgs, tasks, agents, gateway-bridge, edge) on the real broker, with a
/// real OpenClaw gateway whose model is a fake on loopback. Tests talk to the edge, and look at the
/// gateway directly to see what Mission Control did there.
/// </summary>
[Collection(GatewaySystemCollection.Collection)]
public sealed class AgentsOnGatewayTests(BrokerFixture broker, OpenClawGatewayFixture gateway) : IAsyncLifetime
{
    private EdgeSystem _system = null!;
    private HttpClient _user = null!;
    private string _key = "";

    private static readonly TimeSpan ProvisionWait = TimeSpan.FromSeconds(90);

    public Task InitializeAsync() => StartAsync(new Dictionary<string, string?>());

    private async Task StartAsync(Dictionary<string, string?> agentsSettings)
    {
        agentsSettings.TryAdd("Agents__SweepInterval", "00:00:01");
        _system = await EdgeSystem.StartAsync(broker, agents: agentsSettings);
        (_, _key, _) = await _system.UserWithApiKeyAsync("Grace");
        _user = _system.Client(_key);
        await EdgeSystem.CreateAsync(_user, "/api/v1/organizations", new { name = $"Acme {Guid.NewGuid():N}" });
    }

    public async Task DisposeAsync()
    {
        _user?.Dispose();
        await _system.DisposeAsync();
    }

    private Task<Guid> RegisterGatewayAsync() => EdgeSystem.CreateAsync(_user, "/api/v1/gateways",
        new { name = "Local gateway", url = gateway.Url.ToString(), workspace_root = gateway.WorkspaceRoot, token = gateway.Token });

    private Task<Guid> BoardOnAsync(Guid gatewayId) =>
        EdgeSystem.CreateAsync(_user, "/api/v1/boards", new { name = "Launch", description = "Ship it", gateway_id = gatewayId });

    /// <summary>Creates an agent once the agents service has heard of the board and its gateway (events, milliseconds).</summary>
    private async Task<Guid> CreateAgentAsync(Guid board, string name)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var response = await _user.PostAsJsonAsync("/api/v1/agents", new { board_id = board, name, identity_template = $"You are {name}, a careful engineer." });
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == HttpStatusCode.Created) return JsonDocument.Parse(body).RootElement.GetProperty("id").GetGuid();
            Assert.True(DateTime.UtcNow < deadline && response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.UnprocessableEntity,
                $"create agent: {(int)response.StatusCode} {body}");
            await Task.Delay(100);
        }
    }

    private async Task<JsonElement> AgentAsync(Guid agent) => await _user.GetFromJsonAsync<JsonElement>($"/api/v1/agents/{agent}");

    private async Task<JsonElement> WaitForStatusAsync(Guid agent, params IReadOnlyList<string> statuses)
    {
        JsonElement read = default;
        await EdgeSystem.EventuallyAsync(async () => statuses.Contains((read = await AgentAsync(agent)).GetProperty("status").GetString()), ProvisionWait,
            $"agent {agent} to be {string.Join(" or ", statuses)}");
        return read;
    }

    private async Task<GatewayClient> GatewayAsync() =>
        await GatewayClient.ConnectAsync(new GatewayConnectOptions(gateway.Url, gateway.Token), new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);

    private static async Task<List<string>> GatewayAgentIdsAsync(GatewayClient rpc) =>
        [.. (await rpc.RequestAsync("agents.list", null, CancellationToken.None)).GetProperty("agents").EnumerateArray().Select(a => a.GetProperty("id").GetString()!)];

    private static async Task<string> FileAsync(GatewayClient rpc, string agentId, string name) =>
        (await rpc.RequestAsync("agents.files.get", new { agentId, name }, CancellationToken.None)).GetProperty("file").GetProperty("content").GetString()!;

    [Fact]
    public async Task An_agent_created_through_the_edge_lives_on_the_gateway_answers_its_task_and_is_removed_with_it()
    {
        var gatewayId = await RegisterGatewayAsync();
        var board = await BoardOnAsync(gatewayId);

        // The gateway's own main agent is provisioned on registration.
        await EdgeSystem.EventuallyAsync(async () =>
        {
            var agents = await _user.GetFromJsonAsync<JsonElement>($"/api/v1/agents?gateway_id={gatewayId}");
            return agents.GetProperty("items").EnumerateArray().Any(a => a.GetProperty("is_gateway_main").GetBoolean() && a.GetProperty("status").GetString() == "ready");
        }, ProvisionWait, "the gateway-main agent to be ready");

        await using var agentStream = await SseClient.OpenAsync(_user, $"/api/v1/agents/stream?board_id={board}");
        var agent = await CreateAgentAsync(board, "Ada");
        Assert.Equal("provisioning", (await AgentAsync(agent)).GetProperty("status").GetString());
        var ready = await WaitForStatusAsync(agent, "ready");

        // The agents stream showed it arrive and become ready.
        var seen = new List<(string Type, string? Status)>();
        while (!seen.Contains(("agent.updated", "ready")))
        {
            var frame = await agentStream.NextAsync(TimeSpan.FromSeconds(10));
            Assert.Equal("agent", frame.Event);
            var data = JsonDocument.Parse(frame.Data).RootElement;
            Assert.Equal(agent, data.GetProperty("agent").GetProperty("id").GetGuid());
            seen.Add((data.GetProperty("type").GetString()!, data.GetProperty("agent").GetProperty("status").GetString()));
        }
        Assert.Equal(("agent.created", "provisioning"), seen[0]);
        var gatewayAgentId = ready.GetProperty("gateway_agent_id").GetString()!;
        Assert.Equal($"mc-{agent}", gatewayAgentId);
        Assert.Equal($"agent:mc-{agent}:main", ready.GetProperty("openclaw_session_id").GetString());

        // What Mission Control wrote is on the gateway: the agent, its identity, its tools with a working token.
        await using var rpc = await GatewayAsync();
        Assert.Contains(gatewayAgentId, await GatewayAgentIdsAsync(rpc));
        Assert.Contains("You are Ada, a careful engineer.", await FileAsync(rpc, gatewayAgentId, "IDENTITY.md"));
        var agentsMd = await FileAsync(rpc, gatewayAgentId, "AGENTS.md");
        Assert.Contains("## Tools", agentsMd);
        var token = agentsMd.Split("AUTH_TOKEN=")[1].Split(['\n', '`', ' '])[0];
        Assert.StartsWith("mca_", token);
        using (var asAgent = _system.Client())
        {
            asAgent.DefaultRequestHeaders.Add("X-Agent-Token", token);
            var health = await asAgent.GetFromJsonAsync<JsonElement>("/api/v1/agent/healthz");
            Assert.Equal(agent, health.GetProperty("agent_id").GetGuid());
        }

        // Assigning it a task sends it a message; the (fake) model's reply comes back as its comment, live.
        await using var stream = await SseClient.OpenAsync(_user, $"/api/v1/boards/{board}/tasks/stream");
        var task = await EdgeSystem.CreateAsync(_user, $"/api/v1/boards/{board}/tasks", new { title = "Write the launch plan", assigned_agent_id = agent });
        JsonElement comment = default;
        var until = DateTime.UtcNow + ProvisionWait;
        while (comment.ValueKind == JsonValueKind.Undefined)
        {
            var frame = await stream.NextAsync(until - DateTime.UtcNow);
            var data = JsonDocument.Parse(frame.Data).RootElement;
            if (data.GetProperty("type").GetString() == "task.comment") comment = data.GetProperty("comment");
        }
        Assert.Equal(task, comment.GetProperty("task_id").GetGuid());
        Assert.Equal(agent, comment.GetProperty("agent_id").GetGuid());
        Assert.Contains("Write the launch plan", comment.GetProperty("message").GetString());
        var comments = await _user.GetFromJsonAsync<JsonElement>($"/api/v1/boards/{board}/tasks/{task}/comments");
        Assert.Contains(comments.GetProperty("items").EnumerateArray(), c => c.GetProperty("agent_id").GetString() == agent.ToString());

        // Deleting the agent removes it from the gateway.
        Assert.True((await _user.DeleteAsync($"/api/v1/agents/{agent}")).IsSuccessStatusCode);
        await EdgeSystem.EventuallyAsync(async () => !(await GatewayAgentIdsAsync(rpc)).Contains(gatewayAgentId), TimeSpan.FromSeconds(30),
            "the agent to leave the gateway");

        // No secret in clear in any database or log of Mission Control: not the gateway's token, not the agent's.
        foreach (var file in Directory.EnumerateFiles(_system.WorkDir, "*", SearchOption.AllDirectories))
        {
            var text = Encoding.UTF8.GetString(await ReadSharedAsync(file));
            Assert.False(text.Contains(gateway.Token), $"the gateway token is in {Path.GetFileName(file)}");
            Assert.False(text.Contains(token), $"the agent token is in {Path.GetFileName(file)}");
        }
    }

    [Fact]
    public async Task A_gateway_that_refuses_us_or_is_down_is_refused_with_its_reason_and_a_restart_is_ridden_out()
    {
        var wrong = await _user.PostAsJsonAsync("/api/v1/gateways",
            new { name = "Wrong token", url = gateway.Url.ToString(), workspace_root = gateway.WorkspaceRoot, token = "wrong" });
        Assert.Equal(HttpStatusCode.BadGateway, wrong.StatusCode);
        Assert.Equal("AUTH_TOKEN_MISMATCH", (await wrong.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("gateway_error_code").GetString());
        var down = await _user.PostAsJsonAsync("/api/v1/gateways",
            new { name = "Down", url = $"ws://127.0.0.1:{MissionControl.LocalServers.FreePort.Next()}", workspace_root = "/srv/openclaw", token = "t" });
        Assert.Equal(HttpStatusCode.BadGateway, down.StatusCode);
        Assert.Equal("gateway_unreachable", (await down.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("gateway_error_code").GetString());

        var gatewayId = await RegisterGatewayAsync();
        var board = await BoardOnAsync(gatewayId);
        var agent = await CreateAgentAsync(board, "Linus");
        await WaitForStatusAsync(agent, "ready");

        // The gateway restarts: its state shows it, and the bridge's session comes back by itself.
        var restart = gateway.Gateway.RestartAsync();
        await EdgeSystem.EventuallyAsync(async () => ConnectionState(await _user.GetFromJsonAsync<JsonElement>($"/api/v1/gateways/{gatewayId}")) != "connected",
            TimeSpan.FromSeconds(30), "the gateway to show as not connected");
        await restart;
        await EdgeSystem.EventuallyAsync(async () => ConnectionState(await _user.GetFromJsonAsync<JsonElement>($"/api/v1/gateways/{gatewayId}")) == "connected",
            // Reconnect attempts back off up to 30 s while the gateway starts, which is slow on a loaded box.
            TimeSpan.FromSeconds(120), "the gateway to show as connected again");

        // Work sent after the restart still reaches the agent and its answer still comes back.
        var task = await EdgeSystem.CreateAsync(_user, $"/api/v1/boards/{board}/tasks", new { title = "After the restart", assigned_agent_id = agent });
        await EdgeSystem.EventuallyAsync(async () =>
        {
            var comments = await _user.GetFromJsonAsync<JsonElement>($"/api/v1/boards/{board}/tasks/{task}/comments");
            return comments.GetProperty("items").EnumerateArray().Any(c => c.GetProperty("agent_id").GetString() == agent.ToString());
        }, ProvisionWait, "the agent's reply after the restart");
    }

    [Fact]
    public async Task A_provisioning_run_cut_short_by_a_killed_bridge_is_finished_by_the_next_one()
    {
        var gatewayId = await RegisterGatewayAsync();
        var board = await BoardOnAsync(gatewayId);
        await EdgeSystem.EventuallyAsync(async () =>
            (await _user.GetFromJsonAsync<JsonElement>($"/api/v1/agents?gateway_id={gatewayId}")).GetProperty("items").EnumerateArray()
            .Any(a => a.GetProperty("status").GetString() == "ready"), ProvisionWait, "the gateway-main agent to be ready");

        var agent = await CreateAgentAsync(board, "Barbara");
        // agents.create alone takes about a second: kill the bridge while the run is under way.
        await EdgeSystem.EventuallyAsync(() => Task.FromResult(_system.Log("gateway-bridge").Contains("Holding the live connection")), TimeSpan.FromSeconds(10), "bridge ready");
        await Task.Delay(300);
        await _system.KillAsync("gateway-bridge");
        Assert.Equal("provisioning", (await AgentAsync(agent)).GetProperty("status").GetString());

        await _system.RestartAsync("gateway-bridge");
        var ready = await WaitForStatusAsync(agent, "ready", "provision_failed");
        Assert.Equal("ready", ready.GetProperty("status").GetString());
        await using var rpc = await GatewayAsync();
        Assert.Contains($"mc-{agent}", await GatewayAgentIdsAsync(rpc));
    }

    [Fact]
    public async Task An_agent_whose_gateway_is_away_ends_provision_failed_with_the_reason_and_a_retry_succeeds()
    {
        await DisposeAsync();
        await StartAsync(new Dictionary<string, string?> { ["Agents__ProvisionAttempts"] = "1" });
        var gatewayId = await RegisterGatewayAsync();
        var board = await BoardOnAsync(gatewayId);
        await EdgeSystem.EventuallyAsync(async () =>
            (await _user.GetFromJsonAsync<JsonElement>($"/api/v1/agents?gateway_id={gatewayId}")).GetProperty("items").EnumerateArray()
            .Any(a => a.GetProperty("status").GetString() == "ready"), ProvisionWait, "the gateway-main agent to be ready");

        var restart = gateway.Gateway.RestartAsync();
        await EdgeSystem.EventuallyAsync(async () => !await MissionControl.LocalServers.FreePort.IsListeningAsync("127.0.0.1", gateway.Gateway.Port),
            TimeSpan.FromSeconds(30), "the gateway to stop listening");
        var agent = await CreateAgentAsync(board, "Edsger");
        var failed = await WaitForStatusAsync(agent, "provision_failed", "ready");
        Assert.Equal("provision_failed", failed.GetProperty("status").GetString());
        Assert.False(string.IsNullOrEmpty(failed.GetProperty("last_provision_error").GetString()));

        await restart;
        var retry = await _user.PostAsync($"/api/v1/agents/{agent}/provision", null);
        Assert.True(retry.IsSuccessStatusCode, await retry.Content.ReadAsStringAsync());
        await WaitForStatusAsync(agent, "ready");
    }

    private static string? ConnectionState(JsonElement gatewayRead) => gatewayRead.GetProperty("connection").GetProperty("state").GetString();

    private static async Task<byte[]> ReadSharedAsync(string path)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var copy = new MemoryStream();
        await file.CopyToAsync(copy);
        return copy.ToArray();
    }
}
