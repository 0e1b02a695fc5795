using MissionControl.Edge.Auth;

namespace MissionControl.Edge.Protection;

/// <summary>
/// Seed 001's CSRF rule: a mutating request (POST, PUT, PATCH, DELETE) that a browser could send on its
/// own, one with a Cookie and no Authorization or X-Agent-Token header, must come from a page of this
/// host: its Origin (else its Referer) must name the request's Host, else 403 csrf_origin_mismatch.
/// The edge authenticates no cookie itself, so this guards whatever cookie-carrying caller reaches it;
/// headers a page cannot set cross-site (Bearer API keys, agent tokens) need no such check.
/// </summary>
public sealed class CsrfMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (!Applies(request) || IsSameHost(request)) return next(context);
        return ProtectionProblems.WriteAsync(context, StatusCodes.Status403Forbidden,
            "Cross-site request refused: a cookie-carrying write must come with an Origin (or Referer) of this host.", "csrf_origin_mismatch");
    }

    public static bool Applies(HttpRequest request) =>
        (HttpMethods.IsPost(request.Method) || HttpMethods.IsPut(request.Method) || HttpMethods.IsPatch(request.Method) || HttpMethods.IsDelete(request.Method))
        && request.Headers.Cookie.Count > 0
        && request.Headers.Authorization.Count == 0
        && request.Headers[Credential.AgentTokenHeader].Count == 0
        // The inbound board webhooks are called by servers and verify their own HMAC.
        && !PublicRoutes.IsPublic(request);

    /// <summary>Origin's (else Referer's) host and port against the Host header's, default ports implied.</summary>
    public static bool IsSameHost(HttpRequest request)
    {
        var source = request.Headers.Origin.ToString();
        if (source.Length == 0) source = request.Headers.Referer.ToString();
        if (!Uri.TryCreate(source, UriKind.Absolute, out var origin) || origin.Scheme is not ("http" or "https")) return false;
        var host = request.Host;
        if (!host.HasValue || !string.Equals(origin.DnsSafeHost, host.Host.Trim('[', ']'), StringComparison.OrdinalIgnoreCase)) return false;
        // No port in Host: a proxy in front, maybe terminating TLS; the names agree and that is the check.
        return host.Port is null || host.Port == origin.Port;
    }
}
