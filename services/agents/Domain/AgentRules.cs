namespace MissionControl.Agents.Domain;

/// <summary>Machine-readable refusal codes of the agents API.</summary>
public static class AgentCodes
{
    public const string NameTaken = "agent_name_taken";
    public const string MaxAgentsReached = "max_agents_reached";
    public const string BoardHasNoGateway = "board_has_no_gateway";
    public const string GatewayUnknown = "gateway_unknown";
    public const string StatusControlledByHeartbeat = "status_controlled_by_heartbeat";
    public const string AgentBoardMismatch = "agent_board_mismatch";
    public const string LeadOnly = "lead_only";
    public const string AdminOnly = "admin_only";
    public const string BoardAccessDenied = "board_access_denied";
    public const string NoSession = "agent_has_no_session";
    public const string ProtectedAgent = "protected_agent";
    public const string LeadExists = "board_lead_exists";
    public const string ImmutableField = "immutable_field";
    public const string GatewayMainMissing = "gateway_main_missing";
    public const string GatewayMainOnly = "gateway_main_only";
    public const string BoardNotOnGateway = "board_not_on_gateway";
}

/// <summary>An agent already on the board or gateway, as far as the naming and capacity rules care.</summary>
public sealed record ExistingAgent(Guid Id, Guid? BoardId, string Name, bool IsBoardLead);

/// <summary>The rules for creating and renaming agents (reference §2.8).</summary>
public static class AgentRules
{
    public const int MaxName = 256;

    /// <summary>Null when the name is acceptable, else the field error.</summary>
    public static string? CheckName(string? name) =>
        string.IsNullOrWhiteSpace(name) ? "must not be blank"
        : name.Trim().Length > MaxName ? $"must be at most {MaxName} characters"
        : null;

    /// <summary>Names are unique, ignoring case, among the agents of a board and among the agents of a gateway.</summary>
    public static bool NameTaken(string name, IEnumerable<ExistingAgent> sameBoardOrGateway, Guid? exceptAgentId = null) =>
        sameBoardOrGateway.Any(a => a.Id != exceptAgentId && string.Equals(a.Name.Trim(), name.Trim(), StringComparison.OrdinalIgnoreCase));

    /// <summary>A lead may add workers until the board's max_agents (the lead itself not counted); users are not capped.</summary>
    public static bool CapReached(int maxAgents, IEnumerable<ExistingAgent> boardAgents) =>
        boardAgents.Count(a => !a.IsBoardLead) >= maxAgents;

    public static string CapMessage(int maxAgents) =>
        $"Board worker-agent limit reached: max_agents={maxAgents} (excluding the lead); cannot create more than {maxAgents} agent(s).";
}
