using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace MissionControl.EndToEnd.Tests;

/// <summary>
/// Two users in two organizations, everything made through the edge with their own API keys. Every
/// read and write of one against the other's ids is 404 (403 where the reference says so), and lists
/// never carry the other's rows.
/// </summary>
[Collection(SystemCollection.Collection)]
public sealed class TenantIsolationTests(BrokerFixture broker) : IAsyncLifetime
{
    private EdgeSystem _system = null!;
    private Tenant _a = null!, _b = null!;

    /// <summary>One organization's things, made by its owner.</summary>
    private sealed record Tenant(
        HttpClient Client, Guid User, Guid KeyId, Guid Org, Guid Member, Guid Group, Guid Board, Guid Tag, Guid Field, Guid Invite,
        Guid Task, Guid Webhook, Guid Approval)
    {
        public IEnumerable<Guid> Ids => [User, KeyId, Org, Member, Group, Board, Tag, Field, Invite, Task, Webhook, Approval];
    }

    public async Task InitializeAsync()
    {
        _system = await EdgeSystem.StartAsync(broker);
        _a = await TenantAsync("Ann");
        _b = await TenantAsync("Ben");
    }

    public async Task DisposeAsync()
    {
        _a.Client.Dispose();
        _b.Client.Dispose();
        await _system.DisposeAsync();
    }

    private async Task<Tenant> TenantAsync(string name)
    {
        var (user, key, keyId) = await _system.UserWithApiKeyAsync(name);
        var c = _system.Client(key);
        var org = await EdgeSystem.CreateAsync(c, "/api/v1/organizations", new { name = $"{name} Co {Guid.NewGuid():N}" });
        var member = (await c.GetFromJsonAsync<JsonElement>("/api/v1/organizations/me/member")).GetProperty("id").GetGuid();
        var group = await EdgeSystem.CreateAsync(c, "/api/v1/board-groups", new { name = $"{name}'s group" });
        var board = await EdgeSystem.CreateAsync(c, "/api/v1/boards", new { name = $"{name}'s board", description = "secret plans", board_group_id = group });
        var tag = await EdgeSystem.CreateAsync(c, "/api/v1/tags", new { name = $"{name} tag" });
        var field = await EdgeSystem.CreateAsync(c, "/api/v1/organizations/me/custom-fields",
            new { field_key = "ticket", label = "Ticket", field_type = "text", board_ids = new[] { board } });
        var invite = await EdgeSystem.CreateAsync(c, "/api/v1/organizations/me/invites", new { invited_email = $"guest-{Guid.NewGuid():N}@example.test" });
        var task = await EdgeSystem.CreateAsync(c, $"/api/v1/boards/{board}/tasks", new { title = $"{name}'s task" });
        var webhook = await EdgeSystem.CreateAsync(c, $"/api/v1/boards/{board}/webhooks", new { description = "hook" });
        var approval = await EdgeSystem.CreateAsync(c, $"/api/v1/boards/{board}/approvals",
            new { action_type = "deploy", task_ids = new[] { task }, confidence = 90, payload = new { reason = "ready" } });
        return new Tenant(c, user, keyId, org, member, group, board, tag, field, invite, task, webhook, approval);
    }

    [Fact]
    public async Task Every_read_and_write_against_the_other_organizations_ids_is_refused()
    {
        var (b, a) = (_b.Client, _a);
        var refusals = new List<(string Call, HttpStatusCode Expected, Func<Task<HttpResponseMessage>> Send)>
        {
            // orgs
            ("GET board", HttpStatusCode.NotFound, () => b.GetAsync($"/api/v1/boards/{a.Board}")),
            ("PATCH board", HttpStatusCode.NotFound, () => b.PatchAsJsonAsync($"/api/v1/boards/{a.Board}", new { name = "mine now" })),
            ("DELETE board", HttpStatusCode.NotFound, () => b.DeleteAsync($"/api/v1/boards/{a.Board}")),
            ("GET group", HttpStatusCode.NotFound, () => b.GetAsync($"/api/v1/board-groups/{a.Group}")),
            ("PATCH group", HttpStatusCode.NotFound, () => b.PatchAsJsonAsync($"/api/v1/board-groups/{a.Group}", new { name = "x" })),
            ("DELETE group", HttpStatusCode.NotFound, () => b.DeleteAsync($"/api/v1/board-groups/{a.Group}")),
            ("GET tag", HttpStatusCode.NotFound, () => b.GetAsync($"/api/v1/tags/{a.Tag}")),
            ("PATCH tag", HttpStatusCode.NotFound, () => b.PatchAsJsonAsync($"/api/v1/tags/{a.Tag}", new { name = "x" })),
            ("DELETE tag", HttpStatusCode.NotFound, () => b.DeleteAsync($"/api/v1/tags/{a.Tag}")),
            ("PATCH custom field", HttpStatusCode.NotFound, () => b.PatchAsJsonAsync($"/api/v1/organizations/me/custom-fields/{a.Field}", new { label = "x" })),
            ("DELETE custom field", HttpStatusCode.NotFound, () => b.DeleteAsync($"/api/v1/organizations/me/custom-fields/{a.Field}")),
            ("GET member", HttpStatusCode.NotFound, () => b.GetAsync($"/api/v1/organizations/me/members/{a.Member}")),
            ("PATCH member", HttpStatusCode.NotFound, () => b.PatchAsJsonAsync($"/api/v1/organizations/me/members/{a.Member}", new { role = "member" })),
            ("PUT member access", HttpStatusCode.NotFound, () => b.PutAsJsonAsync($"/api/v1/organizations/me/members/{a.Member}/access", new { all_boards_read = true })),
            ("DELETE member", HttpStatusCode.NotFound, () => b.DeleteAsync($"/api/v1/organizations/me/members/{a.Member}")),
            ("DELETE invite", HttpStatusCode.NotFound, () => b.DeleteAsync($"/api/v1/organizations/me/invites/{a.Invite}")),
            ("DELETE api key", HttpStatusCode.NotFound, () => b.DeleteAsync($"/api/v1/users/me/api-keys/{a.KeyId}")),
            ("switch to the other org", HttpStatusCode.Forbidden, () => b.PatchAsJsonAsync("/api/v1/organizations/me/active", new { organization_id = a.Org })),
            ("key for another user", HttpStatusCode.Forbidden, () => b.PostAsJsonAsync($"/api/v1/users/{a.User}/api-keys", new { name = "x" })),
            ("list users", HttpStatusCode.Forbidden, () => b.GetAsync("/api/v1/users")),
            ("board in the other's group", HttpStatusCode.UnprocessableEntity, () => b.PostAsJsonAsync("/api/v1/boards", new { name = "x", description = "x", board_group_id = a.Group })),
            ("grant the other's board", HttpStatusCode.UnprocessableEntity, () => b.PutAsJsonAsync($"/api/v1/organizations/me/members/{_b.Member}/access",
                new { board_access = new[] { new { board_id = a.Board, can_read = true, can_write = true } } })),
            ("field on the other's board", HttpStatusCode.UnprocessableEntity, () => b.PostAsJsonAsync("/api/v1/organizations/me/custom-fields",
                new { field_key = "stolen", label = "x", field_type = "text", board_ids = new[] { a.Board } })),
            // tasks
            ("list tasks", HttpStatusCode.NotFound, () => b.GetAsync($"/api/v1/boards/{a.Board}/tasks")),
            ("create task", HttpStatusCode.NotFound, () => b.PostAsJsonAsync($"/api/v1/boards/{a.Board}/tasks", new { title = "x" })),
            ("GET task", HttpStatusCode.NotFound, () => b.GetAsync($"/api/v1/boards/{a.Board}/tasks/{a.Task}")),
            ("GET task on own board", HttpStatusCode.NotFound, () => b.GetAsync($"/api/v1/boards/{_b.Board}/tasks/{a.Task}")),
            ("PATCH task", HttpStatusCode.NotFound, () => b.PatchAsJsonAsync($"/api/v1/boards/{a.Board}/tasks/{a.Task}", new { status = "in_progress" })),
            ("PATCH task on own board", HttpStatusCode.NotFound, () => b.PatchAsJsonAsync($"/api/v1/boards/{_b.Board}/tasks/{a.Task}", new { status = "in_progress" })),
            ("depend on the other's task", HttpStatusCode.NotFound, () => b.PatchAsJsonAsync($"/api/v1/boards/{_b.Board}/tasks/{_b.Task}", new { depends_on_task_ids = new[] { a.Task } })),
            ("tag with the other's tag", HttpStatusCode.UnprocessableEntity, () => b.PatchAsJsonAsync($"/api/v1/boards/{_b.Board}/tasks/{_b.Task}", new { tag_ids = new[] { a.Tag } })),
            ("DELETE task", HttpStatusCode.NotFound, () => b.DeleteAsync($"/api/v1/boards/{a.Board}/tasks/{a.Task}")),
            ("list comments", HttpStatusCode.NotFound, () => b.GetAsync($"/api/v1/boards/{a.Board}/tasks/{a.Task}/comments")),
            ("comment", HttpStatusCode.NotFound, () => b.PostAsJsonAsync($"/api/v1/boards/{a.Board}/tasks/{a.Task}/comments", new { message = "hi" })),
            ("list approvals", HttpStatusCode.NotFound, () => b.GetAsync($"/api/v1/boards/{a.Board}/approvals")),
            ("resolve approval", HttpStatusCode.NotFound, () => b.PatchAsJsonAsync($"/api/v1/boards/{a.Board}/approvals/{a.Approval}", new { status = "approved" })),
            ("approval linking the other's task", HttpStatusCode.NotFound, () => b.PostAsJsonAsync($"/api/v1/boards/{_b.Board}/approvals",
                new { action_type = "x", task_ids = new[] { a.Task }, confidence = 50, payload = new { reason = "x" } })),
            ("memory", HttpStatusCode.NotFound, () => b.GetAsync($"/api/v1/boards/{a.Board}/memory")),
            ("write memory", HttpStatusCode.NotFound, () => b.PostAsJsonAsync($"/api/v1/boards/{a.Board}/memory", new { content = "x" })),
            ("group memory", HttpStatusCode.NotFound, () => b.GetAsync($"/api/v1/board-groups/{a.Group}/memory")),
            ("webhooks", HttpStatusCode.NotFound, () => b.GetAsync($"/api/v1/boards/{a.Board}/webhooks/{a.Webhook}")),
            ("webhook payloads", HttpStatusCode.NotFound, () => b.GetAsync($"/api/v1/boards/{a.Board}/webhooks/{a.Webhook}/payloads")),
            ("onboarding", HttpStatusCode.NotFound, () => b.GetAsync($"/api/v1/boards/{a.Board}/onboarding")),
            ("board snapshot", HttpStatusCode.NotFound, () => b.GetAsync($"/api/v1/boards/{a.Board}/snapshot")),
            ("board's group snapshot", HttpStatusCode.NotFound, () => b.GetAsync($"/api/v1/boards/{a.Board}/group-snapshot")),
            ("group snapshot", HttpStatusCode.NotFound, () => b.GetAsync($"/api/v1/board-groups/{a.Group}/snapshot")),
            // edge streams
            ("task stream", HttpStatusCode.NotFound, () => b.GetAsync($"/api/v1/boards/{a.Board}/tasks/stream", HttpCompletionOption.ResponseHeadersRead)),
            ("approval stream", HttpStatusCode.NotFound, () => b.GetAsync($"/api/v1/boards/{a.Board}/approvals/stream", HttpCompletionOption.ResponseHeadersRead)),
            ("group memory stream", HttpStatusCode.NotFound, () => b.GetAsync($"/api/v1/board-groups/{a.Group}/memory/stream", HttpCompletionOption.ResponseHeadersRead)),
        };

        var wrong = new List<string>();
        foreach (var (call, expected, send) in refusals)
        {
            using var response = await send();
            if (response.StatusCode != expected) wrong.Add($"{call}: {(int)response.StatusCode} (expected {(int)expected}) {await response.Content.ReadAsStringAsync()}");
            else await response.ProblemAsync(expected);
        }
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));

        // And nothing of A's changed.
        var board = await a.Client.GetFromJsonAsync<JsonElement>($"/api/v1/boards/{a.Board}");
        Assert.Equal("Ann's board", board.GetProperty("name").GetString());
        var task = await a.Client.GetFromJsonAsync<JsonElement>($"/api/v1/boards/{a.Board}/tasks/{a.Task}");
        Assert.Equal("inbox", task.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, (await a.Client.GetAsync($"/api/v1/tags/{a.Tag}")).StatusCode);
    }

    [Fact]
    public async Task Lists_never_include_the_other_organizations_rows()
    {
        var lists = new[]
        {
            "/api/v1/boards", "/api/v1/board-groups", "/api/v1/tags", "/api/v1/organizations/me/members", "/api/v1/organizations/me/invites",
            "/api/v1/organizations/me/custom-fields", "/api/v1/organizations/me/list", "/api/v1/users/me/api-keys", "/api/v1/users/me",
            $"/api/v1/boards/{_b.Board}/tasks", $"/api/v1/boards/{_b.Board}/approvals", $"/api/v1/boards/{_b.Board}/memory",
            $"/api/v1/boards/{_b.Board}/snapshot", $"/api/v1/board-groups/{_b.Group}/snapshot", $"/api/v1/boards/{_b.Board}/webhooks",
        };
        foreach (var list in lists)
        {
            var response = await _b.Client.GetAsync(list);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{list}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            var body = await response.Content.ReadAsStringAsync();
            foreach (var id in _a.Ids) Assert.False(body.Contains(id.ToString()), $"{list} shows the other organization's {id}");
        }
        // B's own rows are there (the lists are not just empty).
        Assert.Contains(_b.Board.ToString(), await _b.Client.GetStringAsync("/api/v1/boards"));
        Assert.Contains(_b.Task.ToString(), await _b.Client.GetStringAsync($"/api/v1/boards/{_b.Board}/tasks"));
    }

    [Fact]
    public async Task A_member_sees_a_board_only_once_granted_and_within_2_seconds_of_the_grant()
    {
        var (_, key, _) = await _system.UserWithApiKeyAsync("Newcomer");
        using var newcomer = _system.Client(key);
        var email = (await newcomer.GetFromJsonAsync<JsonElement>("/api/v1/users/me")).GetProperty("email").GetString();
        var invite = await _a.Client.PostAsJsonAsync("/api/v1/organizations/me/invites", new { invited_email = email });
        var token = (await invite.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString();
        var member = (await (await newcomer.PostAsJsonAsync("/api/v1/organizations/invites/accept", new { token })).Content.ReadFromJsonAsync<JsonElement>())
            .GetProperty("id").GetGuid();
        await EdgeSystem.EventuallyAsync(async () => (await newcomer.GetFromJsonAsync<JsonElement>("/api/v1/organizations/me")).GetProperty("id").GetGuid() == _a.Org,
            TimeSpan.FromSeconds(2), "the accepted organization is the active one");

        Assert.DoesNotContain(_a.Board.ToString(), await newcomer.GetStringAsync("/api/v1/boards"));
        Assert.Equal(HttpStatusCode.Forbidden, (await newcomer.GetAsync($"/api/v1/boards/{_a.Board}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await newcomer.GetAsync($"/api/v1/boards/{_a.Board}/snapshot")).StatusCode);
        Assert.NotEqual(HttpStatusCode.OK, (await newcomer.GetAsync($"/api/v1/board-groups/{_a.Group}/snapshot")).StatusCode);
        Assert.DoesNotContain(_a.Group.ToString(), await newcomer.GetStringAsync("/api/v1/board-groups"));

        var grant = await _a.Client.PutAsJsonAsync($"/api/v1/organizations/me/members/{member}/access",
            new { board_access = new[] { new { board_id = _a.Board, can_read = true, can_write = false } } });
        Assert.Equal(HttpStatusCode.OK, grant.StatusCode);
        var granted = DateTime.UtcNow;
        await EdgeSystem.EventuallyAsync(async () => (await newcomer.GetStringAsync("/api/v1/boards")).Contains(_a.Board.ToString()),
            TimeSpan.FromSeconds(2), "the granted board is listed");
        Assert.True(DateTime.UtcNow - granted < TimeSpan.FromSeconds(2));
        Assert.Equal(HttpStatusCode.OK, (await newcomer.GetAsync($"/api/v1/boards/{_a.Board}/snapshot")).StatusCode);
        var group = await newcomer.GetFromJsonAsync<JsonElement>($"/api/v1/board-groups/{_a.Group}/snapshot");
        Assert.Contains(group.GetProperty("boards").EnumerateArray(), e => e.GetProperty("board").GetProperty("id").GetGuid() == _a.Board);
        // Read, not write.
        Assert.Equal(HttpStatusCode.Forbidden, (await newcomer.PostAsJsonAsync($"/api/v1/boards/{_a.Board}/tasks", new { title = "x" })).StatusCode);
    }
}
