using MissionControl.Agents.Data;

// agents: agents, hashed agent tokens, heartbeats, lifecycle, board lead and gateway-main roles.
// The platform is in place (auth, database, outbox, bus, health); its API arrives with its features.
var builder = WebApplication.CreateBuilder(args);
builder.AddMissionControlService<AgentsDbContext, SqliteAgentsDbContext, PostgresAgentsDbContext>("agents");

var app = await builder.BuildMissionControlServiceAsync<AgentsDbContext>();
app.Run();

public partial class Program;
