using MissionControl.InternalAuth;

namespace MissionControl.Edge.Auth;

/// <summary>
/// Every request but the health probes must carry a credential the edge can resolve to a principal;
/// the principal is put on the request for the proxy (which signs the internal token) and the SSE hub.
/// Today that is the local admin token; API keys, OIDC and agent tokens add more ways to resolve one.
/// </summary>
public sealed class EdgeAuthenticationMiddleware(RequestDelegate next, AdminToken admin, PrincipalResolver resolver)
{
    public const string ExternalIdItem = "mc.external_id";

    public async Task InvokeAsync(HttpContext context, IProblemDetailsService problems)
    {
        var path = context.Request.Path;
        if (path.StartsWithSegments("/health") || path.StartsWithSegments("/alive"))
        {
            await next(context);
            return;
        }

        var token = context.Request.GetBearerToken();
        if (token is null || !admin.Matches(token))
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await problems.WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = { Status = 401, Title = "Unauthorized", Detail = token is null ? "Missing bearer token." : "Invalid token." },
            });
            return;
        }

        var principal = await resolver.ResolveUserAsync(AdminToken.ExternalId, "admin@localhost", "Local Admin", context.RequestAborted);
        context.Features.Set(principal);
        context.Items[ExternalIdItem] = AdminToken.ExternalId;
        await next(context);
    }
}
