namespace MissionControl.Edge.Protection;

public static class EdgeProtectionExtensions
{
    /// <summary>The options, the client address rule, the allowlist and the limiter (on Redis when ConnectionStrings:redis is set).</summary>
    public static WebApplicationBuilder AddEdgeProtection(this WebApplicationBuilder builder)
    {
        var options = EdgeProtectionOptions.FromConfiguration(builder.Configuration);
        var services = builder.Services;
        services.AddSingleton(options);
        services.AddSingleton(new ClientAddress(options.TrustedProxies));
        services.AddSingleton(new HostAllowlist(options.AllowedHosts));
        services.AddSingleton<MemoryRateLimitStore>();
        var redis = builder.Configuration.GetConnectionString("redis");
        if (string.IsNullOrWhiteSpace(redis)) services.AddSingleton<IRateLimitStore>(sp => sp.GetRequiredService<MemoryRateLimitStore>());
        else
            services.AddSingleton<IRateLimitStore>(sp => new RedisRateLimitStore(
                redis, sp.GetRequiredService<MemoryRateLimitStore>(), sp.GetRequiredService<ILogger<RedisRateLimitStore>>()));
        services.AddSingleton<RateLimiter>();
        return builder;
    }

    /// <summary>
    /// In this order, after the request id and the error handling: the security headers (on every answer,
    /// refusals included), the host allowlist, the rate limit, the body size limit, CSRF, and the
    /// authentication failure limit, which wraps the authentication it counts the 401s of.
    /// </summary>
    public static WebApplication UseEdgeProtection(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<EdgeProtectionOptions>();
        var store = app.Services.GetRequiredService<IRateLimitStore>() is RedisRateLimitStore ? "shared through Redis" : "in this process";
        app.Logger.LogInformation(
            "Edge protection: {PerMinute} requests/min and {AuthFailures} authentication failures/min per client IP (0 = off; {Store}); " +
            "trusted proxies: {Proxies}; allowed hosts: {Hosts}; request bodies up to {MaxBody} bytes",
            options.PerMinute, options.AuthFailuresPerMinute, store,
            options.TrustedProxies.Count == 0 ? "none" : string.Join(",", options.TrustedProxies),
            options.AllowedHosts.Count == 0 ? "any" : string.Join(",", options.AllowedHosts), options.MaxRequestBodyBytes);
        app.UseMiddleware<SecurityHeadersMiddleware>();
        app.UseMiddleware<HostAllowlistMiddleware>();
        app.UseMiddleware<RateLimitMiddleware>();
        app.UseMiddleware<RequestSizeLimitMiddleware>();
        app.UseMiddleware<CsrfMiddleware>();
        app.UseMiddleware<AuthFailureLimitMiddleware>();
        return app;
    }
}
