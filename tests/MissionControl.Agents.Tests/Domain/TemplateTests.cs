using MissionControl.Agents.Data;
using MissionControl.Agents.Templates;
using MissionControl.Contracts.Agents;

namespace MissionControl.Agents.Tests.Domain;

public sealed class TemplateTests
{
    private static readonly GatewayCopy Gateway = new() { Id = Guid.NewGuid(), Name = "Home", Url = "ws://127.0.0.1:18789", WorkspaceRoot = "/srv/openclaw" };
    private static readonly BoardCopy Board = new()
    {
        Id = Guid.NewGuid(), Name = "Launch", Objective = "Ship the launch site", MaxAgents = 3, OnlyLeadCanChangeStatus = true,
    };

    private static Agent Worker(string? soul = null, string? identity = null, string? profile = null) => new()
    {
        Id = Guid.NewGuid(), OrganizationId = Guid.NewGuid(), BoardId = Board.Id, GatewayId = Gateway.Id, Name = "Researcher", Status = "provisioning",
        SoulTemplate = soul, IdentityTemplate = identity, IdentityProfile = profile,
    };

    [Fact]
    public void Placeholders_are_filled_once_and_unknown_ones_stay()
    {
        var context = new Dictionary<string, string> { ["agent_name"] = "{{board_name}}", ["board_name"] = "Launch" };
        Assert.Equal("Hi {{board_name}} on Launch, {{nope}} {{MC_AGENT_TOKEN}}\n",
            WorkspaceTemplates.Render("Hi {{agent_name}} on {{ board_name }}, {{nope}} {{MC_AGENT_TOKEN}}", context));
    }

    [Fact]
    public void Files_carry_the_token_and_workspace_markers_never_a_token()
    {
        var agent = Worker();
        var files = WorkspaceTemplates.RenderFiles(agent, Board, Gateway, "https://mc.example.com/");

        Assert.Equal(["AGENTS.md", "IDENTITY.md", "MEMORY.md", "SOUL.md", "TOOLS.md", "USER.md"], files.Keys.Order().ToArray());
        foreach (var name in new[] { "AGENTS.md", "TOOLS.md" })
        {
            var text = files[name];
            Assert.Contains($"AUTH_TOKEN={ProvisioningMarkers.AgentToken}", text);
            Assert.Contains($"WORKSPACE_PATH={ProvisioningMarkers.WorkspacePath}", text);
            Assert.Contains("BASE_URL=https://mc.example.com\n", text);
            Assert.Contains($"AGENT_ID={agent.Id}", text);
            Assert.Contains($"BOARD_ID={Board.Id}", text);
            Assert.Contains("-H \"X-Agent-Token: $AUTH_TOKEN\"", text);
            Assert.Contains("/api/v1/agent/heartbeat", text);
            Assert.Contains("/tasks/$TASK_ID/comments", text);
        }
        Assert.Contains("## Tools", files["AGENTS.md"]);
        Assert.Contains("board worker", files["AGENTS.md"]);
        Assert.Contains("only the lead changes status: true", files["AGENTS.md"]);
        Assert.Contains("Ship the launch site", files["AGENTS.md"]);
        Assert.DoesNotContain("mca_", string.Concat(files.Values));
        Assert.DoesNotContain("{{agent_name}}", string.Concat(files.Values));
    }

    [Fact]
    public void Leads_and_main_agents_get_their_own_contract()
    {
        var lead = Worker();
        lead.IsBoardLead = true;
        Assert.Contains("board lead", WorkspaceTemplates.RenderFiles(lead, Board, Gateway, "http://x")["AGENTS.md"]);
        Assert.Contains("Current delivery status", WorkspaceTemplates.RenderFiles(lead, Board, Gateway, "http://x")["MEMORY.md"]);

        var main = Worker();
        main.IsGatewayMain = true;
        main.BoardId = null;
        var files = WorkspaceTemplates.RenderFiles(main, null, Gateway, "http://x");
        Assert.Contains("gateway agent", files["AGENTS.md"]);
        Assert.DoesNotContain("BOARD_ID=", files["TOOLS.md"]);
        Assert.Contains(ProvisioningMarkers.AgentToken, files["TOOLS.md"]);
        Assert.Equal(["MEMORY.md"], WorkspaceTemplates.PreservedOnUpdate(true));
        Assert.Equal(["USER.md", "MEMORY.md"], WorkspaceTemplates.PreservedOnUpdate(false));
    }

    [Fact]
    public void Soul_and_identity_templates_override_the_defaults_and_may_use_placeholders()
    {
        var files = WorkspaceTemplates.RenderFiles(
            Worker(soul: "Be {{agent_name}} on {{board_name}}.", identity: "I am {{identity_role}}."), Board, Gateway, "http://x");
        Assert.Equal("Be Researcher on Launch.\n", files["SOUL.md"]);
        Assert.Equal("I am Generalist.\n", files["IDENTITY.md"]);

        var profiled = WorkspaceTemplates.RenderFiles(Worker(profile: """{"role":"cfo","emoji":":moneybag:","purpose":"Budgets"}"""), Board, Gateway, "http://x");
        Assert.Contains("- Role: cfo", profiled["IDENTITY.md"]);
        Assert.Contains("- Emoji: :moneybag:", profiled["IDENTITY.md"]);
        Assert.Contains("- Purpose: Budgets", profiled["IDENTITY.md"]);
        Assert.Contains("You are Researcher.", profiled["SOUL.md"]);
    }

    [Fact]
    public void The_wake_message_is_the_references()
    {
        Assert.Equal(
            "Hello Ada. Your workspace has been provisioned.\n\nStart the agent. If BOOTSTRAP.md exists, read it first, then read AGENTS.md. Begin heartbeats after startup.",
            WorkspaceTemplates.WakeMessage("Ada", provisioned: true));
        Assert.Contains("has been updated", WorkspaceTemplates.WakeMessage("Ada", provisioned: false));
    }
}
