using MissionControl.Orgs.Apis;
using MissionControl.Orgs.Data;

var builder = WebApplication.CreateBuilder(args);
builder.AddMissionControlService<OrgsDbContext, SqliteOrgsDbContext, PostgresOrgsDbContext>("orgs");

var app = await builder.BuildMissionControlServiceAsync<OrgsDbContext>();
app.MapOrganizationsApi();
app.MapBoardsApi();
app.MapPrincipalsApi();
app.Run();

public partial class Program;
