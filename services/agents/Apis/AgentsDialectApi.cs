using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using MissionControl.Agents.Data;
using MissionControl.Agents.Domain;
using MissionControl.Agents.Operations;
using MissionControl.InternalAuth;
using MissionControl.Outbound;

namespace MissionControl.Agents.Apis;

/// <summary>POST /api/agents (seed 000/001, builderz's names, camelCase).</summary>
public sealed record DialectAgentCreate(
    string? Name, IReadOnlyList<string?>? Capabilities = null, Guid? BoardId = null, Guid? GatewayId = null, string? CallbackUrl = null,
    string? Role = null, string? RuntimeType = null);

/// <summary>An agent in the /api/agents dialect: never its token, hash or callback secret.</summary>
public sealed record DialectAgent(
    Guid Id, string Name, string? Role, string Status, IReadOnlyList<string> Capabilities, Guid OrganizationId, Guid? BoardId, Guid? GatewayId,
    string RuntimeType, string? CallbackUrl, string? SessionKey, bool IsBoardLead, bool IsGatewayMain, DateTime? LastSeen, DateTime CreatedAt,
    DateTime UpdatedAt)
{
    public const string Custom = "custom";
    public const string OpenClaw = "openclaw";

    public static DialectAgent From(Agent a, string status) => new(
        a.Id, a.Name, a.Role, status, AgentInput.ReadCapabilities(a.Capabilities), a.OrganizationId, a.BoardId, a.GatewayId,
        a.IsCustom ? Custom : OpenClaw, a.CallbackUrl, a.SessionKey, a.IsBoardLead, a.IsGatewayMain, a.LastSeenAt, a.CreatedAt, a.UpdatedAt);
}

/// <summary>
/// The /api/agents dialect over the same agents as /api/v1/agents (same visibility and access rules):
/// camelCase, objects at top level, lists as {agents, total, limit, offset}. A board with no gateway (or
/// runtimeType "custom") makes a custom agent, whose token and callback secret the 201 shows once; a
/// board on a gateway makes a gateway agent through the usual provisioning.
/// </summary>
public static class AgentsDialectApi
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static IEndpointRouteBuilder MapAgentsDialectApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/agents");
        api.MapGet("", List);
        api.MapPost("", Create);
        api.MapGet("/{agentId:guid}", Get);
        api.MapPut("/{agentId:guid}", Update);
        api.MapPatch("/{agentId:guid}", Update);
        api.MapDelete("/{agentId:guid}", Delete);
        return app;
    }

    private static async Task<IResult> List(
        HttpContext http, AgentReads reads, AgentClock clock, string? status, string? role, Guid? boardId, int? limit, int? offset, CancellationToken ct)
    {
        if (!PageRequest.TryParse(limit, offset, out var page, out var error)) return error!;
        var query = reads.Visible(http.GetPrincipal());
        if (boardId is { } b) query = query.Where(a => a.BoardId == b);
        if (!string.IsNullOrWhiteSpace(role)) query = query.Where(a => a.Role == role);
        query = query.OrderBy(a => a.CreatedAt).ThenBy(a => a.Id);
        var now = clock.Now;
        List<DialectAgent> items;
        int total;
        if (string.IsNullOrWhiteSpace(status))
        {
            total = await query.CountAsync(ct);
            items = (await query.Skip(page.Offset).Take(page.Limit).ToListAsync(ct)).Select(a => DialectAgent.From(a, clock.StatusOf(a, now))).ToList();
        }
        else
        {
            // online/offline are computed from last_seen_at, not stored: filter after computing (an organization's agents are few).
            var all = (await query.ToListAsync(ct)).Select(a => DialectAgent.From(a, clock.StatusOf(a, now))).Where(a => a.Status == status).ToList();
            total = all.Count;
            items = all.Skip(page.Offset).Take(page.Limit).ToList();
        }
        return Results.Json(new { agents = items, total, limit = page.Limit, offset = page.Offset }, Json);
    }

    private static async Task<IResult> Get(Guid agentId, HttpContext http, AgentReads reads, AgentClock clock, CancellationToken ct) =>
        await reads.Visible(http.GetPrincipal()).FirstOrDefaultAsync(a => a.Id == agentId, ct) is { } agent
            ? Results.Json(DialectAgent.From(agent, clock.StatusOf(agent, clock.Now)), Json)
            : ApiProblems.NotFound("Agent not found.");

    /// <summary>An org admin with write access to the board, as POST /api/v1/agents.</summary>
    private static async Task<IResult> Create(
        HttpContext http, AgentsDbContext db, AgentCreation creation, CustomAgents custom, DefaultBoards defaults, AgentClock clock, AddressGuard guard,
        CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        if (principal.Kind != PrincipalKind.User || !principal.IsOrgAdmin)
            return ApiProblems.Forbidden("Only organization admins create agents.", AgentCodes.AdminOnly);
        var (body, bad) = await ReadAsync<DialectAgentCreate>(http, ct);
        if (bad is not null) return bad;

        var errors = new Dictionary<string, string[]>();
        if (AgentRules.CheckName(body!.Name) is { } nameError) errors["name"] = [nameError];
        if (AgentInput.CheckCapabilities(body.Capabilities, out var capabilities) is { } capError) errors["capabilities"] = [capError];
        if (AgentInput.CheckRole(body.Role) is { } roleError) errors["role"] = [roleError];
        if (AgentInput.CheckCallbackUrl(body.CallbackUrl, guard) is { } urlError) errors["callbackUrl"] = [urlError];
        if (body.RuntimeType is not (null or DialectAgent.Custom or DialectAgent.OpenClaw)) errors["runtimeType"] = ["must be custom or openclaw"];
        if (errors.Count > 0) return ApiProblems.Validation(errors);
        // Every agent here works a board's tasks: without boardId, the organization's default board (where
        // /api/tasks puts tasks that name none); gateway-main agents come with their gateway.
        var auth = http.Request.Headers.Authorization.ToString();
        BoardCopy? board;
        if (body.BoardId is { } boardId) board = await Access.BoardAsync(db, principal, boardId, ct);
        else if (body.GatewayId is null && auth.StartsWith("Bearer ", StringComparison.Ordinal))
            board = await defaults.GetAsync(principal.OrganizationId!.Value, auth["Bearer ".Length..], ct);
        else return ApiProblems.Unprocessable("boardId is required with gatewayId: an agent works the tasks of one board.", "board_required");
        if (board is null) return ApiProblems.NotFound("Board not found.");
        if (!principal.CanWriteBoard(board.Id)) return ApiProblems.Forbidden("You have no write access to this board.", AgentCodes.BoardAccessDenied);

        var name = body.Name!.Trim();
        var role = AgentCreation.NullIfBlank(body.Role?.Trim());
        var isCustom = body.RuntimeType == DialectAgent.Custom || (body.RuntimeType is null && body.GatewayId is null && board.GatewayId is null);
        if (isCustom)
        {
            if (body.GatewayId is not null) return ApiProblems.Validation("gatewayId", "a custom agent runs on no gateway");
            var (made, refused) = await custom.CreateAsync(board, name, capabilities, role, body.CallbackUrl, ct);
            if (refused is not null) return refused;
            var json = JsonSerializer.SerializeToNode(DialectAgent.From(made!.Agent, clock.StatusOf(made.Agent, clock.Now)), Json)!.AsObject();
            json["token"] = made.Token;
            json["callbackSecret"] = made.CallbackSecret;
            return Created(http, made.Agent.Id, json);
        }

        if (body.CallbackUrl is not null) return ApiProblems.Validation("callbackUrl", "only custom agents (no gateway) are called back");
        if (body.GatewayId is { } gatewayId && board.GatewayId != gatewayId)
            return ApiProblems.Unprocessable("The board is not on that gateway.", AgentCodes.BoardNotOnGateway);
        var (agent, refusedGateway) = await creation.TryCreateAsync(board, new AgentCreateRequest(name, board.Id), byLead: false, a =>
        {
            a.Capabilities = capabilities;
            a.Role = role;
        }, ct);
        return refusedGateway ?? Created(http, agent!.Id, DialectAgent.From(agent, clock.StatusOf(agent, clock.Now)));
    }

    /// <summary>{name?, capabilities?, role?, callbackUrl?}: only the fields present change; null clears role and callbackUrl.</summary>
    private static async Task<IResult> Update(
        Guid agentId, HttpContext http, AgentReads reads, CustomAgents custom, AgentClock clock, AddressGuard guard, CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        var found = await reads.Visible(principal).FirstOrDefaultAsync(a => a.Id == agentId, ct);
        if (found is null) return ApiProblems.NotFound("Agent not found.");
        if (Access.RefuseManage(principal, found) is { } refusedAccess) return refusedAccess;
        var body = await JsonRequests.ReadObjectAsync(http.Request, ct);

        var errors = new Dictionary<string, string[]>();
        string? Text(string field)
        {
            if (!body.TryGetPropertyValue(field, out var node) || node is null) return null;
            if (node.GetValueKind() == JsonValueKind.String) return node.GetValue<string>();
            errors[field] = ["must be a string"];
            return null;
        }
        var name = Text("name");
        if (body.ContainsKey("name") && AgentRules.CheckName(name) is { } nameError) errors["name"] = [nameError];
        string? capabilities = null;
        if (body["capabilities"] is { } caps)
        {
            var list = caps.GetValueKind() == JsonValueKind.Array && caps.AsArray().All(c => c?.GetValueKind() == JsonValueKind.String)
                ? caps.AsArray().Select(c => (string?)c!.GetValue<string>()).ToList() : null;
            if (list is null) errors["capabilities"] = ["must be an array of strings"];
            else if (AgentInput.CheckCapabilities(list, out capabilities) is { } capError) errors["capabilities"] = [capError];
        }
        var role = Text("role");
        if (AgentInput.CheckRole(role) is { } roleError) errors["role"] = [roleError];
        var callbackUrl = Text("callbackUrl");
        if (AgentInput.CheckCallbackUrl(callbackUrl, guard) is { } urlError) errors["callbackUrl"] = [urlError];
        if (errors.Count > 0) return ApiProblems.Validation(errors);

        var (agent, refused) = await custom.UpdateAsync(agentId, new AgentDialectChange(
            name?.Trim(), body.ContainsKey("capabilities"), capabilities, body.ContainsKey("role"), AgentCreation.NullIfBlank(role?.Trim()),
            body.ContainsKey("callbackUrl"), callbackUrl), ct);
        return refused ?? Results.Json(DialectAgent.From(agent!, clock.StatusOf(agent!, clock.Now)), Json);
    }

    private static async Task<IResult> Delete(Guid agentId, HttpContext http, AgentReads reads, AgentChanges changes, CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        var agent = await reads.Visible(principal).FirstOrDefaultAsync(a => a.Id == agentId, ct);
        if (agent is null) return ApiProblems.NotFound("Agent not found.");
        if (Access.RefuseManage(principal, agent) is { } refused) return refused;
        await changes.DeleteAsync(agentId, ct);
        return Results.Json(new { success = true }, Json);
    }

    /// <summary>The body in the dialect's camelCase (the service's default binding is /api/v1's snake_case).</summary>
    private static async Task<(T? Body, IResult? Bad)> ReadAsync<T>(HttpContext http, CancellationToken ct) where T : class
    {
        try
        {
            var body = await JsonSerializer.DeserializeAsync<T>(http.Request.Body, Json, ct);
            return body is null ? (null, ApiProblems.Status(StatusCodes.Status400BadRequest, "The body must be a JSON object.", "invalid_json")) : (body, null);
        }
        catch (JsonException e)
        {
            return (null, ApiProblems.Status(StatusCodes.Status400BadRequest, $"The body is not valid: {e.Message}", "invalid_json"));
        }
    }

    private static IResult Created(HttpContext http, Guid id, object body)
    {
        http.Response.Headers.Location = $"/api/agents/{id}";
        return Results.Json(body, Json, statusCode: StatusCodes.Status201Created);
    }
}
