using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MissionControl.Contracts.Agents;
using MissionControl.Contracts.Gateways;
using MissionControl.Contracts.Tasks;
using MissionControl.GatewayBridge.Data;
using MissionControl.InternalAuth;

namespace MissionControl.GatewayBridge.Tests;

/// <summary>
/// The gateway-bridge service in-process, on the real broker, against the real gateway: registering
/// gateways, the live connection, provisioning runs, messages into sessions and the replies.
/// </summary>
[Collection(OpenClawGatewayFixture.Collection)]
public sealed class BridgeServiceTests(OpenClawGatewayFixture gateway, BrokerFixture broker) : IAsyncLifetime
{
    private readonly string _workDir = Path.Combine(Path.GetTempPath(), $"mc-bridge-{Guid.NewGuid():N}");
    private ServiceFactory<Program> _bridge = null!;
    private BusProbe _bus = null!;
    private readonly Guid _org = Guid.NewGuid();

    private HttpClient Admin => _bridge.ClientFor(TestTokens.Owner(_org));

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_workDir);
        _bus = await BusProbe.StartAsync(broker.ConnectionString, typeof(GatewayCreated), typeof(GatewayConnectionChanged), typeof(AgentProvisioned),
            typeof(AgentProvisioningFailed), typeof(AgentMessageReceived), typeof(TokenUsageReported), typeof(GatewayDeleted), typeof(GatewayUpdated));
        _bridge = new ServiceFactory<Program>(new Dictionary<string, string?>
        {
            ["ConnectionStrings:messaging"] = broker.ConnectionString,
            ["ConnectionStrings:gatewaybridgedb"] = $"Data Source={Path.Combine(_workDir, "bridge.db")}",
            ["DataProtection:KeysPath"] = Path.Combine(_workDir, "keys"),
            ["GatewayBridge:ReconcileInterval"] = "00:00:01",
        });
        await _bridge.CreateClient().WaitHealthyAsync();
    }

    public async Task DisposeAsync()
    {
        await _bridge.DisposeAsync();
        await _bus.DisposeAsync();
        try { Directory.Delete(_workDir, recursive: true); } catch (IOException) { }
    }

    private async Task<Guid> RegisterGatewayAsync()
    {
        var response = await Admin.PostAsJsonAsync("/api/v1/gateways",
            new { name = "Local", url = gateway.Url.ToString(), workspace_root = gateway.WorkspaceRoot, token = gateway.Token });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == HttpStatusCode.Created, body.ToString());
        return body.GetProperty("id").GetGuid();
    }

    [Fact]
    public async Task A_gateway_is_checked_by_connecting_and_its_token_is_never_shown_nor_stored_in_clear()
    {
        var response = await Admin.PostAsJsonAsync("/api/v1/gateways",
            new { name = "Local", url = gateway.Url.ToString(), workspace_root = gateway.WorkspaceRoot, token = gateway.Token });
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.DoesNotContain(gateway.Token, text);
        var created = JsonDocument.Parse(text).RootElement;
        Assert.True(created.GetProperty("has_token").GetBoolean());
        Assert.Equal("connected", created.GetProperty("connection").GetProperty("state").GetString());
        Assert.Equal("2026.9.6", created.GetProperty("connection").GetProperty("server_version").GetString());
        var id = created.GetProperty("id").GetGuid();
        await _bus.WaitForAsync<GatewayCreated>(e => e.Gateway.Id == id);

        // The live session belongs to this instance and says so on the bus.
        await _bus.WaitForAsync<GatewayConnectionChanged>(e => e.GatewayId == id && e.State == "connected");

        var list = await Admin.GetFromJsonAsync<JsonElement>("/api/v1/gateways");
        Assert.Equal(id, Assert.Single(list.GetProperty("items").EnumerateArray()).GetProperty("id").GetGuid());
        Assert.DoesNotContain(gateway.Token, list.ToString());

        // Nothing of the token in the database file (it is encrypted with a key kept outside it).
        await using (var scope = _bridge.Services.CreateAsyncScope())
        {
            var row = await scope.ServiceProvider.GetRequiredService<GatewayBridgeDbContext>().Gateways.SingleAsync(g => g.Id == id);
            Assert.NotNull(row.TokenProtected);
            Assert.DoesNotContain(gateway.Token, row.TokenProtected);
        }
        foreach (var file in Directory.GetFiles(_workDir, "bridge.db*"))
        {
            var bytes = await ReadSharedAsync(file);
            Assert.DoesNotContain(gateway.Token, Encoding.UTF8.GetString(bytes));
        }

        // Other organizations do not see it; members may not manage gateways.
        var other = _bridge.ClientFor(TestTokens.Owner(Guid.NewGuid()));
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/api/v1/gateways/{id}")).StatusCode);
        var member = _bridge.ClientFor(TestTokens.Member(_org));
        Assert.Equal(HttpStatusCode.Forbidden, (await member.GetAsync("/api/v1/gateways")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync($"/api/v1/gateways/{id}")).StatusCode);
        await _bus.WaitForAsync<GatewayDeleted>(e => e.GatewayId == id);
    }

    [Fact]
    public async Task A_gateway_that_refuses_us_or_does_not_answer_is_not_registered()
    {
        var wrongToken = await Admin.PostAsJsonAsync("/api/v1/gateways",
            new { name = "Wrong", url = gateway.Url.ToString(), workspace_root = gateway.WorkspaceRoot, token = "not-the-token" });
        Assert.Equal(HttpStatusCode.BadGateway, wrongToken.StatusCode);
        var problem = await wrongToken.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("gateway_check_failed", problem.GetProperty("code").GetString());
        Assert.Equal("AUTH_TOKEN_MISMATCH", problem.GetProperty("gateway_error_code").GetString());

        var port = MissionControl.LocalServers.FreePort.Next();
        var down = await Admin.PostAsJsonAsync("/api/v1/gateways",
            new { name = "Down", url = $"ws://127.0.0.1:{port}", workspace_root = "/tmp/x", token = "t" });
        Assert.Equal(HttpStatusCode.BadGateway, down.StatusCode);
        Assert.Equal("gateway_unreachable", (await down.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("gateway_error_code").GetString());

        var invalid = await Admin.PostAsJsonAsync("/api/v1/gateways", new { name = "", url = "http://x", workspace_root = "relative" });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, invalid.StatusCode);
        var errors = (await invalid.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.True(errors.TryGetProperty("name", out _) && errors.TryGetProperty("url", out _) && errors.TryGetProperty("workspace_root", out _));

        Assert.Empty((await Admin.GetFromJsonAsync<JsonElement>("/api/v1/gateways")).GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task A_provisioning_run_writes_the_files_with_a_fresh_token_and_a_reply_to_a_task_message_comes_back()
    {
        var gatewayId = await RegisterGatewayAsync();
        var agentId = Guid.NewGuid();
        var gatewayAgentId = $"mc-{agentId}";
        var sessionKey = $"agent:{gatewayAgentId}:main";
        var board = Guid.NewGuid();
        await _bus.PublishAsync(new AgentProvisioningRequested
        {
            OrganizationId = _org, AgentId = agentId, GatewayId = gatewayId, BoardId = board, Action = "provision", Generation = 1,
            GatewayAgentId = gatewayAgentId, SessionKey = sessionKey, Deadline = DateTimeOffset.UtcNow.AddMinutes(2), OccurredAt = DateTimeOffset.UtcNow,
            Files = new Dictionary<string, string>
            {
                ["AGENTS.md"] = $"# AGENTS\n\n## Tools\n\n- AUTH_TOKEN={ProvisioningMarkers.AgentToken}\n- WORKSPACE_PATH={ProvisioningMarkers.WorkspacePath}\n",
                ["IDENTITY.md"] = "# IDENTITY\n\n- Name: Ada\n",
                ["TOOLS.md"] = $"AUTH_TOKEN={ProvisioningMarkers.AgentToken}\n",
            },
        });
        var (_, provisioned) = await _bus.WaitForAsync<AgentProvisioned>(e => e.AgentId == agentId, TimeSpan.FromSeconds(60));
        Assert.Equal(sessionKey, provisioned.SessionKey);
        Assert.Equal($"{gateway.WorkspaceRoot.TrimEnd('/')}/workspace-{gatewayAgentId}", provisioned.WorkspacePath);
        Assert.Contains("AGENTS.md", provisioned.FilesWritten);
        Assert.DoesNotContain("TOOLS.md", provisioned.FilesWritten); // this gateway refuses it; the tools live in AGENTS.md

        await using var rpc = await GatewayClient.ConnectAsync(Gateway.Options(gateway), Gateway.Timeout());
        Assert.Contains(gatewayAgentId, await Gateway.AgentIdsAsync(rpc, Gateway.Timeout()));
        var agentsMd = (await Gateway.GetFileAsync(rpc, gatewayAgentId, "AGENTS.md", Gateway.Timeout())).GetProperty("content").GetString()!;
        var token = agentsMd.Split("AUTH_TOKEN=")[1].Split('\n')[0];
        Assert.StartsWith(AgentTokens.Scheme, token);
        Assert.Equal(AgentTokens.Hash(token), provisioned.TokenHash);
        Assert.Contains($"WORKSPACE_PATH={provisioned.WorkspacePath}", agentsMd);
        Assert.Equal("# IDENTITY\n\n- Name: Ada\n",
            (await Gateway.GetFileAsync(rpc, gatewayAgentId, "IDENTITY.md", Gateway.Timeout())).GetProperty("content").GetString());

        // A message about a task goes into the agent's session; the model's reply comes back with the task id and its usage.
        await _bus.PublishAsync(new AgentCreated
        {
            OrganizationId = _org, OccurredAt = DateTimeOffset.UtcNow,
            Agent = new AgentState
            {
                Id = agentId, OrganizationId = _org, BoardId = board, GatewayId = gatewayId, Name = "Ada", Status = "ready", SessionKey = sessionKey,
                CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow,
            },
        });
        var task = Guid.NewGuid();
        var notification = Guid.NewGuid();
        await Gateway.WaitUntilAsync(() => AgentCopyExists(agentId), TimeSpan.FromSeconds(10), "the agent copy");
        await _bus.PublishAsync(new AgentNotificationRequested
        {
            OrganizationId = _org, BoardId = board, AgentId = agentId, Kind = "task.assignee_notified", Message = "TASK ASSIGNED: write the plan",
            TaskId = task, OccurredAt = DateTimeOffset.UtcNow,
        }, notification);
        var (_, reply) = await _bus.WaitForAsync<AgentMessageReceived>(e => e.TaskId == task && e.State == "final", TimeSpan.FromSeconds(90));
        Assert.Equal(agentId, reply.AgentId);
        Assert.Equal(notification.ToString(), reply.RunId);
        Assert.Contains("TASK ASSIGNED: write the plan", reply.Text);
        var (_, usage) = await _bus.WaitForAsync<TokenUsageReported>(e => e.RunId == reply.RunId, TimeSpan.FromSeconds(30));
        Assert.Equal(task, usage.TaskId);
        Assert.True(usage.InputTokens > 0 && usage.OutputTokens > 0);

        // The same notification delivered again is not sent again.
        await _bus.PublishAsync(new AgentNotificationRequested
        {
            OrganizationId = _org, BoardId = board, AgentId = agentId, Kind = "task.assignee_notified", Message = "TASK ASSIGNED: write the plan",
            TaskId = task, OccurredAt = DateTimeOffset.UtcNow,
        }, notification);
        await Task.Delay(1500);
        Assert.Single(_bus.Received<AgentMessageReceived>(e => e.TaskId == task));

        // Removing the agent takes it off the gateway.
        await _bus.PublishAsync(new AgentDeprovisionRequested
        {
            OrganizationId = _org, AgentId = agentId, GatewayId = gatewayId, GatewayAgentId = gatewayAgentId, SessionKey = sessionKey,
            OccurredAt = DateTimeOffset.UtcNow,
        });
        var gone = DateTime.UtcNow.AddSeconds(30);
        while ((await Gateway.AgentIdsAsync(rpc, Gateway.Timeout())).Contains(gatewayAgentId))
        {
            Assert.True(DateTime.UtcNow < gone, "the agent is still on the gateway");
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task The_gateways_live_view_shows_its_status_sessions_and_history_and_takes_a_message()
    {
        var id = await RegisterGatewayAsync();
        // The gateway answers UNAVAILABLE for a moment while it reloads its config (after another test's
        // agents come and go); the status says so instead of failing, and is right again after.
        await Gateway.WaitUntilAsync(() => Admin.GetFromJsonAsync<JsonElement>($"/api/v1/gateways/status?gateway_id={id}").GetAwaiter().GetResult()
            .GetProperty("connected").GetBoolean(), TimeSpan.FromSeconds(20), "the status to say connected");
        var commands = await Admin.GetFromJsonAsync<JsonElement>($"/api/v1/gateways/commands?gateway_id={id}");
        Assert.Equal(4, commands.GetProperty("protocol_version").GetInt32());
        Assert.Contains("chat.send", commands.GetProperty("methods").EnumerateArray().Select(m => m.GetString()));

        const string session = "agent:main:main";
        var sent = await Admin.PostAsJsonAsync($"/api/v1/gateways/sessions/{session}/message?gateway_id={id}", new { content = "Hello from the live view" });
        Assert.Equal(HttpStatusCode.OK, sent.StatusCode);
        await Gateway.WaitUntilAsync(() =>
        {
            var history = Admin.GetFromJsonAsync<JsonElement>($"/api/v1/gateways/sessions/{session}/history?gateway_id={id}").GetAwaiter().GetResult();
            return history.GetProperty("history").ToString().Contains("Hello from the live view");
        }, TimeSpan.FromSeconds(30), "the message in the session's history");
        var sessions = await Admin.GetFromJsonAsync<JsonElement>($"/api/v1/gateways/sessions?gateway_id={id}");
        Assert.Contains(sessions.GetProperty("sessions").EnumerateArray(), s => s.GetProperty("key").GetString() == session);
        Assert.Equal(HttpStatusCode.OK, (await Admin.GetAsync($"/api/v1/gateways/sessions/{session}?gateway_id={id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Admin.GetAsync($"/api/v1/gateways/sessions/agent:nobody:main?gateway_id={id}")).StatusCode);

        // A board with no copy here, or another organization's gateway: not found.
        Assert.Equal(HttpStatusCode.NotFound, (await Admin.GetAsync($"/api/v1/gateways/sessions?board_id={Guid.NewGuid()}")).StatusCode);
        var stranger = _bridge.ClientFor(TestTokens.Owner(Guid.NewGuid()));
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/api/v1/gateways/sessions?gateway_id={id}")).StatusCode);
    }

    [Fact]
    public async Task A_message_for_an_agent_not_yet_on_its_gateway_is_sent_once_its_provisioning_is_done()
    {
        var gatewayId = await RegisterGatewayAsync();
        var board = Guid.NewGuid();
        var now = DateTimeOffset.UtcNow;
        await _bus.PublishAsync(new MissionControl.Contracts.Orgs.BoardCreated
        {
            OrganizationId = _org, BoardId = board, OccurredAt = now,
            Board = new MissionControl.Contracts.Orgs.BoardState
            {
                Id = board, OrganizationId = _org, Name = "Launch", Slug = "launch", Description = "Ship it", GatewayId = gatewayId,
                Rules = new MissionControl.Contracts.Orgs.BoardRules(), CreatedAt = now, UpdatedAt = now,
            },
        });
        await Gateway.WaitUntilAsync(() => Exists(db => db.Boards.Any(b => b.Id == board)), TimeSpan.FromSeconds(10), "the board copy");

        // A lead created for this very message: the message comes first, the agent after.
        var lead = Guid.NewGuid();
        var task = Guid.NewGuid();
        await _bus.PublishAsync(new AgentNotificationRequested
        {
            OrganizationId = _org, BoardId = board, AgentId = lead, Kind = "gateway.main_question", Message = "GATEWAY MAIN QUESTION: what is the plan?",
            TaskId = task, OccurredAt = DateTimeOffset.UtcNow,
        });
        await Gateway.WaitUntilAsync(() => Exists(db => db.Dispatches.Any(d => d.AgentId == lead && d.State == "awaiting_agent")), TimeSpan.FromSeconds(10),
            "the message to wait for its agent");
        await _bus.PublishAsync(new AgentProvisioningRequested
        {
            OrganizationId = _org, AgentId = lead, GatewayId = gatewayId, BoardId = board, Action = "provision", Generation = 1,
            GatewayAgentId = $"lead-{board}", SessionKey = $"agent:lead-{board}:main", Deadline = DateTimeOffset.UtcNow.AddMinutes(2),
            OccurredAt = DateTimeOffset.UtcNow, Files = new Dictionary<string, string> { ["IDENTITY.md"] = "# IDENTITY\n\n- Name: Lead Agent\n" },
        });
        var (_, reply) = await _bus.WaitForAsync<AgentMessageReceived>(e => e.TaskId == task && e.State == "final", TimeSpan.FromSeconds(90));
        Assert.Equal(lead, reply.AgentId);
        Assert.Contains("GATEWAY MAIN QUESTION", reply.Text);
    }

    [Fact]
    public async Task A_gateway_change_is_checked_like_a_new_one_and_announced()
    {
        var id = await RegisterGatewayAsync();
        var renamed = await Admin.PatchAsJsonAsync($"/api/v1/gateways/{id}", new { name = "Renamed", allow_insecure_tls = true });
        Assert.Equal(HttpStatusCode.OK, renamed.StatusCode);
        var read = await renamed.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Renamed", read.GetProperty("name").GetString());
        Assert.True(read.GetProperty("allow_insecure_tls").GetBoolean());
        await _bus.WaitForAsync<GatewayUpdated>(e => e.Gateway.Id == id && e.ChangedFields.SequenceEqual(new[] { "name", "allow_insecure_tls" }));

        var badFlag = await Admin.PatchAsJsonAsync($"/api/v1/gateways/{id}", new { disable_device_pairing = "yes" });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, badFlag.StatusCode);
        var wrongToken = await Admin.PatchAsJsonAsync($"/api/v1/gateways/{id}", new { token = "not-the-token" });
        Assert.Equal(HttpStatusCode.BadGateway, wrongToken.StatusCode);
        var unchanged = await Admin.GetFromJsonAsync<JsonElement>($"/api/v1/gateways/{id}");
        Assert.Equal("Renamed", unchanged.GetProperty("name").GetString());
        Assert.False(unchanged.GetProperty("disable_device_pairing").GetBoolean());
    }

    [Fact]
    public async Task A_dispatched_task_goes_to_its_gateway_agents_session_and_custom_or_unknown_agents_are_ignored()
    {
        var gatewayId = await RegisterGatewayAsync();
        var board = Guid.NewGuid();
        var now = DateTimeOffset.UtcNow;
        await _bus.PublishAsync(new MissionControl.Contracts.Orgs.BoardCreated
        {
            OrganizationId = _org, BoardId = board, OccurredAt = now,
            Board = new MissionControl.Contracts.Orgs.BoardState
            {
                Id = board, OrganizationId = _org, Name = "Launch", Slug = "launch", GatewayId = gatewayId,
                Rules = new MissionControl.Contracts.Orgs.BoardRules(), CreatedAt = now, UpdatedAt = now,
            },
        });
        var worker = Guid.NewGuid();
        var custom = Guid.NewGuid();
        await _bus.PublishAsync(new AgentCreated
        {
            OrganizationId = _org, OccurredAt = now,
            Agent = new AgentState { Id = worker, OrganizationId = _org, BoardId = board, GatewayId = gatewayId, Name = "Ada", Status = "provisioning", CreatedAt = now, UpdatedAt = now },
        });
        await _bus.PublishAsync(new AgentCreated
        {
            OrganizationId = _org, OccurredAt = now,
            Agent = new AgentState { Id = custom, OrganizationId = _org, BoardId = board, Name = "Script", Status = "ready", IsCustom = true, CreatedAt = now, UpdatedAt = now },
        });
        await Gateway.WaitUntilAsync(() => Exists(db => db.Boards.Any(b => b.Id == board) && db.Agents.Count(a => a.Id == worker || a.Id == custom) == 2),
            TimeSpan.FromSeconds(10), "the board and agent copies");

        TaskDispatched Dispatched(Guid agent, Guid task) => new()
        {
            OrganizationId = _org, BoardId = board, AgentId = agent, Kind = "prompt", Message = "TASK DISPATCHED: write the plan", OccurredAt = now,
            Task = new TaskSnapshot { Id = task, BoardId = board, Title = "Write the plan", Status = "in_progress", Priority = "high", AssignedAgentId = agent, CreatedAt = now, UpdatedAt = now },
            Activity = new ActivityInfo { Id = Guid.NewGuid(), EventType = "task.dispatched", TaskId = task, CreatedAt = now },
        };
        var unknown = Guid.NewGuid();
        await _bus.PublishAsync(Dispatched(custom, Guid.NewGuid()));
        await _bus.PublishAsync(Dispatched(unknown, Guid.NewGuid()));
        // The gateway agent's task waits for its provisioning (as notifications do), then goes out with chat.send.
        var task = Guid.NewGuid();
        var dispatch = Guid.NewGuid();
        await _bus.PublishAsync(Dispatched(worker, task), dispatch);
        await Gateway.WaitUntilAsync(() => Exists(db => db.Dispatches.Any(d => d.Id == dispatch && d.State == "awaiting_agent" && d.Kind == "task.dispatched")),
            TimeSpan.FromSeconds(10), "the dispatched task to wait for its agent");
        await _bus.PublishAsync(new AgentProvisioningRequested
        {
            OrganizationId = _org, AgentId = worker, GatewayId = gatewayId, BoardId = board, Action = "provision", Generation = 1,
            GatewayAgentId = $"mc-{worker}", SessionKey = $"agent:mc-{worker}:main", Deadline = DateTimeOffset.UtcNow.AddMinutes(2),
            OccurredAt = DateTimeOffset.UtcNow, Files = new Dictionary<string, string> { ["IDENTITY.md"] = "# IDENTITY\n\n- Name: Ada\n" },
        });
        var (_, reply) = await _bus.WaitForAsync<AgentMessageReceived>(e => e.TaskId == task && e.State == "final", TimeSpan.FromSeconds(90));
        Assert.Equal(worker, reply.AgentId);
        Assert.Equal(dispatch.ToString(), reply.RunId);
        Assert.Contains("TASK DISPATCHED: write the plan", reply.Text);
        // Recorded like a notification: sent, then replied (the provisioning run saves the row once it has sent what waited).
        await Gateway.WaitUntilAsync(() => Exists(db => db.Dispatches.Any(d => d.Id == dispatch && (d.State == "sent" || d.State == "replied"))), TimeSpan.FromSeconds(15),
            "the dispatch recorded as sent (or replied)");
        Assert.False(Exists(db => db.Dispatches.Any(d => d.AgentId == custom || d.AgentId == unknown)));
    }

    [Fact]
    public async Task A_run_for_an_unknown_gateway_fails_at_once_and_says_why()
    {
        var agentId = Guid.NewGuid();
        await _bus.PublishAsync(new AgentProvisioningRequested
        {
            OrganizationId = _org, AgentId = agentId, GatewayId = Guid.NewGuid(), Action = "provision", Generation = 1, GatewayAgentId = $"mc-{agentId}",
            SessionKey = $"agent:mc-{agentId}:main", Files = new Dictionary<string, string>(), Deadline = DateTimeOffset.UtcNow.AddMinutes(1),
            OccurredAt = DateTimeOffset.UtcNow,
        });
        var (_, failed) = await _bus.WaitForAsync<AgentProvisioningFailed>(e => e.AgentId == agentId);
        Assert.Equal("gateway_unknown", failed.ErrorCode);
        Assert.False(failed.Retryable);
    }

    private bool Exists(Func<GatewayBridgeDbContext, bool> query)
    {
        using var scope = _bridge.Services.CreateScope();
        return query(scope.ServiceProvider.GetRequiredService<GatewayBridgeDbContext>());
    }

    private bool AgentCopyExists(Guid agentId)
    {
        using var scope = _bridge.Services.CreateScope();
        return scope.ServiceProvider.GetRequiredService<GatewayBridgeDbContext>().Agents.Any(a => a.Id == agentId && a.Name == "Ada");
    }

    private static async Task<byte[]> ReadSharedAsync(string path)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var copy = new MemoryStream();
        await file.CopyToAsync(copy);
        return copy.ToArray();
    }
}

/// <summary>Two bridge instances on one database: one live connection per gateway, taken over when its holder goes.</summary>
[Collection(OpenClawGatewayFixture.Collection)]
public sealed class GatewayLeaseTests(OpenClawGatewayFixture gateway, BrokerFixture broker)
{
    private ServiceFactory<Program> Bridge(string workDir) => new(new Dictionary<string, string?>
    {
        ["ConnectionStrings:messaging"] = broker.ConnectionString,
        ["ConnectionStrings:gatewaybridgedb"] = $"Data Source={Path.Combine(workDir, "bridge.db")}",
        ["DataProtection:KeysPath"] = Path.Combine(workDir, "keys"),
        ["GatewayBridge:ReconcileInterval"] = "00:00:00.500",
        ["GatewayBridge:LeaseDuration"] = "00:00:03",
    });

    [Fact]
    public async Task Only_one_instance_holds_a_gateway_and_another_takes_over_when_it_stops()
    {
        var workDir = Path.Combine(Path.GetTempPath(), $"mc-bridge-lease-{Guid.NewGuid():N}");
        Directory.CreateDirectory(workDir);
        var first = Bridge(workDir);
        await first.CreateClient().WaitHealthyAsync();
        var second = Bridge(workDir);
        await second.CreateClient().WaitHealthyAsync();
        try
        {
            var admin = first.ClientFor(TestTokens.Owner(Guid.NewGuid()));
            var response = await admin.PostAsJsonAsync("/api/v1/gateways",
                new { name = "Shared", url = gateway.Url.ToString(), workspace_root = gateway.WorkspaceRoot, token = gateway.Token });
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();

            GatewaySession? Held(ServiceFactory<Program> bridge) => bridge.Services.GetRequiredService<GatewayBridge.Connections.GatewayConnections>().OwnedSession(id);
            await Gateway.WaitUntilAsync(() => Held(first) is not null || Held(second) is not null, TimeSpan.FromSeconds(10), "an instance to hold the gateway");
            await Task.Delay(1500); // several reconcile rounds: the other instance must still not connect
            Assert.True(Held(first) is null ^ Held(second) is null, "exactly one instance holds the live connection");

            var (holder, other) = Held(first) is not null ? (first, second) : (second, first);
            await holder.DisposeAsync();
            await Gateway.WaitUntilAsync(() => Held(other)?.State == GatewaySessionState.Connected, TimeSpan.FromSeconds(15), "the other instance to take over");
            if (holder == first) first = null!;
            else second = null!;
        }
        finally
        {
            if (first is not null) await first.DisposeAsync();
            if (second is not null) await second.DisposeAsync();
            try { Directory.Delete(workDir, recursive: true); } catch (IOException) { }
        }
    }
}
