using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using MissionControl.InternalAuth;
using MissionControl.Messaging;
using MissionControl.Metrics.Data;
using MissionControl.Metrics.EventLog;
using MissionControl.Outbound;

namespace MissionControl.Metrics.Webhooks;

public sealed record WebhookRead(
    Guid Id, Guid OrganizationId, string Url, IReadOnlyList<string> Events, string? Description, bool Enabled, string? DisabledReason,
    int ConsecutiveFailures, long Cursor, DateTime CreatedAt, DateTime UpdatedAt);

/// <summary>The answer to POST: the only time the secret is shown.</summary>
public sealed record WebhookCreatedRead(
    Guid Id, Guid OrganizationId, string Url, IReadOnlyList<string> Events, string? Description, bool Enabled, string? DisabledReason,
    int ConsecutiveFailures, long Cursor, DateTime CreatedAt, DateTime UpdatedAt, string Secret);

public sealed record WebhookAttemptRead(int Attempt, int? StatusCode, long LatencyMs, string? Error, DateTime AttemptedAt);

public sealed record WebhookDeliveryRead(
    Guid Id, Guid WebhookId, Guid EventId, string EventType, long? Seq, string Kind, string Status, int AttemptCount,
    IReadOnlyList<WebhookAttemptRead> Attempts, DateTime? NextRetryAt, Guid? RedeliveryOf, DateTime CreatedAt, DateTime? CompletedAt);

/// <summary>
/// Outbound webhooks of the caller's organization, /api/v1/webhooks: organization admins only. The
/// secret (32 random bytes, hex) is shown once, in the answer to POST.
/// </summary>
public static class WebhooksApi
{
    public const string UrlNotAllowed = "webhook_url_not_allowed";
    private const int MaxPatterns = 50;

    public static IServiceCollection AddWebhooks(this IServiceCollection services)
    {
        services.AddSingleton(sp => WebhookOptions.From(sp.GetRequiredService<IConfiguration>()));
        services.AddSingleton(sp => new AddressGuard(sp.GetRequiredService<WebhookOptions>().AllowedHosts));
        services.AddSingleton<IWebhookHostResolver, DnsWebhookHostResolver>();
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<WebhookSender>(sp, sp.GetRequiredService<WebhookOptions>().Http));
        services.AddSingleton<WebhookSecrets>();
        services.AddSingleton<WebhookDispatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<WebhookDispatcher>());
        services.AddScoped<ILogProjection, WebhookCleanup>();
        return services;
    }

    public static IEndpointRouteBuilder MapWebhooksApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/webhooks");
        api.MapGet("", List);
        api.MapPost("", Create);
        api.MapGet("/{webhookId:guid}", Get);
        api.MapPatch("/{webhookId:guid}", Update);
        api.MapDelete("/{webhookId:guid}", Delete);
        api.MapGet("/{webhookId:guid}/deliveries", ListDeliveries);
        api.MapGet("/{webhookId:guid}/deliveries/{deliveryId:guid}", GetDelivery);
        api.MapPost("/{webhookId:guid}/deliveries/{deliveryId:guid}/redeliver", Redeliver);
        api.MapPost("/{webhookId:guid}/test", SendTest);
        return app;
    }

    /// <summary>The caller's organization when the caller is one of its admins (owner/admin), else the 403 answer.</summary>
    private static (Guid Org, IResult? Error) Admin(HttpContext http)
    {
        var principal = http.GetPrincipal();
        return principal.IsOrgAdmin && principal.OrganizationId is { } org
            ? (org, null)
            : (Guid.Empty, ApiProblems.Forbidden("Only organization owners and admins manage webhooks.", "admin_required"));
    }

    private static async Task<IResult> List(HttpContext http, MetricsDbContext db, int? limit, int? offset, CancellationToken ct)
    {
        var (org, error) = Admin(http);
        if (error is not null) return error;
        if (!PageRequest.TryParse(limit, offset, out var page, out var pageError)) return pageError!;
        var query = db.WebhookSubscriptions.AsNoTracking().Where(w => w.OrganizationId == org);
        var items = await query.OrderByDescending(w => w.CreatedAt).ThenByDescending(w => w.Id).Skip(page.Offset).Take(page.Limit).ToListAsync(ct);
        return Results.Ok(new Page<WebhookRead>(items.ConvertAll(Read), await query.CountAsync(ct), page.Limit, page.Offset));
    }

    private static async Task<IResult> Get(Guid webhookId, HttpContext http, MetricsDbContext db, CancellationToken ct)
    {
        var (org, error) = Admin(http);
        if (error is not null) return error;
        var webhook = await db.WebhookSubscriptions.AsNoTracking().FirstOrDefaultAsync(w => w.Id == webhookId && w.OrganizationId == org, ct);
        return webhook is null ? NotFound() : Results.Ok(Read(webhook));
    }

    private static async Task<IResult> Create(
        HttpContext http, MetricsDbContext db, DatabaseWriteGate gate, AddressGuard guard, WebhookSecrets secrets, WebhookDispatcher dispatcher, TimeProvider clock,
        CancellationToken ct)
    {
        var (org, error) = Admin(http);
        if (error is not null) return error;
        var body = await JsonRequests.ReadObjectAsync(http.Request, ct);
        var errors = new Dictionary<string, string[]>();
        var url = ReadUrl(body, errors, required: true);
        var events = ReadEvents(body, errors, required: true);
        var description = ReadDescription(body, errors);
        var enabled = ReadEnabled(body, errors);
        if (errors.Count > 0) return ApiProblems.Validation(errors);
        if (UrlRefused(guard, url!) is { } refused) return refused;

        var secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        var now = clock.GetUtcNow().UtcDateTime;
        var principal = http.GetPrincipal();
        var webhook = new WebhookSubscription
        {
            Id = Guid.CreateVersion7(), OrganizationId = org, Url = url!, Events = WebhookEvents.Join(events!), Description = description,
            Enabled = enabled ?? true, ProtectedSecret = secrets.Protect(secret),
            // Future events only: it starts at the log's head.
            Cursor = await EventLogApi.HeadAsync(db, ct),
            CreatedBy = Guid.TryParse(principal.Subject, out var user) ? user : null, CreatedAt = now, UpdatedAt = now,
        };
        db.WebhookSubscriptions.Add(webhook);
        using (await gate.EnterAsync(ct)) await db.SaveChangesAsync(ct);
        dispatcher.Wake(); // it looks for subscriptions again: none may have existed until now
        var r = Read(webhook);
        return Results.Created($"/api/v1/webhooks/{webhook.Id}", new WebhookCreatedRead(
            r.Id, r.OrganizationId, r.Url, r.Events, r.Description, r.Enabled, r.DisabledReason, r.ConsecutiveFailures, r.Cursor, r.CreatedAt, r.UpdatedAt,
            secret));
    }

    /// <summary>Only present fields change. enabled=true on a webhook whose circuit opened closes it: delivery resumes with the held event.</summary>
    private static async Task<IResult> Update(
        Guid webhookId, HttpContext http, MetricsDbContext db, DatabaseWriteGate gate, AddressGuard guard, WebhookDispatcher dispatcher,
        TimeProvider clock, CancellationToken ct)
    {
        var (org, error) = Admin(http);
        if (error is not null) return error;
        var body = await JsonRequests.ReadObjectAsync(http.Request, ct);
        var errors = new Dictionary<string, string[]>();
        var url = body.ContainsKey("url") ? ReadUrl(body, errors, required: true) : null;
        var events = body.ContainsKey("events") ? ReadEvents(body, errors, required: true) : null;
        var description = ReadDescription(body, errors);
        var enabled = ReadEnabled(body, errors);
        if (body.ContainsKey("enabled") && enabled is null && !errors.ContainsKey("enabled")) errors["enabled"] = ["must be true or false"];
        if (errors.Count > 0) return ApiProblems.Validation(errors);
        if (url is not null && UrlRefused(guard, url) is { } refused) return refused;

        var webhook = await db.WebhookSubscriptions.FirstOrDefaultAsync(w => w.Id == webhookId && w.OrganizationId == org, ct);
        if (webhook is null) return NotFound();
        if (url is not null) webhook.Url = url;
        if (events is not null) webhook.Events = WebhookEvents.Join(events);
        if (body.ContainsKey("description")) webhook.Description = description;
        if (enabled is { } on)
        {
            if (on && !webhook.Enabled)
            {
                webhook.DisabledReason = null;
                webhook.ConsecutiveFailures = 0;
            }
            webhook.Enabled = on;
        }
        webhook.UpdatedAt = clock.GetUtcNow().UtcDateTime;
        using (await gate.EnterAsync(ct)) await db.SaveChangesAsync(ct);
        dispatcher.Wake();
        return Results.Ok(Read(webhook));
    }

    private static async Task<IResult> Delete(Guid webhookId, HttpContext http, MetricsDbContext db, DatabaseWriteGate gate, CancellationToken ct)
    {
        var (org, error) = Admin(http);
        if (error is not null) return error;
        await using var unit = await WriteUnit.BeginAsync(db, gate, ct);
        var webhook = await db.WebhookSubscriptions.FirstOrDefaultAsync(w => w.Id == webhookId && w.OrganizationId == org, ct);
        if (webhook is null) return NotFound();
        var deliveries = db.WebhookDeliveries.Where(d => d.SubscriptionId == webhookId);
        await deliveries.DeleteWithAttemptsAsync(db, ct);
        db.WebhookSubscriptions.Remove(webhook);
        await unit.CommitAsync(ct);
        return Results.NoContent();
    }

    private static async Task<IResult> ListDeliveries(Guid webhookId, HttpContext http, MetricsDbContext db, int? limit, int? offset, CancellationToken ct)
    {
        var (org, error) = Admin(http);
        if (error is not null) return error;
        if (!PageRequest.TryParse(limit, offset, out var page, out var pageError)) return pageError!;
        if (!await db.WebhookSubscriptions.AnyAsync(w => w.Id == webhookId && w.OrganizationId == org, ct)) return NotFound();
        var query = db.WebhookDeliveries.AsNoTracking().Where(d => d.SubscriptionId == webhookId);
        var items = await query.Include(d => d.Attempts).OrderByDescending(d => d.CreatedAt).ThenByDescending(d => d.Id)
            .Skip(page.Offset).Take(page.Limit).ToListAsync(ct);
        return Results.Ok(new Page<WebhookDeliveryRead>(items.ConvertAll(ReadDelivery), await query.CountAsync(ct), page.Limit, page.Offset));
    }

    private static async Task<IResult> GetDelivery(Guid webhookId, Guid deliveryId, HttpContext http, MetricsDbContext db, CancellationToken ct)
    {
        var (org, error) = Admin(http);
        if (error is not null) return error;
        var delivery = await db.WebhookDeliveries.AsNoTracking().Include(d => d.Attempts)
            .FirstOrDefaultAsync(d => d.Id == deliveryId && d.SubscriptionId == webhookId && d.OrganizationId == org, ct);
        return delivery is null ? ApiProblems.NotFound("Delivery not found.") : Results.Ok(ReadDelivery(delivery));
    }

    /// <summary>A new delivery of the same event (same body and event id), attempted once, now, beside the ordered stream.</summary>
    private static async Task<IResult> Redeliver(
        Guid webhookId, Guid deliveryId, HttpContext http, MetricsDbContext db, DatabaseWriteGate gate, WebhookDispatcher dispatcher, TimeProvider clock,
        CancellationToken ct)
    {
        var (org, error) = Admin(http);
        if (error is not null) return error;
        var webhook = await db.WebhookSubscriptions.AsNoTracking().FirstOrDefaultAsync(w => w.Id == webhookId && w.OrganizationId == org, ct);
        if (webhook is null) return NotFound();
        var original = await db.WebhookDeliveries.AsNoTracking().FirstOrDefaultAsync(d => d.Id == deliveryId && d.SubscriptionId == webhookId, ct);
        if (original is null) return ApiProblems.NotFound("Delivery not found.");
        var delivery = WebhookDispatcher.NewDelivery(webhook, WebhookDeliveryKinds.Redelivery, original.EventId, original.EventType, original.Seq,
            original.Body, clock.GetUtcNow().UtcDateTime);
        delivery.RedeliveryOf = original.Id;
        db.WebhookDeliveries.Add(delivery);
        using (await gate.EnterAsync(ct)) await db.SaveChangesAsync(ct);
        dispatcher.Wake();
        return Results.Accepted($"/api/v1/webhooks/{webhookId}/deliveries/{delivery.Id}", ReadDelivery(delivery));
    }

    /// <summary>Sends a webhook.test event now and answers with the delivery and its outcome (never retried).</summary>
    private static async Task<IResult> SendTest(
        Guid webhookId, HttpContext http, MetricsDbContext db, DatabaseWriteGate gate, WebhookDispatcher dispatcher, TimeProvider clock, CancellationToken ct)
    {
        var (org, error) = Admin(http);
        if (error is not null) return error;
        var webhook = await db.WebhookSubscriptions.AsNoTracking().FirstOrDefaultAsync(w => w.Id == webhookId && w.OrganizationId == org, ct);
        if (webhook is null) return NotFound();
        var now = clock.GetUtcNow().UtcDateTime;
        var eventId = Guid.CreateVersion7();
        var data = JsonSerializer.SerializeToElement(new
        {
            webhook_id = webhook.Id, organization_id = org, message = "This is a test event from Mission Control.",
        });
        var delivery = WebhookDispatcher.NewDelivery(webhook, WebhookDeliveryKinds.Test, eventId, "webhook.test", null,
            WebhookDispatcher.Body(eventId, "webhook.test", now, data), now);
        db.WebhookDeliveries.Add(delivery);
        using (await gate.EnterAsync(ct)) await db.SaveChangesAsync(ct);
        await dispatcher.AttemptOnceAsync(db, webhook, delivery, ct);
        return Results.Ok(ReadDelivery(delivery));
    }

    private static IResult NotFound() => ApiProblems.NotFound("Webhook not found.");

    private static IResult? UrlRefused(AddressGuard guard, string url) =>
        guard.CheckUrl(new Uri(url)) is { } reason
            ? ApiProblems.Unprocessable($"The webhook URL is not allowed: {reason}. Webhooks:AllowedHosts can permit it.", UrlNotAllowed,
                new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { ["url"] = [reason] } })
            : null;

    private static string? ReadUrl(JsonObject body, Dictionary<string, string[]> errors, bool required)
    {
        var value = body["url"] is JsonValue v && v.TryGetValue<string>(out var s) ? s.Trim() : null;
        if (value is null)
        {
            if (required || body.ContainsKey("url")) errors["url"] = ["is required and must be a string"];
            return null;
        }
        if (value.Length > 2048 || !Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0)
        {
            errors["url"] = ["must be an absolute http or https URL of at most 2048 characters"];
            return null;
        }
        if (uri.UserInfo.Length > 0)
        {
            errors["url"] = ["must not contain credentials"];
            return null;
        }
        return value;
    }

    private static List<string>? ReadEvents(JsonObject body, Dictionary<string, string[]> errors, bool required)
    {
        if (body["events"] is not JsonArray array || array.Count == 0)
        {
            if (required) errors["events"] = ["must be a non-empty array of event types or patterns (\"*\", \"task.*\", \"approval.resolved\")"];
            return null;
        }
        var patterns = new List<string>();
        foreach (var item in array)
        {
            var pattern = item is JsonValue v && v.TryGetValue<string>(out var s) ? s.Trim() : null;
            if (pattern is null || !WebhookEvents.IsValidPattern(pattern))
            {
                errors["events"] = [$"each must be \"*\", an event type or a prefix ending in \".*\" (got {item?.ToJsonString() ?? "null"})"];
                return null;
            }
            if (!patterns.Contains(pattern)) patterns.Add(pattern);
        }
        if (patterns.Count > MaxPatterns) errors["events"] = [$"at most {MaxPatterns} patterns"];
        return patterns;
    }

    private static string? ReadDescription(JsonObject body, Dictionary<string, string[]> errors)
    {
        if (!body.TryGetPropertyValue("description", out var node) || node is null) return null;
        if (node is not JsonValue v || !v.TryGetValue<string>(out var s) || s.Trim().Length > 2000)
        {
            errors["description"] = ["must be a string of at most 2000 characters"];
            return null;
        }
        return s.Trim().Length == 0 ? null : s.Trim();
    }

    private static bool? ReadEnabled(JsonObject body, Dictionary<string, string[]> errors)
    {
        if (!body.TryGetPropertyValue("enabled", out var node) || node is null) return null;
        if (node is JsonValue v && v.TryGetValue<bool>(out var b)) return b;
        errors["enabled"] = ["must be true or false"];
        return null;
    }

    public static WebhookRead Read(WebhookSubscription w) => new(
        w.Id, w.OrganizationId, w.Url, w.Patterns, w.Description, w.Enabled, w.DisabledReason, w.ConsecutiveFailures, w.Cursor, w.CreatedAt, w.UpdatedAt);

    public static WebhookDeliveryRead ReadDelivery(WebhookDelivery d) => new(
        d.Id, d.SubscriptionId, d.EventId, d.EventType, d.Seq, d.Kind, d.Status, d.AttemptCount,
        d.Attempts.OrderBy(a => a.Number).Select(a => new WebhookAttemptRead(a.Number, a.StatusCode, a.LatencyMs, a.Error, a.AttemptedAt)).ToList(),
        d.NextRetryAt, d.RedeliveryOf, d.CreatedAt, d.CompletedAt);
}
