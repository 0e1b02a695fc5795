using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using MissionControl.GatewayBridge.Connections;
using MissionControl.GatewayBridge.Data;
using MissionControl.GatewayBridge.OpenClaw;
using MissionControl.InternalAuth;

namespace MissionControl.GatewayBridge.Apis;

public sealed record SessionMessageRequest(string? Content);

/// <summary>
/// The gateway's live view: status, the methods it speaks, its sessions and their history, and sending a
/// message into a session. Addressed by board (users with access to it) or by gateway (organization admins).
/// </summary>
public static class GatewaySessionsApi
{
    public static IEndpointRouteBuilder MapGatewaySessionsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/gateways");
        api.MapGet("/status", Status);
        api.MapGet("/commands", Commands);
        api.MapGet("/sessions", Sessions);
        api.MapGet("/sessions/{sessionId}", Session);
        api.MapGet("/sessions/{sessionId}/history", History);
        api.MapPost("/sessions/{sessionId}/message", Message);
        return app;
    }

    /// <summary>The gateway a request is about, if the caller may use it for <paramref name="write"/>.</summary>
    private static async Task<(Gateway? Gateway, IResult? Error)> ResolveAsync(
        HttpContext http, GatewayBridgeDbContext db, Guid? boardId, Guid? gatewayId, bool write, CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        if (principal.OrganizationId is not { } org) return (null, ApiProblems.Forbidden("No active organization.", "no_organization"));
        if (boardId is { } board)
        {
            var allowed = write ? principal.CanWriteBoard(board) : principal.CanReadBoard(board);
            var copy = await db.Boards.AsNoTracking().FirstOrDefaultAsync(b => b.Id == board && b.OrganizationId == org, ct);
            if (copy is null || !(allowed || principal.IsOrgAdmin)) return (null, ApiProblems.NotFound("Board not found."));
            if (copy.GatewayId is null) return (null, ApiProblems.Unprocessable("The board has no gateway.", "board_has_no_gateway"));
            gatewayId = copy.GatewayId;
        }
        else if (gatewayId is null)
        {
            return (null, ApiProblems.Validation("board_id", "board_id or gateway_id is required."));
        }
        else if (GatewaysApi.RequireAdmin(principal, out _) is { } denied)
        {
            return (null, denied);
        }
        var gateway = await db.Gateways.AsNoTracking().FirstOrDefaultAsync(g => g.Id == gatewayId && g.OrganizationId == org, ct);
        return gateway is null ? (null, ApiProblems.NotFound("Gateway not found.")) : (gateway, null);
    }

    private static IResult GatewayFailed(GatewayException e) =>
        ApiProblems.Status(StatusCodes.Status502BadGateway, $"Gateway request failed: {e.Message}", "gateway_error",
            new Dictionary<string, object?> { ["gateway_error_code"] = e.DetailCode ?? e.Code });

    /// <summary>Never fails because the gateway does: connected=false with the error instead.</summary>
    private static async Task<IResult> Status(
        HttpContext http, GatewayBridgeDbContext db, GatewayConnections connections, Guid? board_id, Guid? gateway_id, CancellationToken ct)
    {
        var (gateway, error) = await ResolveAsync(http, db, board_id, gateway_id, write: false, ct);
        if (error is not null) return error;
        try
        {
            await using var rpc = await connections.OpenAsync(gateway!, ct);
            var sessions = await rpc.RequestAsync("sessions.list", new { limit = 200 }, ct);
            var list = sessions.TryGetProperty("sessions", out var s) ? s : default;
            return Results.Ok(new
            {
                connected = true, gateway_id = gateway!.Id, gateway_url = gateway.Url, connection_state = gateway.ConnectionState,
                server_version = gateway.ServerVersion, sessions_count = list.ValueKind == JsonValueKind.Array ? list.GetArrayLength() : 0, sessions = list,
            });
        }
        catch (GatewayException e)
        {
            return Results.Ok(new
            {
                connected = false, gateway_id = gateway!.Id, gateway_url = gateway.Url, connection_state = gateway.ConnectionState,
                error = e.Message, error_code = e.DetailCode ?? e.Code,
            });
        }
    }

    /// <summary>What the gateway advertises (methods and events) when it can be asked; the protocol we speak.</summary>
    private static async Task<IResult> Commands(
        HttpContext http, GatewayBridgeDbContext db, GatewayConnections connections, Guid? board_id, Guid? gateway_id, CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        if (principal.Kind != PrincipalKind.User) return ApiProblems.Forbidden("Users only.");
        if (board_id is null && gateway_id is null)
            return Results.Ok(new { protocol_version = GatewayProtocol.Version, methods = GatewayProtocol.MethodsUsed, events = GatewayProtocol.EventsUsed });
        var (gateway, error) = await ResolveAsync(http, db, board_id, gateway_id, write: false, ct);
        if (error is not null) return error;
        var hello = connections.OwnedSession(gateway!.Id)?.Hello;
        return Results.Ok(new
        {
            protocol_version = GatewayProtocol.Version, server_version = hello?.ServerVersion ?? gateway.ServerVersion,
            connection_state = gateway.ConnectionState, methods = GatewayProtocol.MethodsUsed, events = GatewayProtocol.EventsUsed,
        });
    }

    private static async Task<IResult> Sessions(
        HttpContext http, GatewayBridgeDbContext db, GatewayConnections connections, Guid? board_id, Guid? gateway_id, CancellationToken ct)
    {
        var (gateway, error) = await ResolveAsync(http, db, board_id, gateway_id, write: false, ct);
        if (error is not null) return error;
        try
        {
            await using var rpc = await connections.OpenAsync(gateway!, ct);
            var answer = await rpc.RequestAsync("sessions.list", new { limit = 500 }, ct);
            var mainKey = $"agent:mc-gateway-{gateway!.Id}:main";
            var sessions = answer.TryGetProperty("sessions", out var s) && s.ValueKind == JsonValueKind.Array ? s.EnumerateArray().ToList() : [];
            var main = sessions.FirstOrDefault(x => x.TryGetProperty("key", out var k) && k.GetString() == mainKey);
            return Results.Ok(new { sessions, main_session = main.ValueKind == JsonValueKind.Undefined ? (JsonElement?)null : main });
        }
        catch (GatewayException e)
        {
            return GatewayFailed(e);
        }
    }

    private static async Task<IResult> Session(
        string sessionId, HttpContext http, GatewayBridgeDbContext db, GatewayConnections connections, Guid? board_id, Guid? gateway_id, CancellationToken ct)
    {
        var (gateway, error) = await ResolveAsync(http, db, board_id, gateway_id, write: false, ct);
        if (error is not null) return error;
        try
        {
            await using var rpc = await connections.OpenAsync(gateway!, ct);
            var answer = await rpc.RequestAsync("sessions.list", new { limit = 1000 }, ct);
            var session = answer.TryGetProperty("sessions", out var s) && s.ValueKind == JsonValueKind.Array
                ? s.EnumerateArray().FirstOrDefault(x => x.TryGetProperty("key", out var k) && k.GetString() == sessionId)
                : default;
            return session.ValueKind == JsonValueKind.Undefined ? ApiProblems.NotFound("Session not found.") : Results.Ok(new { session });
        }
        catch (GatewayException e)
        {
            return GatewayFailed(e);
        }
    }

    private static async Task<IResult> History(
        string sessionId, HttpContext http, GatewayBridgeDbContext db, GatewayConnections connections, Guid? board_id, Guid? gateway_id, int? limit,
        CancellationToken ct)
    {
        var (gateway, error) = await ResolveAsync(http, db, board_id, gateway_id, write: false, ct);
        if (error is not null) return error;
        if (limit is < 1 or > 1000) return ApiProblems.Validation("limit", "Between 1 and 1000.");
        try
        {
            await using var rpc = await connections.OpenAsync(gateway!, ct);
            var answer = await rpc.RequestAsync("chat.history", new { sessionKey = sessionId, limit = limit ?? 200 }, ct);
            return Results.Ok(new { history = answer.TryGetProperty("messages", out var m) ? m : default });
        }
        catch (GatewayException e)
        {
            return GatewayFailed(e);
        }
    }

    private static async Task<IResult> Message(
        string sessionId, SessionMessageRequest body, HttpContext http, GatewayBridgeDbContext db, GatewayConnections connections, Guid? board_id,
        Guid? gateway_id, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(body.Content)) return ApiProblems.Validation("content", "Required.");
        var (gateway, error) = await ResolveAsync(http, db, board_id, gateway_id, write: true, ct);
        if (error is not null) return error;
        try
        {
            await using var rpc = await connections.OpenAsync(gateway!, ct);
            await GatewayChat.SendAsync(rpc, sessionId, body.Content, Guid.NewGuid().ToString(), deliver: false, ct);
            return Results.Ok(new { ok = true });
        }
        catch (GatewayException e)
        {
            return GatewayFailed(e);
        }
    }
}

/// <summary>The protocol revision we speak and the methods and events the bridge relies on.</summary>
public static class GatewayProtocol
{
    public const int Version = 4;

    public static readonly string[] MethodsUsed =
    [
        "connect", "health", "agents.list", "agents.create", "agents.update", "agents.delete", "agents.files.list", "agents.files.get",
        "agents.files.set", "sessions.list", "sessions.delete", "chat.send", "chat.history", "chat.abort",
    ];

    public static readonly string[] EventsUsed = ["connect.challenge", "chat", "agent", "tick", "health", "shutdown", "presence"];
}
