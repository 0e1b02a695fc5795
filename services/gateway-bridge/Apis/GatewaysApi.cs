using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Gateways;
using MissionControl.GatewayBridge.Connections;
using MissionControl.GatewayBridge.Data;
using MissionControl.GatewayBridge.OpenClaw;
using MissionControl.InternalAuth;
using MissionControl.Messaging;

namespace MissionControl.GatewayBridge.Apis;

public sealed record GatewayCreateRequest(
    string? Name, string? Url, string? WorkspaceRoot, string? Token, bool? AllowInsecureTls, bool? DisableDevicePairing);

public sealed record GatewayConnectionRead(string State, string? ErrorCode, string? Error, string? ServerVersion, DateTime? ChangedAt);

/// <summary>A gateway as the API shows it: never its token, only whether it has one.</summary>
public sealed record GatewayRead(
    Guid Id, Guid OrganizationId, string Name, string Url, string WorkspaceRoot, bool AllowInsecureTls, bool DisableDevicePairing, bool HasToken,
    GatewayConnectionRead Connection, DateTime CreatedAt, DateTime UpdatedAt);

/// <summary>/api/v1/gateways: organization admins register their OpenClaw gateways.</summary>
public static class GatewaysApi
{
    public static IEndpointRouteBuilder MapGatewaysApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/gateways");
        api.MapGet("", List);
        api.MapPost("", Create);
        api.MapGet("/{gatewayId:guid}", Get);
        api.MapPatch("/{gatewayId:guid}", Update);
        api.MapDelete("/{gatewayId:guid}", Delete);
        return app;
    }

    internal static IResult? RequireAdmin(McPrincipal principal, out Guid organizationId)
    {
        organizationId = principal.OrganizationId ?? Guid.Empty;
        if (principal.Kind != PrincipalKind.User || principal.OrganizationId is null)
            return ApiProblems.Forbidden("Only organization admins manage gateways.", "admin_required");
        return principal.IsOrgAdmin ? null : ApiProblems.Forbidden("Only organization admins manage gateways.", "admin_required");
    }

    public static GatewayRead Read(Gateway g) => new(
        g.Id, g.OrganizationId, g.Name, g.Url, g.WorkspaceRoot, g.AllowInsecureTls, g.DisableDevicePairing, g.TokenProtected is not null,
        new GatewayConnectionRead(g.ConnectionState, g.LastErrorCode, g.LastError, g.ServerVersion, g.ConnectionChangedAt), g.CreatedAt, g.UpdatedAt);

    private static async Task<IResult> List(HttpContext http, GatewayBridgeDbContext db, int? limit, int? offset, CancellationToken ct)
    {
        if (RequireAdmin(http.GetPrincipal(), out var org) is { } denied) return denied;
        if (!PageRequest.TryParse(limit, offset, out var page, out var pageError)) return pageError!;
        var query = db.Gateways.AsNoTracking().Where(g => g.OrganizationId == org);
        var items = await query.OrderBy(g => g.CreatedAt).Skip(page.Offset).Take(page.Limit).ToListAsync(ct);
        return Results.Ok(new Page<GatewayRead>(items.ConvertAll(Read), await query.CountAsync(ct), page.Limit, page.Offset));
    }

    private static async Task<IResult> Get(Guid gatewayId, HttpContext http, GatewayBridgeDbContext db, CancellationToken ct)
    {
        if (RequireAdmin(http.GetPrincipal(), out var org) is { } denied) return denied;
        var gateway = await db.Gateways.AsNoTracking().FirstOrDefaultAsync(g => g.Id == gatewayId && g.OrganizationId == org, ct);
        return gateway is null ? ApiProblems.NotFound("Gateway not found.") : Results.Ok(Read(gateway));
    }

    private static async Task<IResult> Create(
        GatewayCreateRequest body, HttpContext http, GatewayBridgeDbContext db, DatabaseWriteGate writes, GatewayCredentials credentials,
        GatewayConnections connections, TimeProvider time, CancellationToken ct)
    {
        if (RequireAdmin(http.GetPrincipal(), out var org) is { } denied) return denied;
        var errors = new Dictionary<string, string[]>();
        var name = CheckName(body.Name, errors);
        var url = CheckUrl(body.Url, errors);
        var root = CheckWorkspaceRoot(body.WorkspaceRoot, errors);
        if (errors.Count > 0) return ApiProblems.Validation(errors);
        var token = string.IsNullOrWhiteSpace(body.Token) ? null : body.Token.Trim();

        var check = await CheckConnectAsync(credentials.ConnectOptions(url!, token, body.AllowInsecureTls ?? false, body.DisableDevicePairing ?? false), ct);
        if (check.Problem is { } problem) return problem;

        var now = time.GetUtcNow();
        var gateway = new Gateway
        {
            Id = Guid.CreateVersion7(), OrganizationId = org, Name = name!, Url = url!.ToString(), WorkspaceRoot = root!,
            TokenProtected = credentials.Protect(token), AllowInsecureTls = body.AllowInsecureTls ?? false,
            DisableDevicePairing = body.DisableDevicePairing ?? false, ConnectionState = check.State, LastErrorCode = check.Error?.DetailCode ?? check.Error?.Code,
            LastError = check.Error?.Message, ServerVersion = check.ServerVersion, ConnectionChangedAt = now.UtcDateTime,
            CreatedAt = now.UtcDateTime, UpdatedAt = now.UtcDateTime,
        };
        db.Gateways.Add(gateway);
        db.AddIntegrationEvent(new GatewayCreated { OrganizationId = org, Gateway = State(gateway), OccurredAt = now });
        using (await writes.EnterAsync(ct))
            await db.SaveChangesAsync(ct);
        connections.Wake();
        return Results.Created($"/api/v1/gateways/{gateway.Id}", Read(gateway));
    }

    private static async Task<IResult> Update(
        Guid gatewayId, JsonElement body, HttpContext http, GatewayBridgeDbContext db, DatabaseWriteGate writes, GatewayCredentials credentials,
        GatewayConnections connections, TimeProvider time, CancellationToken ct)
    {
        if (RequireAdmin(http.GetPrincipal(), out var org) is { } denied) return denied;
        if (body.ValueKind != JsonValueKind.Object) return ApiProblems.Validation("body", "Expected a JSON object.");
        var gateway = await db.Gateways.FirstOrDefaultAsync(g => g.Id == gatewayId && g.OrganizationId == org, ct);
        if (gateway is null) return ApiProblems.NotFound("Gateway not found.");

        var errors = new Dictionary<string, string[]>();
        var changed = new List<string>();
        if (body.TryGetProperty("name", out var name) && CheckName(name.ValueKind == JsonValueKind.String ? name.GetString() : null, errors) is { } newName && newName != gateway.Name)
        {
            gateway.Name = newName;
            changed.Add("name");
        }
        if (body.TryGetProperty("url", out var urlValue) && CheckUrl(urlValue.ValueKind == JsonValueKind.String ? urlValue.GetString() : null, errors) is { } newUrl
            && newUrl.ToString() != gateway.Url)
        {
            gateway.Url = newUrl.ToString();
            changed.Add("url");
        }
        if (body.TryGetProperty("workspace_root", out var rootValue)
            && CheckWorkspaceRoot(rootValue.ValueKind == JsonValueKind.String ? rootValue.GetString() : null, errors) is { } newRoot && newRoot != gateway.WorkspaceRoot)
        {
            gateway.WorkspaceRoot = newRoot;
            changed.Add("workspace_root");
        }
        string? token = credentials.Unprotect(gateway.TokenProtected);
        if (body.TryGetProperty("token", out var tokenValue))
        {
            var newToken = tokenValue.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(tokenValue.GetString()) ? tokenValue.GetString()!.Trim() : null;
            if (newToken != token)
            {
                token = newToken;
                gateway.TokenProtected = credentials.Protect(newToken);
                gateway.DeviceTokenProtected = null;
                changed.Add("token");
            }
        }
        if (Flag(body, "allow_insecure_tls", gateway.AllowInsecureTls, errors, changed) is { } insecure) gateway.AllowInsecureTls = insecure;
        if (Flag(body, "disable_device_pairing", gateway.DisableDevicePairing, errors, changed) is { } noPairing) gateway.DisableDevicePairing = noPairing;
        if (errors.Count > 0) return ApiProblems.Validation(errors);
        if (changed.Count == 0) return Results.Ok(Read(gateway));

        var now = time.GetUtcNow();
        if (changed.Intersect(["url", "token", "allow_insecure_tls", "disable_device_pairing"]).Any())
        {
            var check = await CheckConnectAsync(credentials.ConnectOptions(new Uri(gateway.Url), token, gateway.AllowInsecureTls, gateway.DisableDevicePairing), ct);
            if (check.Problem is { } problem) return problem;
            gateway.ConnectionState = check.State;
            gateway.LastErrorCode = check.Error?.DetailCode ?? check.Error?.Code;
            gateway.LastError = check.Error?.Message;
            gateway.ServerVersion = check.ServerVersion ?? gateway.ServerVersion;
            gateway.ConnectionChangedAt = now.UtcDateTime;
        }
        gateway.UpdatedAt = now.UtcDateTime;
        db.AddIntegrationEvent(new GatewayUpdated { OrganizationId = org, Gateway = State(gateway), ChangedFields = changed, OccurredAt = now });
        using (await writes.EnterAsync(ct))
            await db.SaveChangesAsync(ct);
        connections.Wake();
        return Results.Ok(Read(gateway));
    }

    private static async Task<IResult> Delete(
        Guid gatewayId, HttpContext http, GatewayBridgeDbContext db, DatabaseWriteGate writes, GatewayConnections connections, TimeProvider time, CancellationToken ct)
    {
        if (RequireAdmin(http.GetPrincipal(), out var org) is { } denied) return denied;
        var gateway = await db.Gateways.FirstOrDefaultAsync(g => g.Id == gatewayId && g.OrganizationId == org, ct);
        if (gateway is null) return ApiProblems.NotFound("Gateway not found.");
        db.Gateways.Remove(gateway);
        db.AddIntegrationEvent(new GatewayDeleted { OrganizationId = org, GatewayId = gateway.Id, OccurredAt = time.GetUtcNow() });
        using (await writes.EnterAsync(ct))
            await db.SaveChangesAsync(ct);
        connections.Wake();
        return Results.NoContent();
    }

    private static GatewayState State(Gateway g) => new()
    {
        Id = g.Id, OrganizationId = g.OrganizationId, Name = g.Name, Url = g.Url, WorkspaceRoot = g.WorkspaceRoot,
        CreatedAt = g.CreatedAt, UpdatedAt = g.UpdatedAt,
    };

    private sealed record CheckResult(IResult? Problem, string State, string? ServerVersion, GatewayException? Error);

    /// <summary>
    /// A gateway is registered only if we can talk to it. The one exception is a remote gateway that
    /// waits for its operator to approve our device: it is kept, in state pairing_required, and connects
    /// by itself once approved.
    /// </summary>
    private static async Task<CheckResult> CheckConnectAsync(GatewayConnectOptions options, CancellationToken ct)
    {
        try
        {
            await using var client = await GatewayClient.ConnectAsync(options, ct);
            return new CheckResult(null, "connected", client.Hello.ServerVersion, null);
        }
        catch (GatewayException e) when (e.Code == "pairing_required" || e.DetailCode is "PAIRING_REQUIRED" || e.Code == "NOT_PAIRED" && options.Device is not null)
        {
            return new CheckResult(null, "pairing_required", null, e);
        }
        catch (GatewayException e)
        {
            var code = e.DetailCode ?? e.Code;
            var status = code == "PROTOCOL_MISMATCH" ? StatusCodes.Status422UnprocessableEntity : StatusCodes.Status502BadGateway;
            return new CheckResult(ApiProblems.Status(status, $"Gateway check failed: {e.Message}", "gateway_check_failed",
                new Dictionary<string, object?> { ["gateway_error_code"] = code }), "disconnected", null, e);
        }
    }

    /// <summary>A boolean field's new value when present and different (recorded in <paramref name="changed"/>).</summary>
    private static bool? Flag(JsonElement body, string field, bool current, Dictionary<string, string[]> errors, List<string> changed)
    {
        if (!body.TryGetProperty(field, out var flag)) return null;
        if (flag.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            errors[field] = ["Must be true or false."];
            return null;
        }
        if (flag.GetBoolean() == current) return null;
        changed.Add(field);
        return flag.GetBoolean();
    }

    private static string? CheckName(string? name, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Trim().Length > 256)
        {
            errors["name"] = ["Required, at most 256 characters."];
            return null;
        }
        return name.Trim();
    }

    private static Uri? CheckUrl(string? url, Dictionary<string, string[]> errors)
    {
        if (Uri.TryCreate(url?.Trim(), UriKind.Absolute, out var uri) && uri.Scheme is "ws" or "wss" && string.IsNullOrEmpty(uri.UserInfo)) return uri;
        errors["url"] = ["Must be a ws:// or wss:// URL."];
        return null;
    }

    private static string? CheckWorkspaceRoot(string? root, Dictionary<string, string[]> errors)
    {
        var trimmed = root?.Trim();
        if (!string.IsNullOrEmpty(trimmed) && trimmed.Length <= 1024 && (trimmed.StartsWith('/') || trimmed.StartsWith('~'))) return trimmed.TrimEnd('/') is { Length: > 0 } t ? t : "/";
        errors["workspace_root"] = ["Required: an absolute path on the gateway's host (e.g. ~/.openclaw)."];
        return null;
    }
}
