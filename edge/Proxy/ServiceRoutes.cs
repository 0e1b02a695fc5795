using MissionControl.Edge.Auth;
using MissionControl.InternalAuth;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Transforms;

namespace MissionControl.Edge.Proxy;

/// <summary>
/// Which service answers which public path. Destinations come from service discovery configuration
/// (services__&lt;name&gt;__http__0..n, Aspire's convention; several are balanced, see InstanceFailover).
/// /internal/* is never routed.
/// </summary>
public static class ServiceRoutes
{
    public static readonly string[] Services = ["orgs", "tasks", "agents", "gateway-bridge", "metrics"];

    // Lower Order wins; within an order the more specific template wins (so the edge's own
    // .../stream endpoints beat the catch-alls). Board data that is work (tasks, comments,
    // approvals, memory, onboarding, inbound webhooks, snapshots) lives in tasks; the boards
    // themselves, groups, people, tags and custom fields in orgs.
    private static readonly (string Service, string Path, int Order)[] Table =
    [
        ("tasks", "/api/v1/boards/{boardId}/tasks/{**rest}", 0),
        ("tasks", "/api/v1/boards/{boardId}/memory/{**rest}", 0),
        ("tasks", "/api/v1/boards/{boardId}/group-memory/{**rest}", 0),
        ("tasks", "/api/v1/boards/{boardId}/approvals/{**rest}", 0),
        ("tasks", "/api/v1/boards/{boardId}/onboarding/{**rest}", 0),
        ("tasks", "/api/v1/boards/{boardId}/webhooks/{**rest}", 0),
        ("tasks", "/api/v1/boards/{boardId}/snapshot", 0),
        ("tasks", "/api/v1/boards/{boardId}/group-snapshot", 0),
        ("tasks", "/api/v1/board-groups/{groupId}/memory/{**rest}", 0),
        ("tasks", "/api/v1/board-groups/{groupId}/snapshot", 0),
        ("agents", "/api/v1/agent/boards/{boardId}/agents/{**rest}", 0),
        ("agents", "/api/v1/gateways/{gatewayId}/templates/sync", 0),
        ("agents", "/api/v1/agent/boards/{boardId}/gateway/{**rest}", 0),
        ("orgs", "/api/v1/agent/boards/{boardId}", 0), // a catch-all also matches its empty tail: keep the board itself in orgs
        ("tasks", "/api/v1/agent/boards/{boardId}/{**rest}", 5),
        ("orgs", "/api/v1/agent/boards/{**rest}", 10),
        ("orgs", "/api/v1/boards/{**rest}", 10),
        ("orgs", "/api/v1/board-groups/{**rest}", 10),
        ("orgs", "/api/v1/organizations/{**rest}", 10),
        ("orgs", "/api/v1/users/{**rest}", 10),
        ("orgs", "/api/v1/auth/{**rest}", 10),
        ("orgs", "/api/v1/tags/{**rest}", 10),
        ("agents", "/api/v1/agents/{**rest}", 10),
        ("agents", "/api/v1/agent/{**rest}", 20),
        ("gateway-bridge", "/api/v1/gateways/{**rest}", 10),
        ("metrics", "/api/v1/metrics/{**rest}", 10),
        ("metrics", "/api/v1/activity/{**rest}", 10),
        ("metrics", "/api/v1/events", 10),
        ("metrics", "/api/v1/tokens/{**rest}", 10),
        ("metrics", "/api/v1/webhooks/{**rest}", 10),
        // The seed 000/001 dialect (camelCase, builderz's names); /api/events stays the edge's own stream.
        ("tasks", "/api/tasks", 10),
        ("tasks", "/api/tasks/{**rest}", 10),
        ("agents", "/api/agents", 10),
        ("agents", "/api/agents/{**rest}", 10),
        // Seed 002 (/api/mission-control, camelCase): all in tasks but /activity/stream, the edge's own (more specific, it wins).
        ("tasks", "/api/mission-control/{**rest}", 10),
    ];

    /// <summary>
    /// The service the edge forwards a path template ("/api/v1/boards/{boardId}/tasks") to, or null: the
    /// matching route with the lowest Order, then the most specific (literal beats parameter beats
    /// catch-all, segment by segment), as ASP.NET routing picks. The API document is built with it.
    /// </summary>
    public static string? ServiceFor(string path)
    {
        var segments = path.Trim('/').Split('/');
        return Table
            .Select(r => (r.Service, r.Order, Kinds: Match(r.Path.Trim('/').Split('/'), segments)))
            .Where(m => m.Kinds is not null)
            .OrderBy(m => m.Order)
            .ThenBy(m => m.Kinds!, Comparer<int[]>.Create((a, b) =>
            {
                for (var i = 0; i < Math.Max(a.Length, b.Length); i++)
                {
                    var (x, y) = (i < a.Length ? a[i] : 3, i < b.Length ? b[i] : 3);
                    if (x != y) return x.CompareTo(y);
                }
                return 0;
            }))
            .Select(m => m.Service)
            .FirstOrDefault();
    }

    /// <summary>Per route segment: 0 literal, 1 parameter, 2 catch-all; null when the route does not match.</summary>
    private static int[]? Match(string[] route, string[] path)
    {
        var kinds = new List<int>();
        for (var i = 0; i < route.Length; i++)
        {
            if (route[i].StartsWith("{**")) return [.. kinds, 2];
            if (i >= path.Length) return null;
            if (route[i].StartsWith('{')) kinds.Add(1);
            else if (string.Equals(route[i], path[i], StringComparison.OrdinalIgnoreCase)) kinds.Add(0);
            else return null;
        }
        return route.Length == path.Length ? [.. kinds] : null;
    }

    public static IReverseProxyBuilder AddServiceRoutes(this IServiceCollection services, IConfiguration configuration)
    {
        var routes = Table.Select((r, i) => new RouteConfig
        {
            RouteId = $"{r.Service}-{i}",
            ClusterId = r.Service,
            Order = r.Order,
            Match = new RouteMatch { Path = r.Path },
        }).ToList();

        var clusters = Services.Select(service =>
        {
            var destinations = configuration.GetSection($"services:{service}:http").GetChildren()
                .Select((d, i) => (Key: $"{service}-{i}", Address: d.Value))
                .Where(d => !string.IsNullOrWhiteSpace(d.Address))
                .ToDictionary(d => d.Key, d => new DestinationConfig { Address = d.Address! });
            return new ClusterConfig
            {
                ClusterId = service,
                HttpRequest = new Yarp.ReverseProxy.Forwarder.ForwarderRequestConfig { Version = new Version(1, 1), VersionPolicy = HttpVersionPolicy.RequestVersionExact },
                Destinations = destinations,
                HealthCheck = InstanceFailover.HealthChecksFor(destinations.Count),
            };
        }).ToList();

        services.AddSingleton<Yarp.ReverseProxy.Forwarder.IForwarderHttpClientFactory, SmallBodiesInOneWrite.ClientFactory>();
        var bufferedBodyBytes = SmallBodiesInOneWrite.MaxBytes(configuration);
        return services.AddReverseProxy().LoadFromMemory(routes, clusters).AddTransforms(t =>
        {
            t.AddRequestTransform(ctx => SmallBodiesInOneWrite.ReadWholeAsync(ctx, bufferedBodyBytes));
            t.AddRequestTransform(ctx =>
            {
                var http = ctx.HttpContext;
                var headers = ctx.ProxyRequest.Headers;
                // Services see only the edge's token: never the caller's own credentials.
                headers.Remove("Cookie");
                headers.Remove("X-Agent-Token");
                headers.Remove(RequestIdMiddleware.Header);
                headers.TryAddWithoutValidation(RequestIdMiddleware.Header, http.TraceIdentifier);
                var signer = http.RequestServices.GetRequiredService<InternalTokenSigner>();
                headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", signer.Sign(http.GetPrincipal()));
                return ValueTask.CompletedTask;
            });
            t.AddResponseTransform(ctx =>
            {
                var http = ctx.HttpContext;
                // The service echoes the id the edge sent; keep exactly one copy of it.
                http.Response.Headers[RequestIdMiddleware.Header] = http.TraceIdentifier;
                // A write to the caller's organizations or own user changes its principal: resolve it
                // afresh on its next request here (other edges hear of it through MemberChanged).
                if (!HttpMethods.IsGet(http.Request.Method) && ctx.ProxyResponse is { IsSuccessStatusCode: true }
                    && (http.Request.Path.StartsWithSegments("/api/v1/organizations") || http.Request.Path.StartsWithSegments("/api/v1/users/me")))
                    http.RequestServices.GetRequiredService<PrincipalResolver>().InvalidateSubject(http.GetPrincipal().Subject);
                return ValueTask.CompletedTask;
            });
        });
    }
}
