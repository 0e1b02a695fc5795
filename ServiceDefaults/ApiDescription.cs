using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Each service describes its public routes (/api/...) as OpenAPI 3.1 at <see cref="DocumentPath"/>; the
/// edge merges them into the one document users and agents read at /api/openapi.json. The path is not
/// routed by the edge: only the edge (and tests) read it.
/// </summary>
public static partial class ServiceApiDescription
{
    public const string DocumentName = "v1";
    public const string DocumentPath = "/openapi/v1.json";

    public static IServiceCollection AddServiceApiDescription(this IServiceCollection services, string applicationName) =>
        services.AddOpenApi(DocumentName, o =>
        {
            o.ShouldInclude = d => d.RelativePath?.StartsWith("api/", StringComparison.Ordinal) == true;
            o.AddDocumentTransformer((document, context, _) =>
            {
                document.Info.Title = applicationName;
                AddUndescribedEndpoints(document, context.ApplicationServices.GetServices<EndpointDataSource>());
                return Task.CompletedTask;
            });
        });

    public static IEndpointConventionBuilder MapServiceApiDescription(this IEndpointRouteBuilder app) =>
        app.MapOpenApi(DocumentPath).AllowAnonymous();

    /// <summary>
    /// Every public route with its methods, as OpenAPI writes them ("/api/v1/boards/{boardId}/tasks"):
    /// what the document must describe. Tests compare the two.
    /// </summary>
    public static IEnumerable<(string Path, string Method)> PublicRoutes(IEnumerable<EndpointDataSource> sources) =>
        from endpoint in sources.SelectMany(s => s.Endpoints).OfType<RouteEndpoint>()
        let path = TemplateOf(endpoint.RoutePattern.RawText)
        where path.StartsWith("/api/", StringComparison.Ordinal)
        from method in endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? []
        select (path, method.ToUpperInvariant());

    /// <summary>"/api/v1/boards/{boardId:guid}/x/{**rest}" → "/api/v1/boards/{boardId}/x/{rest}".</summary>
    public static string TemplateOf(string? raw)
    {
        var path = "/" + (raw ?? "").TrimStart('/');
        return RouteParameter().Replace(path, m => "{" + m.Groups["name"].Value + "}");
    }

    /// <summary>
    /// Handlers written as a RequestDelegate (HttpContext in, Task out: the SSE streams, for one) are
    /// invisible to the API explorer; they are described here from the route table, so the document
    /// lists every route a client can call.
    /// </summary>
    private static void AddUndescribedEndpoints(OpenApiDocument document, IEnumerable<EndpointDataSource> sources)
    {
        document.Paths ??= new OpenApiPaths();
        foreach (var (path, method) in PublicRoutes(sources).Distinct())
        {
            if (!document.Paths.TryGetValue(path, out var item))
                document.Paths[path] = item = new OpenApiPathItem();
            var pathItem = (OpenApiPathItem)item;
            pathItem.Operations ??= [];
            var httpMethod = new HttpMethod(method);
            if (pathItem.Operations.ContainsKey(httpMethod)) continue;
            var isStream = path.EndsWith("/stream", StringComparison.Ordinal) || path == "/api/events";
            pathItem.Operations[httpMethod] = new OpenApiOperation
            {
                Parameters = [.. RouteParameter().Matches(path).Select(m => (IOpenApiParameter)new OpenApiParameter
                {
                    Name = m.Groups["name"].Value, In = ParameterLocation.Path, Required = true,
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String },
                })],
                Responses = new OpenApiResponses
                {
                    ["200"] = new OpenApiResponse
                    {
                        Description = isStream ? "Server-sent events" : "OK",
                        Content = isStream ? new Dictionary<string, OpenApiMediaType> { ["text/event-stream"] = new() } : null,
                    },
                },
            };
        }
    }

    [GeneratedRegex(@"\{\**(?<name>[A-Za-z_][A-Za-z0-9_]*)[^}]*\}")]
    private static partial Regex RouteParameter();
}
