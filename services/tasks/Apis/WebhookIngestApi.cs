using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using MissionControl.InternalAuth;
using MissionControl.Messaging;
using MissionControl.Tasks.Data;
using MissionControl.Tasks.Domain;
using MissionControl.Tasks.Operations;

namespace MissionControl.Tasks.Apis;

/// <summary>
/// POST /api/v1/boards/{board_id}/webhooks/{webhook_id}: the public ingest (the edge forwards it with an
/// anonymous principal). Checks, in order: unknown (404), disabled (410), larger than 1 MiB (413,
/// counted while streaming), signature when the webhook has a secret (403). Stores the payload and a
/// non-chat board memory entry, and tells the webhook's agent (or the lead) about it, fenced as
/// external data.
/// </summary>
public static class WebhookIngestApi
{
    public const int MaxPayloadBytes = 1024 * 1024;
    private const int PreviewChars = 1600;

    private static readonly HashSet<string> DroppedHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "authorization", "cookie", "x-agent-token", "x-api-key", "x-hub-signature", WebhookSignatures.GitHubHeader, WebhookSignatures.GenericHeader,
    };

    public static IEndpointRouteBuilder MapWebhookIngestApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/boards/{boardId:guid}/webhooks/{webhookId:guid}", Ingest).AllowAnonymousPrincipal();
        return app;
    }

    private static async Task<IResult> Ingest(
        Guid boardId, Guid webhookId, HttpContext http, TasksDbContext db, DatabaseWriteGate gate, WebhookSecrets secrets, MemoryWriter memory,
        CopyCache copies, TimeProvider time, CancellationToken ct)
    {
        var webhook = await db.Webhooks.AsNoTracking().FirstOrDefaultAsync(w => w.Id == webhookId && w.BoardId == boardId, ct);
        var board = webhook is null ? null : await db.Boards.AsNoTracking().FirstOrDefaultAsync(b => b.Id == boardId, ct);
        if (webhook is null || board is null) return ApiProblems.NotFound("Webhook not found.");
        if (!webhook.Enabled) return ApiProblems.Status(StatusCodes.Status410Gone, "This webhook is disabled.", "webhook_disabled");

        var body = await ReadLimitedAsync(http.Request, ct);
        if (body is null)
            return ApiProblems.Status(StatusCodes.Status413PayloadTooLarge, $"The payload is larger than {MaxPayloadBytes} bytes.", "payload_too_large");
        if (webhook.ProtectedSecret is not null && !WebhookSignatures.IsValid(secrets.Unprotect(webhook.ProtectedSecret), body, Signature(http.Request, webhook)))
            return ApiProblems.Forbidden("Missing or invalid webhook signature.", "invalid_signature");

        var now = time.GetUtcNow().UtcDateTime;
        var contentType = http.Request.ContentType;
        var payload = new BoardWebhookPayload
        {
            Id = Guid.CreateVersion7(), OrganizationId = board.OrganizationId, BoardId = boardId, WebhookId = webhookId,
            Payload = PayloadJson(body, contentType), Headers = Json.Text(KeptHeaders(http.Request, webhook)), SourceIp = SourceIp(http),
            ContentType = contentType, ReceivedAt = now,
        };
        var preview = Notices.Snippet(Encoding.UTF8.GetString(body), PreviewChars);
        await using (var unit = await WriteUnit.BeginAsync(db, gate, ct))
        {
            db.WebhookPayloads.Add(payload);
            memory.StageBoardMemory(board, http.GetPrincipal(), "webhook",
                $"WEBHOOK PAYLOAD RECEIVED\nWebhook ID: {webhookId}\nPayload ID: {payload.Id}\nInstruction: {webhook.Description}\n\n" +
                $"Inspect: GET /api/v1/agent/boards/{boardId}/webhooks/{webhookId}/payloads/{payload.Id}\n\nPayload preview:\n{preview}",
                ["webhook", $"webhook:{webhookId}", $"payload:{payload.Id}"], "webhook", now);
            var agents = await copies.AgentsOfBoardAsync(boardId, ct);
            var target = agents.FirstOrDefault(a => a.Id == webhook.AgentId) ?? agents.FirstOrDefault(a => a.IsBoardLead);
            if (target is not null)
                Events.NotifyAgent(db, board, target.Id, Notices.WebhookNotified,
                    Notices.WebhookReceived(board.Name, boardId, webhookId, payload.Id, webhook.Description, preview), null, now);
            await unit.CommitAsync(ct);
        }
        return Results.Json(new { ok = true, board_id = boardId, webhook_id = webhookId, payload_id = payload.Id }, statusCode: StatusCodes.Status202Accepted);
    }

    /// <summary>The raw body, or null once it passes the limit (the declared length is checked before reading).</summary>
    private static async Task<byte[]?> ReadLimitedAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength > MaxPayloadBytes) return null;
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > MaxPayloadBytes) return null;
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    /// <summary>The configured header, else X-Hub-Signature-256, else X-Webhook-Signature.</summary>
    private static string? Signature(HttpRequest request, BoardWebhook webhook)
    {
        foreach (var name in new[] { webhook.SignatureHeader, WebhookSignatures.GitHubHeader, WebhookSignatures.GenericHeader })
            if (name is not null && request.Headers.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value)) return value.ToString();
        return null;
    }

    /// <summary>JSON when the body is JSON (by content type or by look), an empty body is {}, anything else a JSON string.</summary>
    private static string PayloadJson(byte[] body, string? contentType)
    {
        if (body.Length == 0) return "{}";
        var text = Encoding.UTF8.GetString(body);
        var looksJson = contentType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true || text.TrimStart() is ['{', ..] or ['[', ..];
        if (looksJson)
        {
            try
            {
                using var doc = JsonDocument.Parse(body);
                return doc.RootElement.GetRawText();
            }
            catch (JsonException)
            {
                // Not JSON after all: kept as text.
            }
        }
        return JsonSerializer.Serialize(text);
    }

    /// <summary>content-type, user-agent and x-* headers, minus signatures and credentials.</summary>
    private static Dictionary<string, string> KeptHeaders(HttpRequest request, BoardWebhook webhook) =>
        request.Headers
            .Where(h => (h.Key.Equals("content-type", StringComparison.OrdinalIgnoreCase) || h.Key.Equals("user-agent", StringComparison.OrdinalIgnoreCase)
                         || h.Key.StartsWith("x-", StringComparison.OrdinalIgnoreCase))
                        && !DroppedHeaders.Contains(h.Key) && !string.Equals(h.Key, webhook.SignatureHeader, StringComparison.OrdinalIgnoreCase))
            .ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString());

    private static string? SourceIp(HttpContext http)
    {
        var forwarded = http.Request.Headers["X-Forwarded-For"].ToString();
        return forwarded.Length > 0 ? forwarded.Split(',')[0].Trim() : http.Connection.RemoteIpAddress?.ToString();
    }
}
