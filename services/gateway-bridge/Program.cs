using MissionControl.GatewayBridge.Data;

// gateway-bridge: gateways (encrypted tokens), live WebSocket sessions to OpenClaw, provisioning and dispatch.
// The platform is in place (auth, database, outbox, bus, health); its API arrives with its features.
var builder = WebApplication.CreateBuilder(args);
builder.AddMissionControlService<GatewayBridgeDbContext, SqliteGatewayBridgeDbContext, PostgresGatewayBridgeDbContext>("gateway-bridge");

var app = await builder.BuildMissionControlServiceAsync<GatewayBridgeDbContext>();
app.Run();

public partial class Program;
