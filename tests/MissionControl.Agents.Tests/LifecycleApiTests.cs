using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MissionControl.Contracts.Agents;
using MissionControl.InternalAuth;

namespace MissionControl.Agents.Tests;

/// <summary>Create, provision, resolve, retry, deadlines: the provisioning conversation driven by fake bridge answers and a fake clock.</summary>
public abstract class LifecycleApiTests(BrokerFixture broker) : AgentsServiceTest(broker)
{
    [Fact]
    public async Task Creating_an_agent_answers_provisioning_and_requests_a_run_with_markers_and_no_token()
    {
        var gateway = await GatewayAsync();
        var board = await BoardAsync(gateway);

        var response = await Owner.PostAsJsonAsync("/api/v1/agents", new { board_id = board, name = "Researcher", identity_profile = new { role = "analyst" } });

        var agent = await ReadAsync(response, HttpStatusCode.Created);
        var id = Id(agent);
        Assert.Equal("provisioning", Status(agent));
        Assert.Equal(gateway, agent.GetProperty("gateway_id").GetGuid());
        Assert.Equal(1, agent.GetProperty("provision_generation").GetInt64());
        Assert.Equal("analyst", agent.GetProperty("identity_profile").GetProperty("role").GetString());
        Assert.False(agent.TryGetProperty("token_hash", out _));
        Assert.Equal($"/api/v1/agents/{id}", response.Headers.Location?.OriginalString);

        var created = (await Bus.WaitForAsync<AgentCreated>(e => e.Agent.Id == id)).Message;
        Assert.Equal("provisioning", created.Agent.Status);
        Assert.Equal(board, created.Agent.BoardId);
        var request = await RequestedAsync(id, 1);
        Assert.Equal("provision", request.Action);
        Assert.Equal($"mc-{id}", request.GatewayAgentId);
        Assert.Equal($"agent:mc-{id}:main", request.SessionKey);
        Assert.True(request.IssueToken);
        Assert.Empty(request.PreserveIfPresent);
        Assert.StartsWith("Hello Researcher. Your workspace has been provisioned.", request.WakeMessage);
        Assert.InRange(request.Deadline - Time.GetUtcNow(), TimeSpan.FromSeconds(89), TimeSpan.FromSeconds(91));
        Assert.Contains($"AUTH_TOKEN={ProvisioningMarkers.AgentToken}", request.Files["TOOLS.md"]);
        Assert.Contains($"AUTH_TOKEN={ProvisioningMarkers.AgentToken}", request.Files["AGENTS.md"]);
        Assert.Contains("BASE_URL=https://mc.example.test", request.Files["AGENTS.md"]);
        Assert.Contains("- Role: analyst", request.Files["IDENTITY.md"]);
        Assert.DoesNotContain(AgentTokens.Scheme, string.Concat(request.Files.Values));
    }

    [Fact]
    public async Task Provisioned_makes_the_agent_ready_and_its_token_resolvable_by_the_edge_only()
    {
        var board = await BoardAsync(await GatewayAsync());
        var id = Id(await CreateAgentAsync(board, "Researcher"));

        var token = await ProvisionAsync(id, 1);

        var agent = await GetAgentAsync(id);
        Assert.Equal("ready", Status(agent));
        Assert.Equal($"agent:mc-{id}:main", agent.GetProperty("openclaw_session_id").GetString());
        Assert.Equal($"/srv/openclaw/workspace-mc-{id}", agent.GetProperty("workspace_path").GetString());
        Assert.DoesNotContain(AgentTokens.Hash(token), agent.GetRawText());
        Assert.Equal("ready", (await Bus.WaitForAsync<AgentUpdated>(e => e.Agent.Id == id && e.Agent.Status == "ready")).Message.Agent.Status);

        var resolved = await ReadAsync(await Edge.PostAsJsonAsync("/internal/v1/agents/resolve-token", new { token }));
        Assert.Equal(id, resolved.GetProperty("agent_id").GetGuid());
        Assert.Equal(board, resolved.GetProperty("board_id").GetGuid());
        Assert.Equal(Org, resolved.GetProperty("organization_id").GetGuid());
        Assert.False(resolved.GetProperty("is_board_lead").GetBoolean());
        await RefusedAsync(await Edge.PostAsJsonAsync("/internal/v1/agents/resolve-token", new { token = AgentTokens.New() }), HttpStatusCode.NotFound);
        await RefusedAsync(await Owner.PostAsJsonAsync("/internal/v1/agents/resolve-token", new { token }), HttpStatusCode.Forbidden);
        await RefusedAsync(await ClientFor(TestTokens.Service("tasks")).PostAsJsonAsync("/internal/v1/agents/resolve-token", new { token }),
            HttpStatusCode.Forbidden);
        // Resolving counts as seeing the agent.
        Assert.Equal("online", Status(await GetAgentAsync(id)));
    }

    [Fact]
    public async Task Answers_for_a_stale_generation_are_ignored()
    {
        var board = await BoardAsync(await GatewayAsync());
        var id = Id(await CreateAgentAsync(board, "Researcher"));
        await RequestedAsync(id, 1);
        var retried = await ReadAsync(await Owner.PostAsync($"/api/v1/agents/{id}/provision", null), HttpStatusCode.Accepted);
        Assert.Equal(2, retried.GetProperty("provision_generation").GetInt64());

        await ProvisionAsync(id, 1);
        Assert.Equal("provisioning", Status(await GetAgentAsync(id)));
        Assert.Null((await AgentRowAsync(id)).TokenHash);
        await FailAsync(id, 1, retryable: false);
        Assert.Equal("provisioning", Status(await GetAgentAsync(id)));

        await ProvisionAsync(id, 2);
        Assert.Equal("ready", Status(await GetAgentAsync(id)));
    }

    [Fact]
    public async Task Retryable_failures_retry_with_backoff_then_the_run_fails()
    {
        var board = await BoardAsync(await GatewayAsync());
        var id = Id(await CreateAgentAsync(board, "Researcher"));

        await FailAsync(id, 1, retryable: true);
        var row = await AgentRowAsync(id);
        Assert.Equal("provisioning", row.Status);
        Assert.Equal("UNAVAILABLE: gateway starting", row.LastProvisionError);
        Assert.InRange(row.ProvisionRetryAt!.Value - Time.GetUtcNow().UtcDateTime, TimeSpan.FromSeconds(4.99), TimeSpan.FromSeconds(5));

        Time.Advance(TimeSpan.FromSeconds(6));
        var second = await RequestedAsync(id, 2);
        Assert.Equal("provision", second.Action);
        await FailAsync(id, 2, retryable: true);
        Time.Advance(TimeSpan.FromSeconds(11));
        await RequestedAsync(id, 3);
        await FailAsync(id, 3, retryable: true);

        var failed = await GetAgentAsync(id);
        Assert.Equal("provision_failed", Status(failed));
        Assert.Equal("UNAVAILABLE: gateway starting", failed.GetProperty("last_provision_error").GetString());
        await Bus.WaitForAsync<AgentUpdated>(e => e.Agent.Id == id && e.Agent.Status == "provision_failed");

        // A user retry starts a new run; a non-retryable failure fails it at once.
        Assert.Equal("provisioning", Status(await ReadAsync(await Owner.PostAsync($"/api/v1/agents/{id}/provision", null), HttpStatusCode.Accepted)));
        await FailAsync(id, 4, retryable: false, code: "INVALID_REQUEST");
        Assert.Equal("provision_failed", Status(await GetAgentAsync(id)));
        Assert.StartsWith("INVALID_REQUEST", (await AgentRowAsync(id)).LastProvisionError);
    }

    [Fact]
    public async Task A_run_without_an_answer_is_retried_after_its_deadline_and_then_fails()
    {
        var board = await BoardAsync(await GatewayAsync());
        var id = Id(await CreateAgentAsync(board, "Researcher"));
        await RequestedAsync(id, 1);

        Time.Advance(TimeSpan.FromSeconds(91));
        await WaitUntilAsync(async db => (await db.Agents.FindAsync(id))!.ProvisionRetryAt is not null);
        Assert.Equal("no answer from the gateway-bridge before the deadline", (await AgentRowAsync(id)).LastProvisionError);
        Assert.Equal("provisioning", Status(await GetAgentAsync(id)));
        Time.Advance(TimeSpan.FromSeconds(6));
        await RequestedAsync(id, 2);

        Time.Advance(TimeSpan.FromSeconds(91));
        await WaitUntilAsync(async db => (await db.Agents.FindAsync(id))!.ProvisionRetryAt is not null);
        Time.Advance(TimeSpan.FromSeconds(11));
        await RequestedAsync(id, 3);

        Time.Advance(TimeSpan.FromSeconds(91));
        await WaitUntilAsync(async db => (await db.Agents.FindAsync(id))!.Status == "provision_failed");
        var failed = await GetAgentAsync(id);
        Assert.Equal("no answer from the gateway-bridge before the deadline", failed.GetProperty("last_provision_error").GetString());
        Assert.Equal(3, failed.GetProperty("provision_generation").GetInt64());

        // Nothing more happens on its own; a late answer for the current generation still counts.
        Time.Advance(TimeSpan.FromMinutes(10));
        await Task.Delay(300);
        Assert.Empty(Bus.Received<AgentProvisioningRequested>(r => r.AgentId == id && r.Generation == 4));
        await ProvisionAsync(id, 3);
        Assert.Equal("ready", Status(await GetAgentAsync(id)));
    }

    [Fact]
    public async Task An_update_run_that_gets_no_answer_does_not_stay_updating()
    {
        var board = await BoardAsync(await GatewayAsync());
        var id = Id(await CreateAgentAsync(board, "Researcher"));
        await ProvisionAsync(id, 1);
        await ReadAsync(await Owner.PatchAsJsonAsync($"/api/v1/agents/{id}", new { name = "Analyst" }));

        for (var generation = 2; generation <= 4; generation++)
        {
            Assert.Equal("update", (await RequestedAsync(id, generation)).Action);
            Time.Advance(TimeSpan.FromSeconds(91));
            await WaitUntilAsync(async db => (await db.Agents.FindAsync(id)) is { } a && (a.ProvisionRetryAt is not null || a.Status == "provision_failed"));
            Time.Advance(TimeSpan.FromSeconds(30));
        }
        await WaitUntilAsync(async db => (await db.Agents.FindAsync(id))!.Status == "provision_failed");
    }

    [Fact]
    public async Task Patch_refuses_status_and_an_effective_change_starts_an_update_run()
    {
        var board = await BoardAsync(await GatewayAsync());
        var id = Id(await CreateAgentAsync(board, "Researcher"));
        await ProvisionAsync(id, 1);

        await RefusedAsync(await Owner.PatchAsJsonAsync($"/api/v1/agents/{id}", new { status = "online" }), HttpStatusCode.Forbidden,
            "status_controlled_by_heartbeat");
        var same = await ReadAsync(await Owner.PatchAsJsonAsync($"/api/v1/agents/{id}", new { name = "Researcher" }));
        Assert.Equal(1, same.GetProperty("provision_generation").GetInt64());
        Assert.Equal("ready", Status(same));

        var renamed = await ReadAsync(await Owner.PatchAsJsonAsync($"/api/v1/agents/{id}", new { name = "Analyst", soul_template = "Be {{agent_name}}." }));
        Assert.Equal("updating", Status(renamed));
        Assert.Equal(2, renamed.GetProperty("provision_generation").GetInt64());
        var update = await RequestedAsync(id, 2);
        Assert.Equal("update", update.Action);
        Assert.True(update.IssueToken);
        Assert.Equal(["USER.md", "MEMORY.md"], update.PreserveIfPresent);
        Assert.Equal("Be Analyst.\n", update.Files["SOUL.md"]);
        Assert.Contains("has been updated", update.WakeMessage);
        var changed = (await Bus.WaitForAsync<AgentUpdated>(e => e.Agent.Id == id && e.Agent.Name == "Analyst")).Message;
        Assert.Equal("updating", changed.Agent.Status);
        Assert.Contains("name", changed.ChangedFields);

        await ProvisionAsync(id, 2);
        Assert.Equal("ready", Status(await GetAgentAsync(id)));
        var forced = await ReadAsync(await Owner.PatchAsJsonAsync($"/api/v1/agents/{id}?force=true", new { }));
        Assert.Equal(3, forced.GetProperty("provision_generation").GetInt64());
        await RefusedAsync(await Owner.PatchAsJsonAsync($"/api/v1/agents/{id}", new { name = " " }), HttpStatusCode.UnprocessableEntity);
        await RefusedAsync(await Owner.PatchAsJsonAsync($"/api/v1/agents/{id}", new { board_id = Guid.NewGuid() }), HttpStatusCode.UnprocessableEntity,
            "immutable_field");
    }

    [Fact]
    public async Task Heartbeats_make_an_agent_online_and_silence_makes_it_offline()
    {
        var board = await BoardAsync(await GatewayAsync());
        var id = Id(await CreateAgentAsync(board, "Researcher"));
        await ProvisionAsync(id, 1);
        var self = AgentClient(id, board);

        var beat = await ReadAsync(await self.PostAsync("/api/v1/agent/heartbeat", null));
        Assert.Equal("online", Status(beat));
        Assert.NotNull(beat.GetProperty("last_seen_at").GetString());
        await Bus.WaitForAsync<AgentHeartbeat>(e => e.AgentId == id && e.Status == "online");
        await Bus.WaitForAsync<AgentUpdated>(e => e.Agent.Id == id && e.Agent.Status == "online");
        var health = await ReadAsync(await self.GetAsync("/api/v1/agent/healthz"));
        Assert.True(health.GetProperty("ok").GetBoolean());
        Assert.Equal("online", Status(health));

        // A second heartbeat changes nothing others copy: no second AgentUpdated.
        await ReadAsync(await self.PostAsJsonAsync($"/api/v1/agents/{id}/heartbeat", new { }));
        await Task.Delay(300);
        Assert.Single(Bus.Received<AgentUpdated>(e => e.Agent.Id == id && e.Agent.Status == "online"));

        Time.Advance(TimeSpan.FromMinutes(11));
        Assert.Equal("offline", Status(await GetAgentAsync(id)));
        await Bus.WaitForAsync<AgentUpdated>(e => e.Agent.Id == id && e.Agent.Status == "offline");

        // Any request of the agent counts as being seen again.
        Assert.Equal("online", Status(await ReadAsync(await self.GetAsync($"/api/v1/agents/{id}"))));
        await RefusedAsync(await self.PostAsJsonAsync("/api/v1/agent/heartbeat", new { status = "provisioning" }), HttpStatusCode.UnprocessableEntity);
        await RefusedAsync(await AgentClient(Guid.NewGuid(), board).PostAsJsonAsync($"/api/v1/agents/{id}/heartbeat", new { }), HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Deleting_an_agent_publishes_AgentDeleted_and_deprovisions_it()
    {
        var gateway = await GatewayAsync();
        var board = await BoardAsync(gateway);
        var id = Id(await CreateAgentAsync(board, "Researcher"));
        await ProvisionAsync(id, 1);

        await RefusedAsync(await ClientFor(TestTokens.Member(Org, new BoardGrant(board, true, true))).DeleteAsync($"/api/v1/agents/{id}"),
            HttpStatusCode.Forbidden, "admin_only");
        Assert.True((await ReadAsync(await Owner.DeleteAsync($"/api/v1/agents/{id}"))).GetProperty("ok").GetBoolean());

        Assert.Equal(board, (await Bus.WaitForAsync<AgentDeleted>(e => e.AgentId == id)).Message.BoardId);
        var deprovision = (await Bus.WaitForAsync<AgentDeprovisionRequested>(e => e.AgentId == id)).Message;
        Assert.Equal(gateway, deprovision.GatewayId);
        Assert.Equal($"mc-{id}", deprovision.GatewayAgentId);
        Assert.Equal($"agent:mc-{id}:main", deprovision.SessionKey);
        await RefusedAsync(await Owner.GetAsync($"/api/v1/agents/{id}"), HttpStatusCode.NotFound);
        Assert.True((await ReadAsync(await Owner.DeleteAsync($"/api/v1/agents/{id}"))).GetProperty("ok").GetBoolean());
    }
}

[Collection(InfrastructureCollection.Collection)]
public sealed class LifecycleApiOnSqliteTests(BrokerFixture broker) : LifecycleApiTests(broker)
{
    protected override string DatabaseConnectionString() => $"Data Source={Path.Combine(Path.GetTempPath(), $"mc-agents-test-{Guid.NewGuid():N}.db")}";
}

[Collection(InfrastructureCollection.Collection)]
public sealed class LifecycleApiOnPostgresTests(BrokerFixture broker, PostgresFixture postgres) : LifecycleApiTests(broker)
{
    protected override string DatabaseConnectionString() => postgres.ConnectionStringForNewDatabase("agents");
}
