using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using MissionControl.Edge.Auth;
using MissionControl.Edge.Proxy;
using Scalar.AspNetCore;

namespace MissionControl.Edge.OpenApi;

/// <summary>
/// GET /api/openapi.json: the merged document of every service and the edge (public: agents download it
/// before they have anything else), rebuilt at most every 30 s; GET /api/docs: an interactive reference
/// page over it, its scripts served from this edge.
/// </summary>
public static class ApiDocumentEndpoints
{
    public const string DocumentPath = "/api/openapi.json";
    public const string DocsPath = "/api/docs";
    public const string HttpClientName = "openapi";

    public static IServiceCollection AddApiDocument(this IServiceCollection services)
    {
        services.AddSingleton<ApiDocumentCache>();
        services.AddHttpClient(HttpClientName).WithQuickRetries();
        return services;
    }

    public static WebApplication MapApiDocument(this WebApplication app)
    {
        app.MapGet(DocumentPath, async (ApiDocumentCache cache, HttpContext http) =>
        {
            var (json, missing) = await cache.GetAsync(http.RequestAborted);
            if (missing.Count > 0) http.Response.Headers["X-MC-Missing-Services"] = string.Join(",", missing);
            return Results.Text(json, "application/json");
        });
        app.MapScalarApiReference(DocsPath, o => o
            .WithTitle("Mission Control API")
            .WithOpenApiRoutePattern(DocumentPath));
        return app;
    }
}

public sealed class ApiDocumentCache(
    IHttpClientFactory clients, [FromKeyedServices(ServiceApiDescription.DocumentName)] IOpenApiDocumentProvider edgeDocument,
    TimeProvider time, ILogger<ApiDocumentCache> logger)
{
    private static readonly TimeSpan Fresh = TimeSpan.FromSeconds(30);
    private readonly SemaphoreSlim _building = new(1, 1);
    private (string Json, IReadOnlyList<string> Missing, DateTimeOffset BuiltAt)? _current;

    public async Task<(string Json, IReadOnlyList<string> Missing)> GetAsync(CancellationToken ct)
    {
        if (_current is { } c && (c.Missing.Count == 0 ? time.GetUtcNow() - c.BuiltAt < Fresh : time.GetUtcNow() - c.BuiltAt < TimeSpan.FromSeconds(2)))
            return (c.Json, c.Missing);
        await _building.WaitAsync(ct);
        try
        {
            if (_current is { } again && time.GetUtcNow() - again.BuiltAt < TimeSpan.FromSeconds(1)) return (again.Json, again.Missing);
            var (json, missing) = await BuildAsync(ct);
            _current = (json, missing, time.GetUtcNow());
            return (json, missing);
        }
        finally
        {
            _building.Release();
        }
    }

    private async Task<(string Json, IReadOnlyList<string> Missing)> BuildAsync(CancellationToken ct)
    {
        var edge = await edgeDocument.GetOpenApiDocumentAsync(ct);
        var documents = new List<(string, JsonObject)> { (ApiDocumentMerger.EdgeService, (JsonObject)JsonNode.Parse(await edge.SerializeAsJsonAsync(OpenApiSpecVersion.OpenApi3_1, ct))!) };
        var missing = new List<string>();
        var http = clients.CreateClient(ApiDocumentEndpoints.HttpClientName);
        var fetches = ServiceRoutes.Services.Select(async service =>
        {
            try
            {
                var json = await http.GetStringAsync($"http://{service}{ServiceApiDescription.DocumentPath}", ct);
                return (service, JsonNode.Parse(json) as JsonObject);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or InvalidOperationException && !ct.IsCancellationRequested)
            {
                logger.LogWarning("The API document of {Service} could not be read ({Error}); its routes are missing from {Path}", service, e.Message, ApiDocumentEndpoints.DocumentPath);
                return (service, null);
            }
        });
        foreach (var (service, document) in await Task.WhenAll(fetches))
        {
            if (document is null) missing.Add(service);
            else documents.Add((service, document));
        }
        var merged = ApiDocumentMerger.Merge(documents, ServiceRoutes.ServiceFor, (method, path) => PublicRoutes.IsPublicTemplate(method, path) || path.StartsWith(ApiDocumentEndpoints.DocsPath) || path == ApiDocumentEndpoints.DocumentPath);
        if (merged.Dropped.Count > 0)
            logger.LogDebug("Not routed by the edge, left out of the API document: {Dropped}", string.Join(", ", merged.Dropped));
        if (missing.Count > 0) merged.Document["x-missing-services"] = new JsonArray([.. missing.Select(m => (JsonNode)m)]);
        return (merged.Document.ToJsonString(), missing);
    }
}
