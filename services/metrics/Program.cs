using MissionControl.Metrics.Activity;
using MissionControl.Metrics.Data;
using MissionControl.Metrics.Dashboard;
using MissionControl.Metrics.EventLog;
using MissionControl.Metrics.ReadModels;
using MissionControl.Metrics.Tokens;
using MissionControl.Metrics.Webhooks;

// metrics: the event log (every integration event, once, in order) and what reads it: activity,
// dashboard KPIs, token usage and cost, outbound webhooks. The edge's SSE streams are fed from it.
var builder = WebApplication.CreateBuilder(args);
builder.AddMissionControlService<MetricsDbContext, SqliteMetricsDbContext, PostgresMetricsDbContext>("metrics", bus => bus.AddEventLogConsumers());
builder.Services.AddSingleton<RecentEvents>();
builder.Services.AddSingleton<LogNotifications>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<LogNotifications>());
builder.Services.AddSingleton<EventLogWriter>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<EventLogWriter>());
builder.Services.AddSingleton<LogReceiptSender>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<LogReceiptSender>());
builder.Services.AddSingleton<EventLogRetention>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<EventLogRetention>());
builder.Services.AddReadModels();
builder.Services.AddScoped<ILogProjection, TokenUsageProjection>();
builder.AddSecretsAtRest("metrics");
builder.Services.AddWebhooks();

var app = await builder.BuildMissionControlServiceAsync<MetricsDbContext>();
app.MapEventLogApi();
app.MapActivityApi();
app.MapTokensApi();
app.MapDashboardApi();
app.MapWebhooksApi();
app.Run();

public partial class Program;
