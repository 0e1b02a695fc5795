using MissionControl.Metrics.Data;

// metrics: the event log, activity feed, dashboard KPIs, token usage, outbound webhooks.
// The platform is in place (auth, database, outbox, bus, health); its API arrives with its features.
var builder = WebApplication.CreateBuilder(args);
builder.AddMissionControlService<MetricsDbContext, SqliteMetricsDbContext, PostgresMetricsDbContext>("metrics");

var app = await builder.BuildMissionControlServiceAsync<MetricsDbContext>();
app.Run();

public partial class Program;
