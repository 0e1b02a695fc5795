using System.Collections.Frozen;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using MissionControl.Agents.Data;
using MissionControl.Contracts.Agents;

namespace MissionControl.Agents.Templates;

/// <summary>
/// Renders an agent's workspace files from the templates in this folder (embedded resources). Templates
/// use <c>{{key}}</c> placeholders from a context dictionary (keys as reference §5.4); unknown
/// placeholders are left as they are, which is how <see cref="ProvisioningMarkers"/> reach the bridge.
/// </summary>
public static partial class WorkspaceTemplates
{
    public const string AgentsFile = "AGENTS.md";
    public const string SoulFile = "SOUL.md";
    public const string IdentityFile = "IDENTITY.md";
    public const string UserFile = "USER.md";
    public const string MemoryFile = "MEMORY.md";
    public const string ToolsFile = "TOOLS.md";

    private static readonly FrozenDictionary<string, string> Sources = LoadSources();

    /// <summary>Files an update keeps when the gateway already has them (the agent's own notes).</summary>
    public static IReadOnlyList<string> PreservedOnUpdate(bool isGatewayMain) => isGatewayMain ? [MemoryFile] : [UserFile, MemoryFile];

    public static string WakeMessage(string agentName, bool provisioned) =>
        $"Hello {agentName}. Your workspace has been {(provisioned ? "provisioned" : "updated")}.\n\n" +
        "Start the agent. If BOOTSTRAP.md exists, read it first, then read AGENTS.md. Begin heartbeats after startup.";

    /// <summary>All files of the agent's workspace.</summary>
    public static IReadOnlyDictionary<string, string> RenderFiles(Agent agent, BoardCopy? board, GatewayCopy? gateway, string baseUrl)
    {
        var context = Context(agent, board, gateway, baseUrl);
        return new Dictionary<string, string>
        {
            [AgentsFile] = Render(Sources[AgentsFile], context),
            [ToolsFile] = Render(Sources[ToolsFile], context),
            [SoulFile] = RenderSoul(agent, context),
            [IdentityFile] = Render(string.IsNullOrWhiteSpace(agent.IdentityTemplate) ? Sources[IdentityFile] : agent.IdentityTemplate, context),
            [UserFile] = Render(Sources[UserFile], context),
            [MemoryFile] = Render(Sources[MemoryFile], context),
        };
    }

    /// <summary>SOUL.md: the agent's soul_template when it has one, else the default.</summary>
    public static string RenderSoul(Agent agent, BoardCopy? board, GatewayCopy? gateway, string baseUrl) =>
        RenderSoul(agent, Context(agent, board, gateway, baseUrl));

    private static string RenderSoul(Agent agent, IReadOnlyDictionary<string, string> context) =>
        Render(string.IsNullOrWhiteSpace(agent.SoulTemplate) ? Sources[SoulFile] : agent.SoulTemplate, context);

    /// <summary>Replaces each known <c>{{key}}</c> once (values are not expanded again); unknown ones stay.</summary>
    public static string Render(string template, IReadOnlyDictionary<string, string> context) =>
        Placeholder().Replace(template, m => context.TryGetValue(m.Groups[1].Value, out var value) ? value : m.Value).Trim() + "\n";

    [GeneratedRegex(@"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")]
    private static partial Regex Placeholder();

    public static IReadOnlyDictionary<string, string> Context(Agent agent, BoardCopy? board, GatewayCopy? gateway, string baseUrl)
    {
        var profile = Profile(agent);
        var role = agent.IsGatewayMain ? "main" : agent.IsBoardLead ? "lead" : "worker";
        var c = new Dictionary<string, string>
        {
            ["agent_name"] = agent.Name,
            ["agent_id"] = agent.Id.ToString(),
            ["board_id"] = board?.Id.ToString() ?? "",
            ["is_board_lead"] = Bool(agent.IsBoardLead),
            ["is_main_agent"] = Bool(agent.IsGatewayMain),
            ["session_key"] = agent.SessionKey ?? "",
            ["gateway_agent_id"] = agent.GatewayAgentId ?? "",
            ["gateway_name"] = gateway?.Name ?? "",
            ["workspace_root"] = gateway?.WorkspaceRoot ?? "",
            ["workspace_path"] = ProvisioningMarkers.WorkspacePath,
            ["auth_token"] = ProvisioningMarkers.AgentToken,
            ["base_url"] = baseUrl.TrimEnd('/'),
            ["main_session_key"] = gateway is null ? "" : Domain.AgentIdentities.SessionKey($"mc-gateway-{gateway.Id}"),
            ["role_tag"] = "agent-" + role,
            ["role_title"] = role switch { "main" => "the gateway's main agent", "lead" => "the lead of a board", _ => "a worker on a board" },
            ["user_name"] = "(not known yet)",
            ["user_preferred_name"] = "(not known yet)",
            ["user_timezone"] = "(not known yet)",
            ["user_notes"] = "(none yet)",
            ["identity_role"] = profile.GetValueOrDefault("role") ?? (role switch { "main" => "Gateway Agent", "lead" => "Board Lead", _ => "Generalist" }),
            ["identity_communication_style"] = profile.GetValueOrDefault("communication_style") ?? "direct, concise, practical",
            ["identity_emoji"] = profile.GetValueOrDefault("emoji") ?? (role switch { "main" => ":compass:", "lead" => ":gear:", _ => ":hammer:" }),
        };
        foreach (var key in new[] { "autonomy_level", "verbosity", "output_format", "update_cadence", "purpose", "personality", "custom_instructions" })
            c["identity_" + key] = profile.GetValueOrDefault(key) ?? "";
        c["identity_extra"] = string.Join("\n", new[] { ("Purpose", "purpose"), ("Personality", "personality"), ("Custom instructions", "custom_instructions") }
            .Where(p => !string.IsNullOrWhiteSpace(profile.GetValueOrDefault(p.Item2)))
            .Select(p => $"- {p.Item1}: {profile[p.Item2]}"));
        c["soul_focus"] = role switch
        {
            "main" => "You are the steady point of contact between the humans and the boards of this gateway.",
            "lead" => "You keep the board moving: clear priorities, honest status, work handed to the right agent.",
            _ => $"You do careful, finished work as a {c["identity_role"]}.",
        };

        if (board is not null)
        {
            c["board_name"] = board.Name;
            c["board_type"] = board.BoardType;
            c["board_objective"] = string.IsNullOrWhiteSpace(board.Objective) ? (string.IsNullOrWhiteSpace(board.Description) ? "(not set)" : board.Description) : board.Objective;
            c["board_success_metrics"] = board.SuccessMetrics ?? "null";
            c["board_target_date"] = board.TargetDate?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "";
            c["board_goal_confirmed"] = Bool(board.GoalConfirmed);
            c["board_rule_require_approval_for_done"] = Bool(board.RequireApprovalForDone);
            c["board_rule_require_review_before_done"] = Bool(board.RequireReviewBeforeDone);
            c["board_rule_comment_required_for_review"] = Bool(board.CommentRequiredForReview);
            c["board_rule_block_status_changes_with_pending_approval"] = Bool(board.BlockStatusChangesWithPendingApproval);
            c["board_rule_only_lead_can_change_status"] = Bool(board.OnlyLeadCanChangeStatus);
            c["board_rule_max_agents"] = board.MaxAgents.ToString(CultureInfo.InvariantCulture);
        }

        // Composite sections, rendered from the parts with the context so far.
        c["role_contract"] = Render(Sources[$"parts/role-{role}.md"], c).TrimEnd();
        c["board_section"] = board is null ? "" : Render(Sources["parts/board.md"], c).TrimEnd();
        c["tools"] = Render(Sources[agent.IsGatewayMain ? "parts/tools-main.md" : "parts/tools-board.md"], c).TrimEnd();
        c["memory_context"] = board is null
            ? "## Context\n- Gateway: " + (gateway?.Name ?? "") + "\n- You have no board; the board leads own board work."
            : $"## Board context\n- Board: {board.Name} (`{board.Id}`)\n- Objective: {c["board_objective"]}" + (agent.IsBoardLead
                ? "\n\n## Current delivery status\n- Goal:\n- State: Working | Blocked | Waiting | Done\n- Next step:\n- Request now:"
                : "");
        return c;
    }

    /// <summary>identity_profile as {str: str} (reference: normalized on write).</summary>
    private static Dictionary<string, string> Profile(Agent agent)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (string.IsNullOrEmpty(agent.IdentityProfile)) return result;
        try
        {
            using var doc = JsonDocument.Parse(agent.IdentityProfile);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) return result;
            foreach (var p in doc.RootElement.EnumerateObject())
                if (p.Value.ValueKind != JsonValueKind.Null)
                    result[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
        }
        catch (JsonException)
        {
        }
        return result;
    }

    private static string Bool(bool value) => value ? "true" : "false";

    private static FrozenDictionary<string, string> LoadSources()
    {
        var assembly = typeof(WorkspaceTemplates).Assembly;
        const string prefix = "Templates/";
        var result = new Dictionary<string, string>();
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var reader = new StreamReader(stream);
            result[name[prefix.Length..].Replace('\\', '/')] = reader.ReadToEnd();
        }
        return result.ToFrozenDictionary();
    }
}
