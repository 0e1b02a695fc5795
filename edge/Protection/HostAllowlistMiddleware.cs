namespace MissionControl.Edge.Protection;

/// <summary>403 host_not_allowed for a Host that MC_ALLOWED_HOSTS does not list (the probes answer any Host).</summary>
public sealed class HostAllowlistMiddleware(RequestDelegate next, HostAllowlist allowlist)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (allowlist.AllowsAny || ProbePaths.Is(context.Request.Path) || allowlist.IsAllowed(context.Request.Host.Host))
            return next(context);
        return ProtectionProblems.WriteAsync(context, StatusCodes.Status403Forbidden,
            "This host name is not served here (MC_ALLOWED_HOSTS).", "host_not_allowed");
    }
}
