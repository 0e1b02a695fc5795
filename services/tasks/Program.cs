using MissionControl.Tasks;
using MissionControl.Tasks.Apis;
using MissionControl.Tasks.Consumers;
using MissionControl.Tasks.Data;
using MissionControl.Tasks.Operations;

var builder = WebApplication.CreateBuilder(args);
builder.AddMissionControlService<TasksDbContext, SqliteTasksDbContext, PostgresTasksDbContext>("tasks", bus =>
{
    bus.AddConsumer<BoardCreatedConsumer>();
    bus.AddConsumer<BoardUpdatedConsumer>();
    bus.AddConsumer<BoardDeletedConsumer>();
    bus.AddConsumer<BoardGroupChangedConsumer>();
    bus.AddConsumer<BoardGroupDeletedConsumer>();
    bus.AddConsumer<TagChangedConsumer>();
    bus.AddConsumer<TagDeletedConsumer>();
    bus.AddConsumer<CustomFieldDefinitionChangedConsumer>();
    bus.AddConsumer<CustomFieldDefinitionDeletedConsumer>();
    bus.AddConsumer<AgentCreatedConsumer>();
    bus.AddConsumer<AgentUpdatedConsumer>();
    bus.AddConsumer<AgentDeletedConsumer>();
    bus.AddConsumer<AgentMessageReceivedConsumer>();
    bus.AddConsumer<OrganizationDeletedConsumer>();
});
builder.Services.AddMemoryCache();
builder.Services.AddSingleton<TaskWriter>();
builder.Services.AddHttpClient<BoardCopies>(c => c.BaseAddress = new Uri("http://orgs")).WithQuickRetries();
builder.Services.AddScoped<BoardAccess>();
builder.Services.AddScoped<CopyCache>();
builder.Services.AddScoped<TaskReads>();
builder.Services.AddScoped<TaskLookups>();
builder.Services.AddScoped<CommentWriter>();
builder.Services.AddScoped<DependencyCascade>();
builder.Services.AddScoped<TaskCreation>();
builder.Services.AddScoped<TaskUpdates>();
builder.Services.AddScoped<TaskDeletion>();
builder.Services.AddScoped<GroupAccess>();
builder.Services.AddScoped<MemoryWriter>();
TasksOptions.AddTasksOptions(builder.Services, builder.Configuration);
builder.Services.AddScoped<WebhookSecrets>();
builder.AddSecretsAtRest("tasks");

var app = await builder.BuildMissionControlServiceAsync<TasksDbContext>();
app.MapTasksApi();
app.MapCommentsApi();
app.MapApprovalsApi();
app.MapMemoryApi();
app.MapSnapshotsApi();
app.MapWebhooksApi();
app.MapWebhookIngestApi();
app.MapOnboardingApi();
app.MapAgentApi();
app.MapSeedApi();
app.MapMissionControlApi();
app.Run();

public partial class Program;
