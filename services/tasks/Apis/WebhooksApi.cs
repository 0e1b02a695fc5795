using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using MissionControl.InternalAuth;
using MissionControl.Messaging;
using MissionControl.Tasks.Data;
using MissionControl.Tasks.Operations;

namespace MissionControl.Tasks.Apis;

public sealed record WebhookCreateRequest(string? Description, bool? Enabled, Guid? AgentId, string? Secret, string? SignatureHeader);

public sealed record WebhookRead(
    Guid Id, Guid BoardId, Guid? AgentId, string Description, bool Enabled, bool HasSecret, string? SignatureHeader, string EndpointPath,
    string EndpointUrl, DateTime CreatedAt, DateTime UpdatedAt);

public sealed record WebhookPayloadRead(
    Guid Id, Guid BoardId, Guid WebhookId, JsonElement Payload, JsonElement? Headers, string? SourceIp, string? ContentType, DateTime ReceivedAt);

/// <summary>
/// Inbound board webhooks: /api/v1/boards/{board_id}/webhooks (the public ingest is WebhookIngestApi).
/// The secret is write-only: reads say has_secret.
/// </summary>
public static partial class WebhooksApi
{
    [GeneratedRegex(@"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")]
    private static partial Regex HeaderToken();

    public static IEndpointRouteBuilder MapWebhooksApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/boards/{boardId:guid}/webhooks");
        api.MapGet("", List);
        api.MapPost("", Create);
        api.MapGet("/{webhookId:guid}", Get);
        api.MapPatch("/{webhookId:guid}", Update);
        api.MapDelete("/{webhookId:guid}", Delete);
        api.MapGet("/{webhookId:guid}/payloads", ListPayloads);
        api.MapGet("/{webhookId:guid}/payloads/{payloadId:guid}", GetPayload);
        return app;
    }

    private static async Task<IResult> List(
        Guid boardId, HttpContext http, BoardAccess access, TasksDbContext db, IOptions<TasksOptions> options, int? limit, int? offset, CancellationToken ct)
    {
        if (!PageRequest.TryParse(limit, offset, out var page, out var pageError)) return pageError!;
        var (_, error) = await access.CheckAsync(http, boardId, BoardAccessLevel.Read, ct);
        if (error is not null) return error;
        var query = db.Webhooks.AsNoTracking().Where(w => w.BoardId == boardId);
        var items = await query.OrderByDescending(w => w.CreatedAt).Skip(page.Offset).Take(page.Limit).ToListAsync(ct);
        return Results.Ok(new Page<WebhookRead>(items.ConvertAll(w => Read(w, options.Value)), await query.CountAsync(ct), page.Limit, page.Offset));
    }

    private static async Task<IResult> Get(
        Guid boardId, Guid webhookId, HttpContext http, BoardAccess access, TasksDbContext db, IOptions<TasksOptions> options, CancellationToken ct)
    {
        var (_, error) = await access.CheckAsync(http, boardId, BoardAccessLevel.Read, ct);
        if (error is not null) return error;
        var webhook = await db.Webhooks.AsNoTracking().FirstOrDefaultAsync(w => w.Id == webhookId && w.BoardId == boardId, ct);
        return webhook is null ? ApiProblems.NotFound("Webhook not found.") : Results.Ok(Read(webhook, options.Value));
    }

    private static async Task<IResult> Create(
        Guid boardId, WebhookCreateRequest body, HttpContext http, BoardAccess access, TasksDbContext db, CopyCache copies, WebhookSecrets secrets,
        IOptions<TasksOptions> options, TimeProvider time, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        CheckDescription(body.Description, errors);
        CheckSignature(body.Secret, body.SignatureHeader, errors);
        if (errors.Count > 0) return ApiProblems.Validation(errors);
        var (board, error) = await access.CheckAsync(http, boardId, BoardAccessLevel.Write, ct);
        if (error is not null) return error;
        if (await AgentError(copies, boardId, body.AgentId, ct) is { } agentError) return agentError;

        var now = time.GetUtcNow().UtcDateTime;
        var webhook = new BoardWebhook
        {
            Id = Guid.CreateVersion7(), OrganizationId = board!.OrganizationId, BoardId = boardId, AgentId = body.AgentId,
            Description = body.Description!.Trim(), Enabled = body.Enabled ?? true,
            ProtectedSecret = string.IsNullOrWhiteSpace(body.Secret) ? null : secrets.Protect(body.Secret),
            SignatureHeader = string.IsNullOrWhiteSpace(body.SignatureHeader) ? null : body.SignatureHeader.Trim(), CreatedAt = now, UpdatedAt = now,
        };
        db.Webhooks.Add(webhook);
        await db.SaveChangesAsync(ct);
        var read = Read(webhook, options.Value);
        return Results.Created(read.EndpointPath, read);
    }

    /// <summary>Only present fields change; a null or blank secret removes it.</summary>
    private static async Task<IResult> Update(
        Guid boardId, Guid webhookId, HttpContext http, BoardAccess access, TasksDbContext db, CopyCache copies, WebhookSecrets secrets,
        IOptions<TasksOptions> options, TimeProvider time, CancellationToken ct)
    {
        var body = await JsonBody.ReadAsync(http.Request, ct);
        var (description, enabled, agentId) = (body.Get<string>("description"), body.Get<bool?>("enabled"), body.Get<Guid?>("agent_id"));
        var (secret, header) = (body.Get<string>("secret"), body.Get<string>("signature_header"));
        var errors = body.Errors;
        if (body.Has("description")) CheckDescription(description, errors);
        if (body.Has("enabled") && enabled is null) errors["enabled"] = ["must be true or false"];
        CheckSignature(secret, header, errors);
        if (errors.Count > 0) return ApiProblems.Validation(errors);
        var (_, error) = await access.CheckAsync(http, boardId, BoardAccessLevel.Write, ct);
        if (error is not null) return error;
        var webhook = await db.Webhooks.FirstOrDefaultAsync(w => w.Id == webhookId && w.BoardId == boardId, ct);
        if (webhook is null) return ApiProblems.NotFound("Webhook not found.");
        if (body.Has("agent_id") && await AgentError(copies, boardId, agentId, ct) is { } agentError) return agentError;

        if (body.Has("description")) webhook.Description = description!.Trim();
        if (body.Has("enabled")) webhook.Enabled = enabled!.Value;
        if (body.Has("agent_id")) webhook.AgentId = agentId;
        if (body.Has("secret")) webhook.ProtectedSecret = string.IsNullOrWhiteSpace(secret) ? null : secrets.Protect(secret);
        if (body.Has("signature_header")) webhook.SignatureHeader = string.IsNullOrWhiteSpace(header) ? null : header.Trim();
        webhook.UpdatedAt = time.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(ct);
        return Results.Ok(Read(webhook, options.Value));
    }

    private static async Task<IResult> Delete(
        Guid boardId, Guid webhookId, HttpContext http, BoardAccess access, TasksDbContext db, DatabaseWriteGate gate, CancellationToken ct)
    {
        var (_, error) = await access.CheckAsync(http, boardId, BoardAccessLevel.Write, ct);
        if (error is not null) return error;
        await using var unit = await WriteUnit.BeginAsync(db, gate, ct);
        var webhook = await db.Webhooks.FirstOrDefaultAsync(w => w.Id == webhookId && w.BoardId == boardId, ct);
        if (webhook is null) return ApiProblems.NotFound("Webhook not found.");
        await db.WebhookPayloads.Where(p => p.WebhookId == webhookId).ExecuteDeleteAsync(ct);
        db.Webhooks.Remove(webhook);
        await unit.CommitAsync(ct);
        return Results.Ok(new { ok = true });
    }

    private static async Task<IResult> ListPayloads(
        Guid boardId, Guid webhookId, HttpContext http, BoardAccess access, TasksDbContext db, int? limit, int? offset, CancellationToken ct)
    {
        if (!PageRequest.TryParse(limit, offset, out var page, out var pageError)) return pageError!;
        var (_, error) = await access.CheckAsync(http, boardId, BoardAccessLevel.Read, ct);
        if (error is not null) return error;
        if (!await db.Webhooks.AnyAsync(w => w.Id == webhookId && w.BoardId == boardId, ct)) return ApiProblems.NotFound("Webhook not found.");
        var query = db.WebhookPayloads.AsNoTracking().Where(p => p.WebhookId == webhookId);
        var items = await query.OrderByDescending(p => p.ReceivedAt).Skip(page.Offset).Take(page.Limit).ToListAsync(ct);
        return Results.Ok(new Page<WebhookPayloadRead>(items.ConvertAll(p => PayloadRead(p, null)), await query.CountAsync(ct), page.Limit, page.Offset));
    }

    /// <summary>One payload; max_chars (agents) cuts a long payload down to a string preview ending in "...".</summary>
    internal static async Task<IResult> GetPayload(
        Guid boardId, Guid webhookId, Guid payloadId, HttpContext http, BoardAccess access, TasksDbContext db,
        [FromQuery(Name = "max_chars")] int? maxChars, CancellationToken ct)
    {
        if (maxChars is < 1 or > 1_000_000) return ApiProblems.Validation("max_chars", "must be between 1 and 1000000");
        var (_, error) = await access.CheckAsync(http, boardId, BoardAccessLevel.Read, ct);
        if (error is not null) return error;
        var payload = await db.WebhookPayloads.AsNoTracking()
            .FirstOrDefaultAsync(p => p.Id == payloadId && p.WebhookId == webhookId && p.BoardId == boardId, ct);
        return payload is null ? ApiProblems.NotFound("Webhook payload not found.") : Results.Ok(PayloadRead(payload, maxChars));
    }

    private static void CheckDescription(string? description, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(description) || description.Trim().Length > 2000) errors["description"] = ["must be 1 to 2000 characters"];
    }

    private static void CheckSignature(string? secret, string? header, Dictionary<string, string[]> errors)
    {
        if (secret is { Length: > 500 }) errors["secret"] = ["must be at most 500 characters"];
        if (!string.IsNullOrWhiteSpace(header) && (header.Trim().Length > 200 || !HeaderToken().IsMatch(header.Trim())))
            errors["signature_header"] = ["must be an HTTP header name"];
    }

    private static async Task<IResult?> AgentError(CopyCache copies, Guid boardId, Guid? agentId, CancellationToken ct) =>
        agentId is { } id && (await copies.AgentsOfBoardAsync(boardId, ct)).All(a => a.Id != id)
            ? ApiProblems.Unprocessable("The webhook's agent must be an agent of this board.", "agent_not_on_board")
            : null;

    internal static WebhookRead Read(BoardWebhook w, TasksOptions options)
    {
        var path = $"/api/v1/boards/{w.BoardId}/webhooks/{w.Id}";
        return new WebhookRead(w.Id, w.BoardId, w.AgentId, w.Description, w.Enabled, w.ProtectedSecret is not null, w.SignatureHeader, path,
            options.PublicBaseUrl.TrimEnd('/') + path, w.CreatedAt, w.UpdatedAt);
    }

    private static WebhookPayloadRead PayloadRead(BoardWebhookPayload p, int? maxChars)
    {
        var payload = Json.Parse(p.Payload);
        if (maxChars is { } max)
        {
            var text = payload.ValueKind == JsonValueKind.String ? payload.GetString()! : p.Payload;
            if (text.Length > max) payload = JsonSerializer.SerializeToElement(text[..max] + "...");
        }
        return new WebhookPayloadRead(p.Id, p.BoardId, p.WebhookId, payload, p.Headers is null ? null : Json.Parse(p.Headers), p.SourceIp, p.ContentType,
            p.ReceivedAt);
    }
}
