using System.Net;
using System.Net.Http.Json;
using MissionControl.Contracts.Orgs;
using MissionControl.Contracts.Tasks;
using MissionControl.InternalAuth;
using MissionControl.Orgs.Tests.Infrastructure;

namespace MissionControl.Orgs.Tests;

public abstract class TagsApiTests(BrokerFixture broker, OrgsHost host) : OrgsTestBase(broker, host)
{
    private const string Tags = "/api/v1/tags";

    private static async Task<Guid> CreateTagAsync(Actor admin, string name) =>
        IdOf(await JsonAsync(await admin.Client.PostAsJsonAsync(Tags, new { name }), HttpStatusCode.Created));

    [Fact]
    public async Task An_admin_creates_a_tag_with_a_slug_and_a_normalized_color()
    {
        var owner = await NewOwnerAsync();

        var tag = await JsonAsync(await owner.Client.PostAsJsonAsync(Tags, new { name = "Needs Review", color = "#FFAA00", description = "d" }), HttpStatusCode.Created);
        var plain = await JsonAsync(await owner.Client.PostAsJsonAsync(Tags, new { name = "Plain", slug = "My Slug" }), HttpStatusCode.Created);

        Assert.Equal("needs-review", tag.GetProperty("slug").GetString());
        Assert.Equal("ffaa00", tag.GetProperty("color").GetString());
        Assert.Equal(0, tag.GetProperty("task_count").GetInt32());
        Assert.Equal("my-slug", plain.GetProperty("slug").GetString());
        Assert.Equal("9e9e9e", plain.GetProperty("color").GetString());
        var (_, changed) = await Bus.WaitForAsync<TagChanged>(e => e.Tag.Id == IdOf(tag));
        Assert.Equal("ffaa00", changed.Tag.Color);
        Assert.Equal(owner.OrgId, changed.OrganizationId);
        var page = await JsonAsync(await owner.Client.GetAsync(Tags));
        Assert.Equal(["Needs Review", "Plain"], page.GetProperty("items").EnumerateArray().Select(t => t.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task Tags_need_an_admin_a_name_a_color_and_a_free_slug()
    {
        var owner = await NewOwnerAsync();
        var member = Host.ClientFor(TestTokens.Member(owner.OrgId));
        await CreateTagAsync(owner, "Bug");

        await (await member.PostAsJsonAsync(Tags, new { name = "x" })).ProblemAsync(HttpStatusCode.Forbidden);
        var duplicate = await (await owner.Client.PostAsJsonAsync(Tags, new { name = "BUG!" })).ProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal("tag_slug_taken", duplicate.GetProperty("code").GetString());
        var invalid = await (await owner.Client.PostAsJsonAsync(Tags, new { name = " ", color = "red" })).ProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal(["color", "name"], invalid.GetProperty("errors").EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal(HttpStatusCode.OK, (await member.GetAsync(Tags)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Host.Anonymous().GetAsync(Tags)).StatusCode);
    }

    [Fact]
    public async Task A_tag_is_read_changed_and_deleted_inside_its_organization()
    {
        var owner = await NewOwnerAsync();
        var stranger = await NewOwnerAsync();
        var tag = await CreateTagAsync(owner, "Old");
        await CreateTagAsync(owner, "Taken");

        var patched = await JsonAsync(await owner.Client.PatchAsJsonAsync($"{Tags}/{tag}", new { name = "New", color = "00FF00" }));

        Assert.Equal("New", patched.GetProperty("name").GetString());
        Assert.Equal("old", patched.GetProperty("slug").GetString());
        Assert.Equal("00ff00", patched.GetProperty("color").GetString());
        await Bus.WaitForAsync<TagChanged>(e => e.Tag.Id == tag && e.Tag.Name == "New");
        var empty = await (await owner.Client.PatchAsJsonAsync($"{Tags}/{tag}", new { })).ProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal("empty_update", empty.GetProperty("code").GetString());
        await (await owner.Client.PatchAsJsonAsync($"{Tags}/{tag}", new { slug = "taken" })).ProblemAsync(HttpStatusCode.Conflict);
        await (await stranger.Client.GetAsync($"{Tags}/{tag}")).ProblemAsync(HttpStatusCode.NotFound);
        await (await stranger.Client.PatchAsJsonAsync($"{Tags}/{tag}", new { name = "x" })).ProblemAsync(HttpStatusCode.NotFound);
        await (await stranger.Client.DeleteAsync($"{Tags}/{tag}")).ProblemAsync(HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.OK, (await owner.Client.DeleteAsync($"{Tags}/{tag}")).StatusCode);
        await Bus.WaitForAsync<TagDeleted>(e => e.TagId == tag);
        await (await owner.Client.GetAsync($"{Tags}/{tag}")).ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Task_counts_follow_the_tasks_services_events()
    {
        var owner = await NewOwnerAsync();
        var board = await CreateBoardAsync(owner);
        var (bug, ui) = (await CreateTagAsync(owner, "Bug"), await CreateTagAsync(owner, "UI"));
        var foreignTag = await CreateTagAsync(await NewOwnerAsync(), "Foreign");
        var (first, second) = (Guid.NewGuid(), Guid.NewGuid());
        var t0 = DateTimeOffset.UtcNow;

        await Bus.PublishAsync(Tagged(owner.OrgId, board, first, t0, bug, ui, foreignTag));
        await Bus.PublishAsync(Tagged(owner.OrgId, board, second, t0, bug));
        await WaitForCountsAsync(owner, (bug, 2), (ui, 1));
        await Bus.PublishAsync(Tagged(owner.OrgId, board, first, t0.AddSeconds(2), ui));
        await WaitForCountsAsync(owner, (bug, 1), (ui, 1));
        // A late, older change changes nothing; a redelivered event counts once; a deleted task has no tags.
        await Bus.PublishAsync(Tagged(owner.OrgId, board, first, t0.AddSeconds(1), bug));
        var deleted = Guid.NewGuid();
        await Bus.PublishAsync(Tagged(owner.OrgId, board, second, t0.AddSeconds(3)), deleted);
        await Bus.PublishAsync(Tagged(owner.OrgId, board, second, t0.AddSeconds(3)), deleted);
        await WaitForCountsAsync(owner, (bug, 0), (ui, 1));
        Assert.Equal(0, (await JsonAsync(await (await NewOwnerAsync()).Client.GetAsync(Tags))).GetProperty("total").GetInt32());
    }

    private async Task WaitForCountsAsync(Actor owner, params (Guid Tag, int Count)[] expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var counts = (await JsonAsync(await owner.Client.GetAsync(Tags))).GetProperty("items").EnumerateArray()
                .ToDictionary(IdOf, t => t.GetProperty("task_count").GetInt32());
            if (expected.All(e => counts[e.Tag] == e.Count)) return;
            Assert.True(DateTime.UtcNow < deadline, $"task counts {string.Join(", ", counts)} never matched");
            await Task.Delay(50);
        }
    }

    private static TaskTagsChanged Tagged(Guid org, Guid board, Guid task, DateTimeOffset at, params Guid[] tags) => new()
    {
        OrganizationId = org, BoardId = board, TaskId = task, TagIds = tags, TaskUpdatedAt = at, OccurredAt = at,
    };
}

[Collection(InfrastructureCollection.Collection)]
public sealed class TagsApiOnSqliteTests(BrokerFixture broker, OrgsHost host) : TagsApiTests(broker, host), IClassFixture<OrgsHost>
{
    protected override string NewDatabase() => Databases.NewSqlite();
}

[Collection(InfrastructureCollection.Collection)]
public sealed class TagsApiOnPostgresTests(BrokerFixture broker, PostgresFixture postgres, OrgsHost host) : TagsApiTests(broker, host), IClassFixture<OrgsHost>
{
    protected override string NewDatabase() => postgres.ConnectionStringForNewDatabase("orgs");
}
