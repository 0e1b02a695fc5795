using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

public static class ServiceDefaultsExtensions
{
    public const string LiveTag = "live";
    public const string ReadyTag = "ready";
    /// <summary>The ASP.NET Core logger whose level decides whether every request gets an Activity.</summary>
    public const string HostingDiagnosticsCategory = "Microsoft.AspNetCore.Hosting.Diagnostics";

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();
        // Per-request and per-command Information logs (hosting, routing, HttpClient, YARP, EF) cost more
        // than the requests themselves at a few thousand per second; appsettings can lower these again.
        foreach (var category in new[] { "Microsoft.AspNetCore", "Microsoft.EntityFrameworkCore", "System.Net.Http.HttpClient", "Yarp", "Polly" })
            builder.Logging.AddFilter(category, LogLevel.Warning);

        builder.Services.AddHealthChecks().AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);

        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            // Streaming clients opt out with RemoveAllResilienceHandlers(): the standard handler's
            // timeouts would cut a long-lived stream.
            http.AddStandardResilienceHandler();
            http.AddServiceDiscovery();
        });

        builder.Services.AddHostedService<MemoryTrimmer>();
        builder.Services.AddMissionControlProblemDetails();
        builder.Services.ConfigureMissionControlJson();
        builder.Services.AddServiceApiDescription(builder.Environment.ApplicationName);
        return builder;
    }

    private static void ConfigureOpenTelemetry(this IHostApplicationBuilder builder)
    {
        // With nowhere to export to, instrumentation would only cost time per request.
        if (string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            // ASP.NET Core starts an Activity and a log scope for every request whenever its hosting logger is on
            // at any level, listener or not; HttpClient then starts a child activity and writes traceparent headers
            // for every call made inside it (every request the edge proxies). Nothing reads those ids without an
            // exporter: about 5% of the edge's CPU per proxied request and 2% of tasks' (perf, create at c16).
            // That category logs only per-request Information lines and start-up failures, which the host logs too.
            builder.Logging.AddFilter(HostingDiagnosticsCategory, LogLevel.None);
            return;
        }

        builder.Logging.AddOpenTelemetry(o =>
        {
            o.IncludeFormattedMessage = true;
            o.IncludeScopes = true;
        });

        builder.Services.AddOpenTelemetry()
            .WithMetrics(m => m
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter("MassTransit", "Microsoft.EntityFrameworkCore", "Npgsql", "MissionControl"))
            .WithTracing(t => t
                .AddSource(builder.Environment.ApplicationName, "MassTransit", "Npgsql", "Yarp.ReverseProxy", "MissionControl")
                .AddAspNetCoreInstrumentation(o => o.Filter = ctx =>
                    !ctx.Request.Path.StartsWithSegments("/health") && !ctx.Request.Path.StartsWithSegments("/alive"))
                .AddHttpClientInstrumentation());

        builder.Services.AddOpenTelemetry().UseOtlpExporter();
    }

    /// <summary>
    /// Request ids, problem-details errors, /health (readiness: every check, database and broker
    /// included) and /alive (liveness: the process answers). Call right after Build().
    /// </summary>
    public static WebApplication UseServiceDefaults(this WebApplication app)
    {
        app.UseMiddleware<RequestIdMiddleware>();
        app.UseExceptionHandler();
        app.UseStatusCodePages(ParameterErrors.WriteAsync);
        return app;
    }

    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapHealthChecks("/health", new HealthCheckOptions { ResponseWriter = WriteHealthAsync }).AllowAnonymous().DisableHttpMetrics();
        app.MapHealthChecks("/alive", new HealthCheckOptions { Predicate = r => r.Tags.Contains(LiveTag) })
            .AllowAnonymous().DisableHttpMetrics();
        app.MapServiceApiDescription();
        return app;
    }

    /// <summary>{"status":"Unhealthy","checks":{"database":"Healthy","masstransit-bus":"Unhealthy"}}: says which dependency is down.</summary>
    private static Task WriteHealthAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsJsonAsync(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => e.Value.Status.ToString()),
        });
    }
}

public static class InternalHttpClientExtensions
{
    /// <summary>
    /// For calls a user's request waits on (service to service on loopback): retry fast and give up
    /// within a couple of seconds, instead of the standard handler's 2 s, 4 s, 8 s backoff.
    /// </summary>
    public static IHttpClientBuilder WithQuickRetries(this IHttpClientBuilder client)
    {
        // The default standard handler, configured by its options name ("<client>-standard") rather than
        // replaced: a handler added here would sit inside service discovery, and its retries would all
        // go to the instance discovery picked first (a dead one, when one of several has stopped).
        client.Services.Configure<Microsoft.Extensions.Http.Resilience.HttpStandardResilienceOptions>($"{client.Name}-standard", o =>
        {
            o.Retry.MaxRetryAttempts = 2;
            o.Retry.Delay = TimeSpan.FromMilliseconds(50);
            o.AttemptTimeout.Timeout = TimeSpan.FromSeconds(2);
            o.TotalRequestTimeout.Timeout = TimeSpan.FromSeconds(5);
        });
        return client;
    }
}
