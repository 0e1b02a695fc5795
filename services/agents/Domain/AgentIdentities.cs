namespace MissionControl.Agents.Domain;

/// <summary>
/// Deterministic names on the gateway (reference §5.1, with workers as mc-&lt;agent uuid&gt;): the
/// gateway agent id, its main session key, and the workspace directory under the gateway's root.
/// </summary>
public static class AgentIdentities
{
    public static string GatewayAgentId(Guid agentId, Guid? boardId, Guid? gatewayId, bool isBoardLead, bool isGatewayMain) =>
        isGatewayMain ? $"mc-gateway-{gatewayId}"
        : isBoardLead ? $"lead-{boardId}"
        : $"mc-{agentId}";

    public static string SessionKey(string gatewayAgentId) => $"agent:{gatewayAgentId}:main";

    /// <summary>The historic quirk of the reference: the main agent's workspace drops the "mc-".</summary>
    public static string WorkspacePath(string workspaceRoot, string gatewayAgentId) =>
        $"{workspaceRoot.TrimEnd('/')}/workspace-{(gatewayAgentId.StartsWith("mc-gateway-", StringComparison.Ordinal) ? gatewayAgentId[3..] : gatewayAgentId)}";

    public static string MainAgentName(string gatewayName) => $"{gatewayName} Gateway Agent";
}
