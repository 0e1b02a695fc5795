using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Agents;
using MissionControl.Contracts.Gateways;
using MissionControl.Contracts.Orgs;
using MissionControl.Contracts.Tasks;
using MissionControl.InternalAuth;

namespace MissionControl.Agents.Tests;

/// <summary>Lead ↔ gateway-main coordination (ask-user, lead/message, leads/broadcast) and re-rendering agents' files when their board or gateway changes.</summary>
public abstract class CoordinationApiTests(BrokerFixture broker) : AgentsServiceTest(broker)
{
    private Task<Guid> MainOfAsync(Guid gateway) =>
        QueryAsync(db => db.Agents.Where(a => a.GatewayId == gateway && a.IsGatewayMain).Select(a => a.Id).FirstAsync());

    [Fact]
    public async Task The_lead_asks_the_user_through_the_gateway_main_agent()
    {
        var gateway = await GatewayAsync(name: "Home");
        var board = await BoardAsync(gateway, maxAgents: 3);
        var lead = Id(await CreateAgentAsync(board, "Lead Agent", lead: true));
        var worker = Id(await CreateAgentAsync(board, "Researcher"));
        var main = await MainOfAsync(gateway);
        var leadClient = AgentClient(lead, board, AgentRoles.Lead);
        var url = $"/api/v1/agent/boards/{board}/gateway/main/ask-user";

        await RefusedAsync(await AgentClient(worker, board).PostAsJsonAsync(url, new { content = "Hi" }), HttpStatusCode.Forbidden, "lead_only");
        await RefusedAsync(await leadClient.PostAsJsonAsync($"/api/v1/agent/boards/{Guid.NewGuid()}/gateway/main/ask-user", new { content = "Hi" }),
            HttpStatusCode.Forbidden, "agent_board_mismatch");
        await RefusedAsync(await AgentClient(main, null, AgentRoles.Main).PostAsJsonAsync(url, new { content = "Hi" }), HttpStatusCode.Forbidden);
        await RefusedAsync(await leadClient.PostAsJsonAsync(url, new { content = "  " }), HttpStatusCode.UnprocessableEntity);

        var sent = await ReadAsync(await leadClient.PostAsJsonAsync(url, new { content = "Which region do we launch in?", correlation_id = "q-17", preferred_channel = "slack" }));
        Assert.True(sent.GetProperty("ok").GetBoolean());
        Assert.Equal(board, sent.GetProperty("board_id").GetGuid());
        Assert.Equal(main, sent.GetProperty("main_agent_id").GetGuid());
        Assert.Equal("Home Gateway Agent", sent.GetProperty("main_agent_name").GetString());
        var note = (await Bus.WaitForAsync<AgentNotificationRequested>(n => n.AgentId == main)).Message;
        Assert.Equal("gateway.lead_ask_user", note.Kind);
        Assert.True(note.Deliver);
        Assert.Equal(board, note.BoardId);
        Assert.StartsWith("LEAD REQUEST: ASK USER", note.Message);
        foreach (var part in new[] { "Launch", board.ToString(), "Lead Agent", "Which region do we launch in?", "q-17", "slack",
                     $"https://mc.example.test/api/v1/agent/boards/{board}/memory", "\"tags\":[\"gateway_main\",\"user_reply\"]", "\"source\":\"user_via_gateway_main\"" })
            Assert.Contains(part, note.Message);

        await ReadAsync(await leadClient.PostAsJsonAsync(url, new { content = "Again", reply_tags = new[] { "custom" }, reply_source = "elsewhere" }));
        var custom = (await Bus.WaitForAsync<AgentNotificationRequested>(n => n.AgentId == main && n.Message.Contains("Again"))).Message;
        Assert.Contains("\"tags\":[\"custom\"]", custom.Message);
        Assert.Contains("\"source\":\"elsewhere\"", custom.Message);

        await QueryAsync(async db =>
        {
            db.Agents.Remove(await db.Agents.FirstAsync(a => a.Id == main));
            return await db.SaveChangesAsync();
        });
        await RefusedAsync(await leadClient.PostAsJsonAsync(url, new { content = "Hello?" }), HttpStatusCode.UnprocessableEntity, "gateway_main_missing");
    }

    [Fact]
    public async Task The_gateway_main_agent_messages_a_lead_and_creates_it_when_missing()
    {
        var gateway = await GatewayAsync();
        var board = await BoardAsync(gateway, maxAgents: 3);
        var main = await MainOfAsync(gateway);
        var mainClient = AgentClient(main, null, AgentRoles.Main);
        var url = $"/api/v1/agent/gateway/boards/{board}/lead/message";

        var otherGateway = await GatewayAsync(name: "Remote");
        await RefusedAsync(await AgentClient(await MainOfAsync(otherGateway), null, AgentRoles.Main).PostAsJsonAsync(url, new { kind = "question", content = "Hi" }),
            HttpStatusCode.Forbidden, "board_not_on_gateway");
        await RefusedAsync(await AgentClient(Guid.NewGuid(), null, AgentRoles.Main).PostAsJsonAsync(url, new { kind = "question", content = "Hi" }),
            HttpStatusCode.Forbidden, "gateway_main_only");
        await RefusedAsync(await ClientFor(new McPrincipal
        {
            Kind = PrincipalKind.Agent, Subject = main.ToString(), OrganizationId = Guid.NewGuid(), Role = AgentRoles.Main, Name = "agent",
        }).PostAsJsonAsync(url, new { kind = "question", content = "Hi" }), HttpStatusCode.Forbidden, "gateway_main_only");
        await RefusedAsync(await mainClient.PostAsJsonAsync(url, new { kind = "gossip", content = "Hi" }), HttpStatusCode.UnprocessableEntity);
        await RefusedAsync(await mainClient.PostAsJsonAsync(url, new { kind = "question", content = "" }), HttpStatusCode.UnprocessableEntity);
        await RefusedAsync(await mainClient.PostAsJsonAsync($"/api/v1/agent/gateway/boards/{Guid.NewGuid()}/lead/message", new { kind = "question", content = "Hi" }),
            HttpStatusCode.NotFound);
        Assert.False(await QueryAsync(db => db.Agents.AnyAsync(a => a.BoardId == board)));

        var first = await ReadAsync(await mainClient.PostAsJsonAsync(url, new { kind = "question", content = "What is blocking launch?", correlation_id = "c-1" }));
        Assert.True(first.GetProperty("ok").GetBoolean());
        Assert.True(first.GetProperty("lead_created").GetBoolean());
        Assert.Equal("Lead Agent", first.GetProperty("lead_agent_name").GetString());
        var lead = first.GetProperty("lead_agent_id").GetGuid();
        var created = (await Bus.WaitForAsync<AgentCreated>(e => e.Agent.Id == lead)).Message;
        Assert.True(created.Agent.IsBoardLead);
        Assert.Equal(board, created.Agent.BoardId);
        var run = await RequestedAsync(lead, 1);
        Assert.Equal($"lead-{board}", run.GatewayAgentId);
        Assert.Equal("provision", run.Action);
        Assert.True(run.IssueToken);
        var question = (await Bus.WaitForAsync<AgentNotificationRequested>(n => n.AgentId == lead)).Message;
        Assert.Equal("gateway.main_question", question.Kind);
        Assert.Equal(board, question.BoardId);
        Assert.StartsWith("GATEWAY MAIN QUESTION", question.Message);
        foreach (var part in new[] { "What is blocking launch?", "c-1", "Home Gateway Agent", $"/api/v1/agent/boards/{board}/memory",
                     "\"tags\":[\"gateway_main\",\"lead_reply\"]", "\"source\":\"lead_to_gateway_main\"" })
            Assert.Contains(part, question.Message);

        await ProvisionAsync(lead, 1);
        var second = await ReadAsync(await mainClient.PostAsJsonAsync(url, new { kind = "handoff", content = "Take over the launch checklist." }));
        Assert.False(second.GetProperty("lead_created").GetBoolean());
        Assert.Equal(lead, second.GetProperty("lead_agent_id").GetGuid());
        var handoff = (await Bus.WaitForAsync<AgentNotificationRequested>(n => n.AgentId == lead && n.Kind == "gateway.main_handoff")).Message;
        Assert.StartsWith("GATEWAY MAIN HANDOFF", handoff.Message);
        Assert.Equal(1, await QueryAsync(db => db.Agents.CountAsync(a => a.BoardId == board)));

        // Leads and workers cannot use the gateway-main routes.
        await RefusedAsync(await AgentClient(lead, board, AgentRoles.Lead).PostAsJsonAsync(url, new { kind = "question", content = "Hi" }),
            HttpStatusCode.Forbidden, "gateway_main_only");
    }

    [Fact]
    public async Task The_gateway_main_agent_broadcasts_to_the_leads_of_its_boards()
    {
        var gateway = await GatewayAsync();
        var withLead = await BoardAsync(gateway);
        var withoutLead = await BoardAsync(gateway);
        var elsewhere = await BoardAsync(await GatewayAsync(name: "Remote"));
        var existing = Id(await CreateAgentAsync(withLead, "Lead Agent", lead: true));
        var main = await MainOfAsync(gateway);
        var mainClient = AgentClient(main, null, AgentRoles.Main);

        await RefusedAsync(await AgentClient(existing, withLead, AgentRoles.Lead).PostAsJsonAsync("/api/v1/agent/gateway/leads/broadcast",
            new { kind = "question", content = "Status?" }), HttpStatusCode.Forbidden, "gateway_main_only");
        await RefusedAsync(await mainClient.PostAsJsonAsync("/api/v1/agent/gateway/leads/broadcast", new { kind = "question" }), HttpStatusCode.UnprocessableEntity);

        var all = await ReadAsync(await mainClient.PostAsJsonAsync("/api/v1/agent/gateway/leads/broadcast", new { kind = "question", content = "Status?" }));
        Assert.True(all.GetProperty("ok").GetBoolean());
        Assert.Equal(2, all.GetProperty("sent").GetInt32());
        Assert.Equal(0, all.GetProperty("failed").GetInt32());
        var results = all.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(new[] { withLead, withoutLead }.Order(), results.Select(r => r.GetProperty("board_id").GetGuid()).Order());
        Assert.All(results, r => Assert.True(r.GetProperty("ok").GetBoolean()));
        Assert.Equal(existing, results.Single(r => r.GetProperty("board_id").GetGuid() == withLead).GetProperty("lead_agent_id").GetGuid());
        var createdLead = results.Single(r => r.GetProperty("board_id").GetGuid() == withoutLead).GetProperty("lead_agent_id").GetGuid();
        Assert.Equal("Lead Agent", results.Single(r => r.GetProperty("board_id").GetGuid() == withoutLead).GetProperty("lead_agent_name").GetString());
        await Bus.WaitForAsync<AgentNotificationRequested>(n => n.AgentId == existing && n.Kind == "gateway.main_question");
        await Bus.WaitForAsync<AgentNotificationRequested>(n => n.AgentId == createdLead && n.Kind == "gateway.main_question");
        await RequestedAsync(createdLead, 1);

        var some = await ReadAsync(await mainClient.PostAsJsonAsync("/api/v1/agent/gateway/leads/broadcast",
            new { kind = "handoff", content = "Wrap up.", board_ids = new[] { withoutLead, elsewhere } }));
        Assert.Equal(1, some.GetProperty("sent").GetInt32());
        Assert.Equal(1, some.GetProperty("failed").GetInt32());
        var failed = some.GetProperty("results").EnumerateArray().Single(r => !r.GetProperty("ok").GetBoolean());
        Assert.Equal(elsewhere, failed.GetProperty("board_id").GetGuid());
        Assert.False(string.IsNullOrEmpty(failed.GetProperty("error").GetString()));
        await Bus.WaitForAsync<AgentNotificationRequested>(n => n.AgentId == createdLead && n.Kind == "gateway.main_handoff");
        Assert.False(await QueryAsync(db => db.Agents.AnyAsync(a => a.BoardId == elsewhere)));
    }

    [Fact]
    public async Task A_board_change_the_templates_show_rerenders_its_agents()
    {
        var gateway = await GatewayAsync();
        var board = await BoardAsync(gateway, maxAgents: 5);
        var lead = Id(await CreateAgentAsync(board, "Lead Agent", lead: true));
        var worker = Id(await CreateAgentAsync(board, "Researcher"));
        var pending = Id(await CreateAgentAsync(board, "Writer"));
        var other = Id(await CreateAgentAsync(await BoardAsync(gateway), "Elsewhere"));
        await ProvisionAsync(lead, 1);
        await ProvisionAsync(worker, 1);
        await ProvisionAsync(other, 1);

        await PublishBoardAsync(board, "Ship it twice", ["objective"], 1);
        foreach (var id in new[] { lead, worker })
        {
            var run = await RequestedAsync(id, 2);
            Assert.Equal("update", run.Action);
            Assert.False(run.IssueToken);
            Assert.Null(run.WakeMessage);
            Assert.Contains(run.Files.Values, f => f.Contains("Ship it twice", StringComparison.Ordinal));
        }
        // Mid-first-provisioning: a new generation of that run (token and wake kept).
        var again = await RequestedAsync(pending, 2);
        Assert.Equal("provision", again.Action);
        Assert.True(again.IssueToken);
        Assert.NotNull(again.WakeMessage);
        await ProvisionAsync(lead, 2);
        Assert.Equal("ready", (await AgentRowAsync(lead)).Status);

        // A change no template shows: nothing to do.
        var unrelated = await PublishBoardAsync(board, "Ship it twice", ["board_group_id"], 2);
        await ConsumedAsync(unrelated);
        await Task.Delay(200);
        Assert.Empty(Bus.Received<AgentProvisioningRequested>(r => r.AgentId == lead && r.Generation == 3));
        Assert.Empty(Bus.Received<AgentProvisioningRequested>(r => r.AgentId == other && r.Generation == 2));
    }

    [Fact]
    public async Task A_new_workspace_root_rerenders_every_agent_of_the_gateway()
    {
        var gateway = await GatewayAsync(name: "Home");
        var board = await BoardAsync(gateway, maxAgents: 5);
        var worker = Id(await CreateAgentAsync(board, "Researcher"));
        var main = await MainOfAsync(gateway);
        await ProvisionAsync(main, 1);
        await ProvisionAsync(worker, 1);

        await PublishGatewayAsync(gateway, "/data/openclaw", ["workspace_root"], 1);
        var run = await RequestedAsync(worker, 2);
        Assert.Equal("update", run.Action);
        Assert.False(run.IssueToken);
        Assert.Null(run.WakeMessage);
        Assert.Equal("update", (await RequestedAsync(main, 2)).Action);
        await ProvisionAsync(worker, 2);

        var urlOnly = await PublishGatewayAsync(gateway, "/data/openclaw", ["url"], 2);
        await RequestedAsync(main, 3);
        await ConsumedAsync(urlOnly);
        await Task.Delay(200);
        Assert.Empty(Bus.Received<AgentProvisioningRequested>(r => r.AgentId == worker && r.Generation == 3));
    }

    private async Task<Guid> PublishBoardAsync(Guid board, string objective, string[] changed, int secondsLater)
    {
        var now = Time.GetUtcNow();
        var id = Guid.NewGuid();
        await Bus.PublishAsync(new BoardUpdated
        {
            OrganizationId = Org, BoardId = board, ChangedFields = changed, OccurredAt = now,
            Board = new BoardState
            {
                Id = board, OrganizationId = Org, Name = "Launch", Slug = "launch", GatewayId = (await QueryAsync(db => db.Boards.FirstAsync(b => b.Id == board))).GatewayId,
                Objective = objective, Rules = new BoardRules { MaxAgents = 5 }, CreatedAt = now, UpdatedAt = now.AddSeconds(secondsLater),
            },
        }, id);
        return id;
    }

    private async Task<Guid> PublishGatewayAsync(Guid gateway, string workspaceRoot, string[] changed, int secondsLater)
    {
        var now = Time.GetUtcNow();
        var id = Guid.NewGuid();
        await Bus.PublishAsync(new GatewayUpdated
        {
            OrganizationId = Org, ChangedFields = changed, OccurredAt = now,
            Gateway = new GatewayState
            {
                Id = gateway, OrganizationId = Org, Name = "Home", Url = $"wss://gw{secondsLater}.example.test", WorkspaceRoot = workspaceRoot, CreatedAt = now,
                UpdatedAt = now.AddSeconds(secondsLater),
            },
        }, id);
        return id;
    }
}

[Collection(InfrastructureCollection.Collection)]
public sealed class CoordinationApiOnSqliteTests(BrokerFixture broker) : CoordinationApiTests(broker)
{
    protected override string DatabaseConnectionString() => $"Data Source={Path.Combine(Path.GetTempPath(), $"mc-agents-test-{Guid.NewGuid():N}.db")}";
}

[Collection(InfrastructureCollection.Collection)]
public sealed class CoordinationApiOnPostgresTests(BrokerFixture broker, PostgresFixture postgres) : CoordinationApiTests(broker)
{
    protected override string DatabaseConnectionString() => postgres.ConnectionStringForNewDatabase("agents");
}
