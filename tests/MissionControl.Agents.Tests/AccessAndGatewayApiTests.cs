using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Agents;
using MissionControl.Contracts.Gateways;
using MissionControl.Contracts.Orgs;
using MissionControl.Contracts.Tasks;
using MissionControl.InternalAuth;

namespace MissionControl.Agents.Tests;

/// <summary>Who sees and manages which agents, the lead's agent API, gateway-main agents and template sync.</summary>
public abstract class AccessAndGatewayApiTests(BrokerFixture broker) : AgentsServiceTest(broker)
{
    [Fact]
    public async Task Another_organization_sees_nothing_and_members_see_only_their_boards()
    {
        var gateway = await GatewayAsync();
        var board = await BoardAsync(gateway);
        var other = await BoardAsync(gateway);
        var id = Id(await CreateAgentAsync(board, "Researcher"));
        var hidden = Id(await CreateAgentAsync(other, "Writer"));

        var stranger = ClientFor(TestTokens.Owner(Guid.NewGuid()));
        await RefusedAsync(await stranger.GetAsync($"/api/v1/agents/{id}"), HttpStatusCode.NotFound);
        Assert.Equal(0, (await ReadAsync(await stranger.GetAsync("/api/v1/agents"))).GetProperty("total").GetInt32());
        await RefusedAsync(await stranger.PatchAsJsonAsync($"/api/v1/agents/{id}", new { name = "Mine" }), HttpStatusCode.NotFound);
        Assert.True((await ReadAsync(await stranger.DeleteAsync($"/api/v1/agents/{id}"))).GetProperty("ok").GetBoolean());
        Assert.NotNull(await QueryAsync(db => db.Agents.FindAsync(id).AsTask()));

        var member = ClientFor(TestTokens.Member(Org, new BoardGrant(board, true, false)));
        var seen = await ReadAsync(await member.GetAsync("/api/v1/agents"));
        var ids = seen.GetProperty("items").EnumerateArray().Select(Id).ToList();
        Assert.Contains(id, ids);
        Assert.DoesNotContain(hidden, ids);
        Assert.Contains(ids, i => i != id); // the gateway-main agent of the organization
        await RefusedAsync(await member.GetAsync($"/api/v1/agents/{hidden}"), HttpStatusCode.NotFound);
        await RefusedAsync(await member.PostAsJsonAsync("/api/v1/agents", new { board_id = board, name = "Nope" }), HttpStatusCode.Forbidden, "admin_only");

        var owners = await ReadAsync(await Owner.GetAsync($"/api/v1/agents?board_id={board}&limit=1"));
        Assert.Equal(1, owners.GetProperty("total").GetInt32());
        Assert.Equal(3, (await ReadAsync(await Owner.GetAsync($"/api/v1/agents?gateway_id={gateway}"))).GetProperty("total").GetInt32());
        await RefusedAsync(await Owner.GetAsync("/api/v1/agents?limit=500"), HttpStatusCode.UnprocessableEntity);

        var agentView = await ReadAsync(await AgentClient(id, board).GetAsync("/api/v1/agent/agents"));
        Assert.Equal([id], agentView.GetProperty("items").EnumerateArray().Select(Id).ToArray());
        await RefusedAsync(await AgentClient(id, board).GetAsync($"/api/v1/agent/agents?board_id={other}"), HttpStatusCode.Forbidden, "agent_board_mismatch");
    }

    [Fact]
    public async Task Creation_checks_names_gateways_and_the_lead_cap()
    {
        var gateway = await GatewayAsync();
        var board = await BoardAsync(gateway, maxAgents: 1);
        var lead = Id(await CreateAgentAsync(board, "Lead Agent", lead: true));
        await RefusedAsync(await Owner.PostAsJsonAsync("/api/v1/agents", new { board_id = board, name = "Second lead", is_board_lead = true }),
            HttpStatusCode.Conflict, "board_lead_exists");
        await RefusedAsync(await Owner.PostAsJsonAsync("/api/v1/agents", new { board_id = board, name = "lead agent" }), HttpStatusCode.Conflict,
            "agent_name_taken");
        await RefusedAsync(await Owner.PostAsJsonAsync("/api/v1/agents", new { board_id = board, name = "" }), HttpStatusCode.UnprocessableEntity);
        await RefusedAsync(await Owner.PostAsJsonAsync("/api/v1/agents", new { board_id = board, name = new string('x', 257) }),
            HttpStatusCode.UnprocessableEntity);
        // Names are unique per gateway too: the main agent is "Home Gateway Agent".
        await RefusedAsync(await Owner.PostAsJsonAsync("/api/v1/agents", new { board_id = board, name = "home gateway agent" }), HttpStatusCode.Conflict,
            "agent_name_taken");

        var noGateway = await BoardAsync(null);
        await RefusedAsync(await Owner.PostAsJsonAsync("/api/v1/agents", new { board_id = noGateway, name = "A" }), HttpStatusCode.UnprocessableEntity,
            "board_has_no_gateway");
        var unknownGateway = await BoardAsync(Guid.NewGuid());
        await RefusedAsync(await Owner.PostAsJsonAsync("/api/v1/agents", new { board_id = unknownGateway, name = "A" }), HttpStatusCode.UnprocessableEntity,
            "gateway_unknown");
        await RefusedAsync(await Owner.PostAsJsonAsync("/api/v1/agents", new { board_id = Guid.NewGuid(), name = "A" }), HttpStatusCode.NotFound);

        var leadClient = AgentClient(lead, board, AgentRoles.Lead);
        var worker = await ReadAsync(await leadClient.PostAsJsonAsync("/api/v1/agent/agents", new { name = "Worker 1" }), HttpStatusCode.Created);
        Assert.Equal(board, worker.GetProperty("board_id").GetGuid());
        Assert.Equal("provisioning", Status(worker));
        await RefusedAsync(await leadClient.PostAsJsonAsync("/api/v1/agent/agents", new { name = "Worker 2" }), HttpStatusCode.Conflict, "max_agents_reached");
        await RefusedAsync(await leadClient.PostAsJsonAsync("/api/v1/agents", new { name = "Worker 2", board_id = Guid.NewGuid() }), HttpStatusCode.Forbidden,
            "agent_board_mismatch");
        await RefusedAsync(await AgentClient(Id(worker), board).PostAsJsonAsync("/api/v1/agent/agents", new { name = "Worker 3" }), HttpStatusCode.Forbidden,
            "lead_only");
        // Users are not capped.
        await CreateAgentAsync(board, "Worker 2");
    }

    [Fact]
    public async Task The_lead_nudges_reads_and_writes_souls_and_deletes_workers_of_its_board()
    {
        var board = await BoardAsync(await GatewayAsync(), maxAgents: 5);
        var lead = Id(await CreateAgentAsync(board, "Lead Agent", lead: true));
        var worker = Id(await CreateAgentAsync(board, "Researcher"));
        var leadClient = AgentClient(lead, board, AgentRoles.Lead);

        await RefusedAsync(await leadClient.PostAsJsonAsync($"/api/v1/agent/boards/{board}/agents/{worker}/nudge", new { message = "Wake up" }),
            HttpStatusCode.UnprocessableEntity, "agent_has_no_session");
        await ProvisionAsync(worker, 1);
        Assert.True((await ReadAsync(await leadClient.PostAsJsonAsync($"/api/v1/agent/boards/{board}/agents/{worker}/nudge", new { message = "Wake up" })))
            .GetProperty("ok").GetBoolean());
        var nudge = (await Bus.WaitForAsync<AgentNotificationRequested>(n => n.AgentId == worker)).Message;
        Assert.Equal("agent.nudge", nudge.Kind);
        Assert.True(nudge.Deliver);
        Assert.Equal("Wake up", nudge.Message);
        Assert.Equal(board, nudge.BoardId);
        await RefusedAsync(await AgentClient(worker, board).PostAsJsonAsync($"/api/v1/agent/boards/{board}/agents/{lead}/nudge", new { message = "Hi" }),
            HttpStatusCode.Forbidden, "lead_only");
        await RefusedAsync(await leadClient.PostAsJsonAsync($"/api/v1/agent/boards/{Guid.NewGuid()}/agents/{worker}/nudge", new { message = "Hi" }),
            HttpStatusCode.Forbidden, "agent_board_mismatch");

        var soul = await ReadAsync(await AgentClient(worker, board).GetAsync($"/api/v1/agent/boards/{board}/agents/{worker}/soul"));
        Assert.Equal(JsonValueKind.String, soul.ValueKind);
        Assert.StartsWith("# SOUL.md", soul.GetString());
        await RefusedAsync(await AgentClient(worker, board).PutAsJsonAsync($"/api/v1/agent/boards/{board}/agents/{worker}/soul", new { content = "x" }),
            HttpStatusCode.Forbidden, "lead_only");
        var updated = await ReadAsync(await leadClient.PutAsJsonAsync($"/api/v1/agent/boards/{board}/agents/{worker}/soul",
            new { content = "You research {{board_name}}.", reason = "focus" }));
        Assert.Equal("updating", Status(updated));
        var run = await RequestedAsync(worker, 2);
        Assert.Equal("You research Launch.\n", run.Files["SOUL.md"]);
        Assert.False(run.IssueToken);
        Assert.Equal("You research Launch.\n", (await ReadAsync(await leadClient.GetAsync($"/api/v1/agent/boards/{board}/agents/{worker}/soul"))).GetString());

        await RefusedAsync(await leadClient.DeleteAsync($"/api/v1/agent/boards/{board}/agents/{lead}"), HttpStatusCode.Forbidden, "protected_agent");
        Assert.True((await ReadAsync(await leadClient.DeleteAsync($"/api/v1/agent/boards/{board}/agents/{worker}"))).GetProperty("ok").GetBoolean());
        await Bus.WaitForAsync<AgentDeleted>(e => e.AgentId == worker);
        await Bus.WaitForAsync<AgentDeprovisionRequested>(e => e.AgentId == worker);
    }

    [Fact]
    public async Task A_new_gateway_gets_its_main_agent_provisioned_and_a_changed_one_updates_it()
    {
        var gateway = await GatewayAsync(name: "Home");
        var main = await QueryAsync(db => db.Agents.AsNoTracking().FirstAsync(a => a.GatewayId == gateway && a.IsGatewayMain));
        Assert.Equal("Home Gateway Agent", main.Name);
        Assert.Null(main.BoardId);
        var created = (await Bus.WaitForAsync<AgentCreated>(e => e.Agent.Id == main.Id)).Message;
        Assert.True(created.Agent.IsGatewayMain);
        var request = await RequestedAsync(main.Id, 1);
        Assert.Equal($"mc-gateway-{gateway}", request.GatewayAgentId);
        Assert.Equal($"agent:mc-gateway-{gateway}:main", request.SessionKey);
        Assert.Null(request.BoardId);
        Assert.Contains("gateway agent", request.Files["AGENTS.md"]);
        await ProvisionAsync(main.Id, 1);

        var now = Time.GetUtcNow();
        await Bus.PublishAsync(new GatewayUpdated
        {
            OrganizationId = Org, ChangedFields = ["url"], OccurredAt = now,
            Gateway = new GatewayState
            {
                Id = gateway, OrganizationId = Org, Name = "Home", Url = "wss://gw.example.test", WorkspaceRoot = "/srv/openclaw", CreatedAt = now, UpdatedAt = now.AddSeconds(1),
            },
        });
        var update = await RequestedAsync(main.Id, 2);
        Assert.Equal("update", update.Action);
        Assert.Equal(["MEMORY.md"], update.PreserveIfPresent);

        var board = await BoardAsync(gateway);
        var worker = Id(await CreateAgentAsync(board, "Researcher"));
        await Bus.PublishAsync(new GatewayDeleted { OrganizationId = Org, GatewayId = gateway, OccurredAt = Time.GetUtcNow() });
        await Bus.WaitForAsync<AgentDeleted>(e => e.AgentId == main.Id);
        await Bus.WaitForAsync<AgentDeleted>(e => e.AgentId == worker);
        await Task.Delay(200);
        Assert.Empty(Bus.Received<AgentDeprovisionRequested>(e => e.AgentId == main.Id || e.AgentId == worker));
    }

    [Fact]
    public async Task A_deleted_board_takes_its_agents_off_the_gateway()
    {
        var board = await BoardAsync(await GatewayAsync());
        var id = Id(await CreateAgentAsync(board, "Researcher"));

        await Bus.PublishAsync(new BoardDeleted { OrganizationId = Org, BoardId = board, OccurredAt = Time.GetUtcNow() });

        await Bus.WaitForAsync<AgentDeleted>(e => e.AgentId == id);
        await Bus.WaitForAsync<AgentDeprovisionRequested>(e => e.AgentId == id);
        await WaitUntilAsync(async db => !await db.Boards.AnyAsync(b => b.Id == board));
    }

    [Fact]
    public async Task Template_sync_starts_update_runs_and_reports_counts()
    {
        var gateway = await GatewayAsync();
        var board = await BoardAsync(gateway, maxAgents: 5);
        var lead = Id(await CreateAgentAsync(board, "Lead Agent", lead: true));
        var provisioned = Id(await CreateAgentAsync(board, "Researcher"));
        var never = Id(await CreateAgentAsync(board, "Writer"));
        await ProvisionAsync(lead, 1);
        await ProvisionAsync(provisioned, 1);
        var main = await QueryAsync(db => db.Agents.Where(a => a.GatewayId == gateway && a.IsGatewayMain).Select(a => a.Id).FirstAsync());
        await ProvisionAsync(main, 1);

        await RefusedAsync(await ClientFor(TestTokens.Member(Org)).PostAsync($"/api/v1/gateways/{gateway}/templates/sync", null), HttpStatusCode.Forbidden);
        await RefusedAsync(await ClientFor(TestTokens.Owner(Guid.NewGuid())).PostAsync($"/api/v1/gateways/{gateway}/templates/sync", null),
            HttpStatusCode.NotFound);

        var result = await ReadAsync(await Owner.PostAsync($"/api/v1/gateways/{gateway}/templates/sync", null));
        Assert.Equal(gateway, result.GetProperty("gateway_id").GetGuid());
        Assert.True(result.GetProperty("include_main").GetBoolean());
        Assert.Equal(2, result.GetProperty("agents_updated").GetInt32());
        Assert.Equal(1, result.GetProperty("agents_skipped").GetInt32());
        Assert.True(result.GetProperty("main_updated").GetBoolean());
        Assert.Equal(never, result.GetProperty("errors")[0].GetProperty("agent_id").GetGuid());
        var run = await RequestedAsync(provisioned, 2);
        Assert.Equal("update", run.Action);
        Assert.False(run.IssueToken);
        Assert.Null(run.WakeMessage);
        await RequestedAsync(main, 2);

        var leadsOnly = await ReadAsync(await Owner.PostAsync($"/api/v1/gateways/{gateway}/templates/sync?lead_only=true&include_main=false&rotate_tokens=true", null));
        Assert.Equal(1, leadsOnly.GetProperty("agents_updated").GetInt32());
        Assert.False(leadsOnly.GetProperty("main_updated").GetBoolean());
        Assert.True((await RequestedAsync(lead, 3)).IssueToken);

        var rotated = await ReadAsync(await Owner.PostAsync($"/api/v1/gateways/{gateway}/templates/sync?rotate_tokens=true&board_id={board}", null));
        Assert.Equal(3, rotated.GetProperty("agents_updated").GetInt32());
        Assert.Equal(0, rotated.GetProperty("agents_skipped").GetInt32());
        Assert.True((await RequestedAsync(never, 2)).IssueToken);
    }
}

[Collection(InfrastructureCollection.Collection)]
public sealed class AccessAndGatewayApiOnSqliteTests(BrokerFixture broker) : AccessAndGatewayApiTests(broker)
{
    protected override string DatabaseConnectionString() => $"Data Source={Path.Combine(Path.GetTempPath(), $"mc-agents-test-{Guid.NewGuid():N}.db")}";
}

[Collection(InfrastructureCollection.Collection)]
public sealed class AccessAndGatewayApiOnPostgresTests(BrokerFixture broker, PostgresFixture postgres) : AccessAndGatewayApiTests(broker)
{
    protected override string DatabaseConnectionString() => postgres.ConnectionStringForNewDatabase("agents");
}
