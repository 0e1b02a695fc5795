using MissionControl.InternalAuth;

namespace MissionControl.Edge.Auth;

/// <summary>
/// Every request but the health probes and the public routes must carry a credential the edge can
/// resolve to a principal (admin token, API key, OIDC JWT or agent token); the principal is put on
/// the request for the proxy (which signs the internal token) and the SSE endpoints.
/// </summary>
public sealed class EdgeAuthenticationMiddleware(RequestDelegate next, AdminToken admin, PrincipalResolver resolver)
{
    /// <summary>What the public routes forward as: it authorizes nothing but those routes.</summary>
    public static readonly McPrincipal Anonymous = new() { Kind = PrincipalKind.Anonymous, Subject = "anonymous" };

    public async Task InvokeAsync(HttpContext context, IProblemDetailsService problems)
    {
        var path = context.Request.Path;
        if (path.StartsWithSegments("/health") || path.StartsWithSegments("/alive"))
        {
            await next(context);
            return;
        }
        if (PublicRoutes.IsPublic(context.Request))
        {
            context.Features.Set(Anonymous);
            await next(context);
            return;
        }

        var credential = Credential.From(context.Request, admin);
        var principal = credential is null ? null : await resolver.ResolveAsync(credential, context.RequestAborted);
        if (principal is null)
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await problems.WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails =
                {
                    Status = 401, Title = "Unauthorized",
                    Detail = credential is null
                        ? "Missing credential: send Authorization: Bearer <API key | admin token | OIDC token>, or X-Agent-Token."
                        : "Invalid, expired or revoked credential.",
                },
            });
            return;
        }

        context.Features.Set(principal);
        await next(context);
    }
}

/// <summary>
/// The routes reachable without a credential: inbound board webhooks (they verify their own HMAC), and
/// the API document and its reference page (agents read it before they have anything else).
/// </summary>
public static class PublicRoutes
{
    public static bool IsPublic(HttpRequest request)
    {
        var path = request.Path;
        if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
            return path.Equals(OpenApi.ApiDocumentEndpoints.DocumentPath) || path.StartsWithSegments(OpenApi.ApiDocumentEndpoints.DocsPath);
        if (!HttpMethods.IsPost(request.Method)) return false;
        // /api/v1/boards/{board_id}/webhooks/{webhook_id}, nothing more and nothing less.
        var segments = (path.Value ?? "").Trim('/').Split('/');
        return IsWebhookIngest(segments, s => Guid.TryParse(s, out _));
    }

    /// <summary>The same rule over a path template of the API document ("{boardId}" for an id).</summary>
    public static bool IsPublicTemplate(string method, string path) =>
        method == "POST" && IsWebhookIngest(path.Trim('/').Split('/'), s => s.StartsWith('{'));

    private static bool IsWebhookIngest(string[] segments, Func<string, bool> isId) =>
        segments.Length == 6 && segments[0] == "api" && segments[1] == "v1" && segments[2] == "boards"
        && isId(segments[3]) && segments[4] == "webhooks" && isId(segments[5]);
}
