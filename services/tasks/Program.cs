using MissionControl.Tasks.Apis;
using MissionControl.Tasks.Consumers;
using MissionControl.Tasks.Data;

var builder = WebApplication.CreateBuilder(args);
builder.AddMissionControlService<TasksDbContext, SqliteTasksDbContext, PostgresTasksDbContext>(
    "tasks", bus => bus.AddConsumer<BoardCreatedConsumer>());
builder.Services.AddMemoryCache();
builder.Services.AddSingleton<TaskWriter>();
builder.Services.AddHttpClient<BoardCopies>(c => c.BaseAddress = new Uri("http://orgs")).WithQuickRetries();

var app = await builder.BuildMissionControlServiceAsync<TasksDbContext>();
app.MapTasksApi();
app.Run();

public partial class Program;
