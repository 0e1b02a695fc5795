using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Orgs;
using MissionControl.InternalAuth;
using MissionControl.Orgs.Tests.Infrastructure;

namespace MissionControl.Orgs.Tests;

/// <summary>Boards: goals, groups, filters, partial updates and deletion, with their events.</summary>
public abstract class BoardsApiTests(BrokerFixture broker, OrgsHost host) : OrgsTestBase(broker, host)
{
    private async Task<Guid> CreateGroupAsync(Actor admin, string? name = null) =>
        IdOf(await JsonAsync(await admin.Client.PostAsJsonAsync("/api/v1/board-groups", new { name = name ?? Unique("Group") }), HttpStatusCode.Created));

    [Fact]
    public async Task A_goal_board_carries_its_goal_and_needs_no_gateway()
    {
        var owner = await NewOwnerAsync();
        var group = await CreateGroupAsync(owner);

        var board = await JsonAsync(await owner.Client.PostAsJsonAsync("/api/v1/boards", new
        {
            name = "Q3 Launch", description = "Ship it", board_type = "goal", objective = "Launch v2", success_metrics = new { signups = 1000 },
            target_date = "2026-12-01T00:00:00Z", goal_confirmed = true, goal_source = "user", board_group_id = group,
            require_approval_for_done = false, only_lead_can_change_status = true,
        }), HttpStatusCode.Created);

        Assert.Equal(JsonValueKind.Null, board.GetProperty("gateway_id").ValueKind);
        Assert.Equal(1000, board.GetProperty("success_metrics").GetProperty("signups").GetInt32());
        Assert.Equal("q3-launch", board.GetProperty("slug").GetString());
        var (_, created) = await Bus.WaitForAsync<BoardCreated>(e => e.BoardId == IdOf(board));
        Assert.Equal(group, created.Board.BoardGroupId);
        Assert.True(created.Board.GoalConfirmed);
        Assert.Equal("Launch v2", created.Board.Objective);
        Assert.Equal(1000, created.Board.SuccessMetrics!.Value.GetProperty("signups").GetInt32());
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero), created.Board.TargetDate);
        Assert.False(created.Board.Rules.RequireApprovalForDone);
        Assert.True(created.Board.Rules.OnlyLeadCanChangeStatus);
    }

    [Fact]
    public async Task A_confirmed_goal_needs_an_objective_and_metrics_and_a_group_of_the_organization()
    {
        var owner = await NewOwnerAsync();
        var foreignGroup = await CreateGroupAsync(await NewOwnerAsync());

        var noGoal = await (await owner.Client.PostAsJsonAsync("/api/v1/boards",
            new { name = "G", description = "d", board_type = "goal", goal_confirmed = true, objective = "o", success_metrics = new { } }))
            .ProblemAsync(HttpStatusCode.UnprocessableEntity);
        var noObjective = await (await owner.Client.PostAsJsonAsync("/api/v1/boards",
            new { name = "G", description = "d", goal_confirmed = true, success_metrics = new[] { 1 } })).ProblemAsync(HttpStatusCode.UnprocessableEntity);
        var badGroup = await (await owner.Client.PostAsJsonAsync("/api/v1/boards",
            new { name = "G", description = "d", board_group_id = foreignGroup })).ProblemAsync(HttpStatusCode.UnprocessableEntity);

        Assert.True(noGoal.GetProperty("errors").TryGetProperty("success_metrics", out _));
        Assert.True(noObjective.GetProperty("errors").TryGetProperty("objective", out _));
        Assert.True(badGroup.GetProperty("errors").TryGetProperty("board_group_id", out _));
        await JsonAsync(await owner.Client.PostAsJsonAsync("/api/v1/boards", new { name = "G", description = "d", board_type = "goal" }), HttpStatusCode.Created);
    }

    [Fact]
    public async Task Lists_filter_by_gateway_and_group()
    {
        var owner = await NewOwnerAsync();
        var gateway = Guid.NewGuid();
        var group = await CreateGroupAsync(owner);
        var onGateway = await CreateBoardAsync(owner, extra: new { gateway_id = gateway });
        var inGroup = await CreateBoardAsync(owner, extra: new { board_group_id = group });
        await CreateBoardAsync(owner);

        var byGateway = await JsonAsync(await owner.Client.GetAsync($"/api/v1/boards?gateway_id={gateway}"));
        var byGroup = await JsonAsync(await owner.Client.GetAsync($"/api/v1/boards?board_group_id={group}"));

        Assert.Equal([onGateway], byGateway.GetProperty("items").EnumerateArray().Select(IdOf));
        Assert.Equal([inGroup], byGroup.GetProperty("items").EnumerateArray().Select(IdOf));
        Assert.Equal(3, (await JsonAsync(await owner.Client.GetAsync("/api/v1/boards"))).GetProperty("total").GetInt32());
        var homeless = Host.ClientFor(new McPrincipal { Kind = PrincipalKind.User, Subject = Guid.NewGuid().ToString() });
        var problem = await (await homeless.GetAsync("/api/v1/boards")).ProblemAsync(HttpStatusCode.Forbidden);
        Assert.Equal("no_active_organization", problem.GetProperty("code").GetString());
    }

    [Fact]
    public async Task A_patch_changes_only_what_it_names_and_BoardUpdated_says_what_changed()
    {
        var owner = await NewOwnerAsync();
        var (first, second) = (await CreateGroupAsync(owner), await CreateGroupAsync(owner));
        var board = await CreateBoardAsync(owner, "Before", new { gateway_id = Guid.NewGuid(), board_group_id = first, max_agents = 2 });

        var patched = await JsonAsync(await owner.Client.PatchAsJsonAsync($"/api/v1/boards/{board}",
            new { name = "After", gateway_id = (Guid?)null, board_group_id = second, require_review_before_done = true }));

        Assert.Equal("After", patched.GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Null, patched.GetProperty("gateway_id").ValueKind);
        Assert.Equal(2, patched.GetProperty("max_agents").GetInt32());
        Assert.Equal("A board for tests", patched.GetProperty("description").GetString());
        var (_, updated) = await Bus.WaitForAsync<BoardUpdated>(e => e.BoardId == board);
        Assert.Equal(["board_group_id", "gateway_id", "name", "require_review_before_done"], updated.ChangedFields.Order());
        Assert.Equal(first, updated.PreviousBoardGroupId);
        Assert.Equal(second, updated.Board.BoardGroupId);
        Assert.True(updated.Board.Rules.RequireReviewBeforeDone);
        Assert.Equal(2, updated.Board.Rules.MaxAgents);
    }

    [Fact]
    public async Task A_patch_validates_like_a_create()
    {
        var owner = await NewOwnerAsync();
        var board = await CreateBoardAsync(owner);
        var path = $"/api/v1/boards/{board}";

        var invalid = await (await owner.Client.PatchAsJsonAsync(path,
            new { name = " ", description = (string?)null, board_type = "epic", max_agents = -1, goal_confirmed = (bool?)null, board_group_id = Guid.NewGuid() }))
            .ProblemAsync(HttpStatusCode.UnprocessableEntity);
        var becameGoal = await (await owner.Client.PatchAsJsonAsync(path, new { board_type = "goal" })).ProblemAsync(HttpStatusCode.UnprocessableEntity);

        Assert.Equal(["board_group_id", "board_type", "description", "goal_confirmed", "max_agents", "name"],
            invalid.GetProperty("errors").EnumerateObject().Select(p => p.Name).Order());
        Assert.True(becameGoal.GetProperty("errors").TryGetProperty("objective", out _));
        var goal = await JsonAsync(await owner.Client.PatchAsJsonAsync(path, new { board_type = "goal", objective = "o", success_metrics = "50 users" }));
        Assert.Equal("50 users", goal.GetProperty("success_metrics").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, (await owner.Client.PatchAsJsonAsync(path, new { max_agents = "many" })).StatusCode);
    }

    [Fact]
    public async Task Changing_and_deleting_a_board_needs_write_access_to_it()
    {
        var owner = await NewOwnerAsync();
        var board = await CreateBoardAsync(owner);
        var reader = Host.ClientFor(TestTokens.Member(owner.OrgId, new BoardGrant(board, true, false)));
        var writer = Host.ClientFor(TestTokens.Member(owner.OrgId, new BoardGrant(board, true, true)));
        var stranger = await NewOwnerAsync();

        await (await reader.PatchAsJsonAsync($"/api/v1/boards/{board}", new { name = "x" })).ProblemAsync(HttpStatusCode.Forbidden);
        await (await reader.DeleteAsync($"/api/v1/boards/{board}")).ProblemAsync(HttpStatusCode.Forbidden);
        await (await stranger.Client.PatchAsJsonAsync($"/api/v1/boards/{board}", new { name = "x" })).ProblemAsync(HttpStatusCode.NotFound);
        await (await stranger.Client.DeleteAsync($"/api/v1/boards/{board}")).ProblemAsync(HttpStatusCode.NotFound);
        Assert.Equal("Renamed", (await JsonAsync(await writer.PatchAsJsonAsync($"/api/v1/boards/{board}", new { name = "Renamed" }))).GetProperty("name").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, (await Host.Anonymous().PatchAsJsonAsync($"/api/v1/boards/{board}", new { name = "x" })).StatusCode);
    }

    [Fact]
    public async Task Deleting_a_board_drops_its_grants_and_publishes_BoardDeleted()
    {
        var owner = await NewOwnerAsync();
        var board = await CreateBoardAsync(owner);
        var member = await JoinAsync(owner, new { board_access = new[] { new { board_id = board, can_write = true } } });
        await JsonAsync(await owner.Client.PostAsJsonAsync("/api/v1/organizations/me/invites",
            new { invited_email = $"{Unique("later")}@example.test", board_access = new[] { new { board_id = board } } }), HttpStatusCode.Created);

        Assert.Equal(HttpStatusCode.OK, (await member.Client.DeleteAsync($"/api/v1/boards/{board}")).StatusCode);

        var (_, deleted) = await Bus.WaitForAsync<BoardDeleted>(e => e.BoardId == board);
        Assert.Equal(owner.OrgId, deleted.OrganizationId);
        await Bus.WaitForAsync<MemberChanged>(e => e.UserId == member.UserId && e.Change == "access");
        Assert.Empty((await RefreshAsync(member)).Principal.Boards);
        Assert.False(await Host.WithDbAsync(db => db.InviteBoardAccess.AnyAsync(a => a.BoardId == board)));
        await (await owner.Client.GetAsync($"/api/v1/boards/{board}")).ProblemAsync(HttpStatusCode.NotFound);
    }
}

[Collection(InfrastructureCollection.Collection)]
public sealed class BoardsApiOnSqliteTests(BrokerFixture broker, OrgsHost host) : BoardsApiTests(broker, host), IClassFixture<OrgsHost>
{
    protected override string NewDatabase() => Databases.NewSqlite();
}

[Collection(InfrastructureCollection.Collection)]
public sealed class BoardsApiOnPostgresTests(BrokerFixture broker, PostgresFixture postgres, OrgsHost host) : BoardsApiTests(broker, host), IClassFixture<OrgsHost>
{
    protected override string NewDatabase() => postgres.ConnectionStringForNewDatabase("orgs");
}
