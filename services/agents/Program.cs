using Microsoft.Extensions.Options;
using MissionControl.Agents;
using MissionControl.Agents.Apis;
using MissionControl.Agents.Consumers;
using MissionControl.Agents.Data;
using MissionControl.Agents.Operations;
using MissionControl.InternalAuth;
using MissionControl.Outbound;

// agents: agents on OpenClaw gateways — their lifecycle, provisioning conversation with the gateway-bridge, token hashes, heartbeats and templates —
// and custom agents (no gateway), with the signed callbacks that push them their dispatched tasks.
var builder = WebApplication.CreateBuilder(args);
builder.AddMissionControlService<AgentsDbContext, SqliteAgentsDbContext, PostgresAgentsDbContext>("agents", bus =>
{
    bus.AddConsumer<BoardCreatedConsumer>();
    bus.AddConsumer<BoardUpdatedConsumer>();
    bus.AddConsumer<BoardDeletedConsumer>();
    bus.AddConsumer<GatewayCreatedConsumer>();
    bus.AddConsumer<GatewayUpdatedConsumer>();
    bus.AddConsumer<GatewayDeletedConsumer>();
    bus.AddConsumer<AgentProvisionedConsumer>();
    bus.AddConsumer<AgentProvisioningFailedConsumer>();
    bus.AddConsumer<OrganizationDeletedConsumer>();
    bus.AddConsumer<TaskDispatchedConsumer>();
});
builder.AddSecretsAtRest("agents");
builder.Services.Configure<AgentsOptions>(builder.Configuration.GetSection("Agents"));
builder.Services.AddSingleton<AgentClock>();
builder.Services.AddSingleton<Presence>();
builder.Services.AddScoped<Provisioning>();
builder.Services.AddScoped<AgentReads>();
builder.Services.AddScoped<AgentCreation>();
builder.Services.AddScoped<AgentChanges>();
builder.Services.AddScoped<GatewayAgents>();
builder.Services.AddSingleton<ProvisionSweeper>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<ProvisionSweeper>());
builder.Services.AddScoped<CustomAgents>();
builder.Services.AddHttpClient<DefaultBoards>(c => c.BaseAddress = new Uri("http://orgs")).WithQuickRetries();
builder.Services.AddSingleton<CallbackSecrets>();
builder.Services.AddSingleton(sp => new AddressGuard(AddressGuard.ParseHosts(sp.GetRequiredService<IOptions<AgentsOptions>>().Value.CallbackAllowedHosts)));
builder.Services.AddSingleton<IWebhookHostResolver, DnsWebhookHostResolver>();
builder.Services.AddSingleton(sp => ActivatorUtilities.CreateInstance<WebhookSender>(
    sp, new OutboundHttpOptions(sp.GetRequiredService<IOptions<AgentsOptions>>().Value.CallbackTimeout)));
builder.Services.AddSingleton<CallbackSender>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<CallbackSender>());
builder.Services.AddSingleton<CallbackRetention>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<CallbackRetention>());

var app = await builder.BuildMissionControlServiceAsync<AgentsDbContext>();
// Any authenticated agent request counts as presence (heartbeats record it themselves).
app.Use(async (http, next) =>
{
    if (http.Features.Get<McPrincipal>()?.AgentId is { } agentId && !http.Request.Path.Value!.EndsWith("/heartbeat", StringComparison.Ordinal))
        await http.RequestServices.GetRequiredService<Presence>().TouchAsync(agentId, http.RequestAborted);
    await next(http);
});
app.MapAgentsApi();
app.MapAgentsDialectApi();
app.MapAgentApi();
app.MapGatewaysApi();
app.MapInternalApi();
app.Run();

public partial class Program;
