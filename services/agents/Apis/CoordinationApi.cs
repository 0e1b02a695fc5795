using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using MissionControl.Agents.Data;
using MissionControl.Agents.Domain;
using MissionControl.Agents.Operations;
using MissionControl.Contracts.Tasks;
using MissionControl.InternalAuth;
using MissionControl.Messaging;

namespace MissionControl.Agents.Apis;

/// <summary>POST …/gateway/main/ask-user (lead).</summary>
public sealed record AskUserRequest(
    string? Content, string? CorrelationId = null, string? PreferredChannel = null, IReadOnlyList<string>? ReplyTags = null, string? ReplySource = null);

/// <summary>POST …/gateway/boards/{b}/lead/message and …/gateway/leads/broadcast (gateway-main; board_ids only for the broadcast).</summary>
public sealed record LeadMessageRequest(
    string? Kind, string? Content, string? CorrelationId = null, IReadOnlyList<string>? ReplyTags = null, string? ReplySource = null,
    IReadOnlyList<Guid>? BoardIds = null);

public sealed record AskUserResult(bool Ok, Guid BoardId, Guid MainAgentId, string MainAgentName);

public sealed record LeadMessageResult(bool Ok, Guid BoardId, Guid LeadAgentId, string LeadAgentName, bool LeadCreated);

public sealed record BroadcastItem(Guid BoardId, Guid? LeadAgentId, string? LeadAgentName, bool Ok, string? Error);

public sealed record BroadcastResult(bool Ok, int Sent, int Failed, IReadOnlyList<BroadcastItem> Results);

/// <summary>Lead ↔ gateway-main coordination (reference §2.9, §5.10): messages into the other agent's session through the bridge.</summary>
public static class CoordinationApi
{
    public const int MaxContent = 20_000;
    private static readonly string[] UserReplyTags = ["gateway_main", "user_reply"];
    private static readonly string[] LeadReplyTags = ["gateway_main", "lead_reply"];

    public static RouteGroupBuilder MapCoordination(this RouteGroupBuilder api)
    {
        api.MapPost("/boards/{boardId:guid}/gateway/main/ask-user", AskUser);
        api.MapPost("/gateway/boards/{boardId:guid}/lead/message", LeadMessage);
        api.MapPost("/gateway/leads/broadcast", Broadcast);
        return api;
    }

    /// <summary>The lead asks the human through the gateway-main agent's channels (delivered at once).</summary>
    private static async Task<IResult> AskUser(
        Guid boardId, AskUserRequest body, HttpContext http, AgentsDbContext db, DatabaseWriteGate gate, Provisioning provisioning, TimeProvider time,
        CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        if (Access.RefuseOtherBoard(principal, boardId) is { } refused) return refused;
        if (!principal.IsBoardLead) return Access.LeadOnly();
        if (CheckContent(body.Content) is { } invalid) return invalid;
        var board = await Access.BoardAsync(db, principal, boardId, ct);
        if (board is null) return ApiProblems.NotFound("Board not found.");
        var lead = await db.Agents.AsNoTracking().FirstOrDefaultAsync(a => a.Id == principal.AgentId && a.BoardId == boardId && a.IsBoardLead, ct);
        if (lead is null) return Access.LeadOnly();
        if (board.GatewayId is not { } gatewayId)
            return ApiProblems.Unprocessable("The board has no gateway.", AgentCodes.BoardHasNoGateway);
        var main = await db.Agents.AsNoTracking()
            .FirstOrDefaultAsync(a => a.GatewayId == gatewayId && a.IsGatewayMain && a.OrganizationId == board.OrganizationId, ct);
        if (main is null) return ApiProblems.Unprocessable("The board's gateway has no main agent.", AgentCodes.GatewayMainMissing);

        var message = new StringBuilder()
            .Append("LEAD REQUEST: ASK USER\n")
            .Append($"Board: {board.Name}\nBoard ID: {board.Id}\nFrom lead: {lead.Name}\n")
            .Append($"Correlation ID: {Or(body.CorrelationId, "(none)")}\nPreferred channel: {Or(body.PreferredChannel, "(any)")}\n\n")
            .Append(body.Content!.Trim()).Append("\n\n")
            .Append("Ask the user through your configured channels (the preferred one when given). When the user answers, ")
            .Append("write the answer back to Mission Control as NON-chat board memory (do not use the \"chat\" tag):\n")
            .Append(ReplyInstruction(provisioning.BaseUrl, board.Id, body.ReplyTags ?? UserReplyTags, Or(body.ReplySource, "user_via_gateway_main"), body.CorrelationId))
            .ToString();
        db.AddIntegrationEvent(new AgentNotificationRequested
        {
            OrganizationId = board.OrganizationId, BoardId = board.Id, AgentId = main.Id, Kind = "gateway.lead_ask_user", Message = message, Deliver = true,
            OccurredAt = time.GetUtcNow(),
        });
        using (await gate.EnterAsync(ct)) await db.SaveChangesAsync(ct);
        return Results.Ok(new AskUserResult(true, board.Id, main.Id, main.Name));
    }

    /// <summary>The gateway-main agent asks (or hands work to) a board's lead, creating the lead when the board has none.</summary>
    private static async Task<IResult> LeadMessage(
        Guid boardId, LeadMessageRequest body, HttpContext http, AgentsDbContext db, AgentCreation creation, Provisioning provisioning, TimeProvider time,
        CancellationToken ct)
    {
        var (main, refused) = await MainAgentAsync(http, db, ct);
        if (refused is not null) return refused;
        if (CheckLeadMessage(body) is { } invalid) return invalid;
        var board = await db.Boards.AsNoTracking().FirstOrDefaultAsync(b => b.Id == boardId, ct);
        if (board is null) return ApiProblems.NotFound("Board not found.");
        if (board.OrganizationId != main!.OrganizationId || board.GatewayId != main.GatewayId)
            return ApiProblems.Forbidden("The board is not on this gateway agent's gateway.", AgentCodes.BoardNotOnGateway);
        var result = await SendToLeadAsync(board, main, body, db, creation, provisioning.BaseUrl, time, ct);
        return result.Lead is { } lead
            ? Results.Ok(new LeadMessageResult(true, board.Id, lead.Id, lead.Name, result.Created))
            : ApiProblems.Unprocessable(result.Error!, result.Code);
    }

    /// <summary>The same message to the leads of several boards (default: every board on the gateway); one result per board.</summary>
    private static async Task<IResult> Broadcast(
        LeadMessageRequest body, HttpContext http, AgentsDbContext db, AgentCreation creation, Provisioning provisioning, TimeProvider time, CancellationToken ct)
    {
        var (main, refused) = await MainAgentAsync(http, db, ct);
        if (refused is not null) return refused;
        if (CheckLeadMessage(body) is { } invalid) return invalid;
        if (body.BoardIds is { Count: > 200 }) return ApiProblems.Validation("board_ids", "must name at most 200 boards");
        var onGateway = await db.Boards.AsNoTracking()
            .Where(b => b.GatewayId == main!.GatewayId && b.OrganizationId == main.OrganizationId).OrderBy(b => b.Name).ToListAsync(ct);
        var ids = body.BoardIds?.Distinct().ToList() ?? onGateway.Select(b => b.Id).ToList();
        var results = new List<BroadcastItem>();
        foreach (var id in ids)
        {
            var board = onGateway.FirstOrDefault(b => b.Id == id);
            if (board is null)
            {
                results.Add(new BroadcastItem(id, null, null, false, "Board not found on this gateway."));
                continue;
            }
            var sent = await SendToLeadAsync(board, main!, body, db, creation, provisioning.BaseUrl, time, ct);
            results.Add(new BroadcastItem(id, sent.Lead?.Id, sent.Lead?.Name, sent.Lead is not null, sent.Error));
        }
        var ok = results.Count(r => r.Ok);
        return Results.Ok(new BroadcastResult(true, ok, results.Count - ok, results));
    }

    private static Task<LeadResult> SendToLeadAsync(
        BoardCopy board, Agent main, LeadMessageRequest body, AgentsDbContext db, AgentCreation creation, string baseUrl, TimeProvider time, CancellationToken ct)
    {
        var handoff = body.Kind == "handoff";
        return creation.EnsureLeadAsync(board, lead =>
        {
            var message = new StringBuilder()
                .Append(handoff ? "GATEWAY MAIN HANDOFF\n" : "GATEWAY MAIN QUESTION\n")
                .Append($"Board: {board.Name}\nBoard ID: {board.Id}\nFrom agent: {main.Name}\n")
                .Append($"Correlation ID: {Or(body.CorrelationId, "(none)")}\n\n")
                .Append(body.Content!.Trim()).Append("\n\n")
                .Append(handoff
                    ? "Take this over on your board. Report back to the gateway agent "
                    : "Answer the gateway agent ")
                .Append("by writing NON-chat board memory (do not use the \"chat\" tag):\n")
                .Append(ReplyInstruction(baseUrl, board.Id, body.ReplyTags ?? LeadReplyTags, Or(body.ReplySource, "lead_to_gateway_main"), body.CorrelationId))
                .ToString();
            db.AddIntegrationEvent(new AgentNotificationRequested
            {
                OrganizationId = board.OrganizationId, BoardId = board.Id, AgentId = lead.Id, Kind = handoff ? "gateway.main_handoff" : "gateway.main_question",
                Message = message, Deliver = false, OccurredAt = time.GetUtcNow(),
            });
        }, ct);
    }

    /// <summary>The calling agent's row when it is a gateway-main agent (no board, on a gateway of its organization); else the refusal.</summary>
    private static async Task<(Agent? Main, IResult? Refused)> MainAgentAsync(HttpContext http, AgentsDbContext db, CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        var refused = ApiProblems.Forbidden("Only the gateway-main agent can perform this action.", AgentCodes.GatewayMainOnly);
        if (principal.Kind != PrincipalKind.Agent || principal.Role != AgentRoles.Main) return (null, refused);
        var main = await db.Agents.AsNoTracking().FirstOrDefaultAsync(a => a.Id == principal.AgentId, ct);
        return main is { IsGatewayMain: true, BoardId: null, GatewayId: not null } && main.OrganizationId == principal.OrganizationId
            ? (main, null)
            : (null, refused);
    }

    private static IResult? CheckContent(string? content) =>
        string.IsNullOrWhiteSpace(content) ? ApiProblems.Validation("content", "must not be blank")
        : content.Length > MaxContent ? ApiProblems.Validation("content", $"must be at most {MaxContent} characters")
        : null;

    private static IResult? CheckLeadMessage(LeadMessageRequest body) =>
        body.Kind is not ("question" or "handoff") ? ApiProblems.Validation("kind", "must be question or handoff") : CheckContent(body.Content);

    private static string Or(string? value, string fallback) => string.IsNullOrWhiteSpace(value) ? fallback : value.Trim();

    private static string ReplyInstruction(string baseUrl, Guid boardId, IReadOnlyList<string> tags, string source, string? correlationId)
    {
        var example = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["content"] = string.IsNullOrWhiteSpace(correlationId) ? "<your reply>" : $"[{correlationId.Trim()}] <your reply>",
            ["tags"] = tags,
            ["source"] = source,
        });
        return $"POST {baseUrl.TrimEnd('/')}/api/v1/agent/boards/{boardId}/memory\nBody: {example}\n";
    }
}
