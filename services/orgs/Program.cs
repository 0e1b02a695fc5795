using MissionControl.Orgs;
using MissionControl.Orgs.Apis;
using MissionControl.Orgs.Consumers;
using MissionControl.Orgs.Data;

var builder = WebApplication.CreateBuilder(args);
builder.AddMissionControlService<OrgsDbContext, SqliteOrgsDbContext, PostgresOrgsDbContext>("orgs", bus =>
{
    bus.AddConsumer<TaskTagsChangedConsumer>();
});
builder.Services.Configure<OrgsOptions>(builder.Configuration.GetSection("Orgs"));

var app = await builder.BuildMissionControlServiceAsync<OrgsDbContext>();
app.MapOrganizationsApi();
app.MapBoardsApi();
app.MapBoardGroupsApi();
app.MapPrincipalsApi();
app.MapUsersApi();
app.MapApiKeysApi();
app.MapMembersApi();
app.MapInvitesApi();
app.MapTagsApi();
app.MapCustomFieldsApi();
app.MapAgentBoardsApi();
app.MapDefaultBoardApi();
app.Run();

public partial class Program;
