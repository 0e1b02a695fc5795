namespace MissionControl.Edge.Protection;

/// <summary>
/// Headers every answer carries, the proxied and streamed ones too: set as the response starts, so an
/// exception handler that cleared the headers, or a service's own answer, cannot drop them.
/// </summary>
public sealed class SecurityHeadersMiddleware(RequestDelegate next, EdgeProtectionOptions options)
{
    /// <summary>The API answers JSON and SSE only: nothing to load, nothing to frame.</summary>
    public const string ApiContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'";

    public Task InvokeAsync(HttpContext context)
    {
        context.Response.OnStarting(static state =>
        {
            var (http, options) = ((HttpContext, EdgeProtectionOptions))state;
            var headers = http.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            // A future HTML page (the API docs) brings its own policy: see EdgeProtectionOptions.CspExemptPaths.
            if (!options.CspExemptPaths.Any(p => http.Request.Path.StartsWithSegments(p)))
                headers.ContentSecurityPolicy = ApiContentSecurityPolicy;
            // HSTS only means something over HTTPS (and must not pin plain-HTTP development hosts).
            if (http.Request.IsHttps) headers.StrictTransportSecurity = "max-age=31536000";
            return Task.CompletedTask;
        }, (context, options));
        return next(context);
    }
}
