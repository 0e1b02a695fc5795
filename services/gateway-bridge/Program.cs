using MissionControl.GatewayBridge.Apis;
using MissionControl.GatewayBridge.Connections;
using MissionControl.GatewayBridge.Consumers;
using MissionControl.GatewayBridge.Data;

// gateway-bridge: OpenClaw gateways (tokens encrypted at rest), one live WebSocket per gateway, agent
// provisioning runs, and messages into agents' sessions (their replies come back as events).
var builder = WebApplication.CreateBuilder(args);
builder.AddMissionControlService<GatewayBridgeDbContext, SqliteGatewayBridgeDbContext, PostgresGatewayBridgeDbContext>("gateway-bridge", bus =>
{
    bus.AddConsumer<AgentCreatedConsumer>();
    bus.AddConsumer<AgentUpdatedConsumer>();
    bus.AddConsumer<AgentDeletedConsumer>();
    bus.AddConsumer<BoardCreatedConsumer>();
    bus.AddConsumer<BoardUpdatedConsumer>();
    bus.AddConsumer<BoardDeletedConsumer>();
    // Changes to agents on gateways run one at a time per bridge instance: a gateway serializes its
    // config writes, and concurrent creates and deletes only wait on its lock and time out.
    // Their own queues: the service's shared one handles many messages at once.
    bus.AddConsumer<AgentProvisioningConsumer>().Endpoint(e => { e.Name = "gateway-bridge-agent-provisioning"; e.ConcurrentMessageLimit = 1; });
    bus.AddConsumer<AgentDeprovisionConsumer>().Endpoint(e => { e.Name = "gateway-bridge-agent-deprovision"; e.ConcurrentMessageLimit = 1; });
    bus.AddConsumer<AgentNotificationConsumer>();
    bus.AddConsumer<OnboardingMessageConsumer>();
    bus.AddConsumer<TaskDispatchedConsumer>();
});
builder.AddSecretsAtRest("gateway-bridge");
builder.Services.Configure<BridgeOptions>(builder.Configuration.GetSection("GatewayBridge"));
builder.Services.AddSingleton<GatewayCredentials>();
builder.Services.AddScoped<AgentMessenger>();
builder.Services.AddSingleton<GatewayEventSink>();
builder.Services.AddSingleton<DispatchRetention>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<DispatchRetention>());
builder.Services.AddHostedService(sp => sp.GetRequiredService<GatewayEventSink>());
builder.Services.AddSingleton<GatewayConnections>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<GatewayConnections>());

var app = await builder.BuildMissionControlServiceAsync<GatewayBridgeDbContext>();
app.MapGatewaysApi();
app.MapGatewaySessionsApi();
app.Run();

public partial class Program;
