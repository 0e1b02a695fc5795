using MassTransit;
using MissionControl.Edge.Auth;
using MissionControl.Edge.OpenApi;
using MissionControl.Edge.Protection;
using MissionControl.Edge.Proxy;
using MissionControl.Edge.Sse;
using MissionControl.InternalAuth;
using MissionControl.Messaging;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.UseSharedListenPort();

var signingKey = builder.Configuration[InternalAuthExtensions.SigningKeyConfig];
if (string.IsNullOrWhiteSpace(signingKey))
    throw new InvalidOperationException(
        $"{InternalAuthExtensions.SigningKeyConfig} is not set (env InternalAuth__SigningKey): the edge cannot sign internal tokens. " +
        "Start the system with the AppHost, which generates the key pair.");
builder.Services.AddSingleton(new InternalTokenSigner(signingKey));
builder.Services.AddSingleton(AdminToken.FromConfiguration(builder.Configuration));
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<SseHub>();
builder.Services.AddSingleton<EventLogClient>();
builder.Services.AddHostedService<EventFeed>();
builder.Services.AddHttpClient("metrics", c => c.BaseAddress = new Uri("http://metrics")).WithQuickRetries();
// The event log's feed is a long-lived stream: no timeout, no retries (EventFeed reconnects itself).
#pragma warning disable EXTEXP0001
builder.Services.AddHttpClient(EventLogClient.FeedClientName, c =>
{
    c.BaseAddress = new Uri("http://metrics");
    c.Timeout = Timeout.InfiniteTimeSpan;
}).RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
builder.Services.AddHttpClient("orgs", c => c.BaseAddress = new Uri("http://orgs")).WithQuickRetries();
builder.Services.AddHttpClient("agents", c => c.BaseAddress = new Uri("http://agents")).WithQuickRetries();
builder.Services.AddHttpClient(nameof(OidcValidator));
builder.Services.AddSingleton(builder.Configuration.GetSection("Oidc").Get<OidcOptions>() ?? new OidcOptions());
builder.Services.AddSingleton<OidcValidator>();
builder.Services.AddSingleton<PrincipalResolver>();
builder.Services.AddServiceRoutes(builder.Configuration);
builder.Services.AddApiDocument();
builder.AddEdgeProtection();

var instance = Guid.NewGuid().ToString("N")[..8];
builder.AddMissionControlBus("edge", x => x.AddConsumer<EdgeEventsConsumer>().Endpoint(e =>
{
    // Every edge instance needs every event: a per-instance queue that goes away with the instance.
    e.Temporary = true;
    e.InstanceId = instance;
    e.PrefetchCount = 64;
}));

var app = builder.Build();
app.UseServiceDefaults();
// Security headers, host allowlist, rate limits, body size, CSRF: before any credential is looked at.
app.UseEdgeProtection();
app.UseMiddleware<EdgeAuthenticationMiddleware>();
app.MapDefaultEndpoints();
app.MapStreamEndpoints();
app.MapApiDocument();
app.MapReverseProxy(proxy =>
{
    proxy.Use(InstanceFailover.RetryRefusedConnectionAsync);
    proxy.UseSessionAffinity();
    proxy.UseLoadBalancing();
    proxy.UsePassiveHealthChecks();
});
app.Run();

public partial class Program;
