using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MissionControl.Contracts.Tasks;
using MissionControl.LocalServers;

namespace MissionControl.EndToEnd.Tests;

/// <summary>
/// tasks commits a task while it cannot reach the broker, is killed with SIGKILL before it could
/// publish, and the next tasks process on the same database publishes the event: nothing lost.
/// </summary>
[Collection(SystemCollection.Collection)]
public sealed class OutboxSurvivesKillTests(BrokerFixture broker)
{
    [Fact]
    public async Task A_service_killed_between_its_commit_and_the_publish_loses_no_event()
    {
        await using var system = new SystemProcesses();
        await using var probe = await BusProbe.StartAsync(broker.ConnectionString, typeof(TaskCreated));
        var verification = new Dictionary<string, string?> { ["InternalAuth__VerificationKey"] = TestTokens.VerificationKey };
        var orgs = await system.StartAsync("orgs", "MissionControl.Orgs", new Dictionary<string, string?>(verification)
        {
            ["ConnectionStrings__messaging"] = broker.ConnectionString,
            ["ConnectionStrings__orgsdb"] = $"Data Source={Path.Combine(system.WorkDir, "orgs.db")}",
        });
        var tasksDb = $"Data Source={Path.Combine(system.WorkDir, "tasks.db")}";
        var unreachableBroker = $"amqp://guest:guest@127.0.0.1:{FreePort.Next()}";
        var tasks = await system.StartAsync("tasks", "MissionControl.Tasks", new Dictionary<string, string?>(verification)
        {
            ["ConnectionStrings__messaging"] = unreachableBroker,
            ["ConnectionStrings__tasksdb"] = tasksDb,
            ["services__orgs__http__0"] = orgs,
        }, requireHealthy: false);

        // A user, an organization and a board in orgs (the board reaches tasks over HTTP: no broker).
        using var service = Client(orgs, TestTokens.Service());
        var user = await (await service.PostAsJsonAsync("/internal/v1/principals/resolve", new { external_id = "kill-test" }))
            .Content.ReadFromJsonAsync<JsonElement>();
        var userId = user.GetProperty("user_id").GetGuid();
        using var homeless = Client(orgs, TestTokens.Owner(Guid.Empty, userId) with { OrganizationId = null });
        var org = await IdOf(await homeless.PostAsJsonAsync("/api/v1/organizations", new { name = $"Kill {Guid.NewGuid():N}" }));
        using var owner = Client(orgs, TestTokens.Owner(org, userId));
        var board = await IdOf(await owner.PostAsJsonAsync("/api/v1/boards", new { name = "b", description = "d" }));

        using var toTasks = Client(tasks, TestTokens.Owner(org, userId));
        var task = await IdOf(await toTasks.PostAsJsonAsync($"/api/v1/boards/{board}/tasks", new { title = "must not be lost" }));
        await Task.Delay(500);
        Assert.Empty(probe.Received<TaskCreated>(e => e.Task.Id == task));
        // Alive, but not ready: readiness names the broker as what is missing.
        using var health = await new HttpClient().GetAsync(tasks + "/health");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        var checks = (await health.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("checks");
        Assert.Equal("Healthy", checks.GetProperty("database").GetString());
        Assert.Contains(checks.EnumerateObject(), c => c.Name.Contains("masstransit") && c.Value.GetString() != "Healthy");

        await system.KillAsync("tasks");
        await system.StartAsync("tasks-restarted", "MissionControl.Tasks", new Dictionary<string, string?>(verification)
        {
            ["ConnectionStrings__messaging"] = broker.ConnectionString,
            ["ConnectionStrings__tasksdb"] = tasksDb,
            ["services__orgs__http__0"] = orgs,
        });

        var (_, published) = await probe.WaitForAsync<TaskCreated>(e => e.Task.Id == task, TimeSpan.FromSeconds(30));
        Assert.Equal("must not be lost", published.Task.Title);
        Assert.Equal(board, published.BoardId);
    }

    private static HttpClient Client(string baseUrl, MissionControl.InternalAuth.McPrincipal principal)
    {
        var client = new HttpClient { BaseAddress = new Uri(baseUrl) };
        client.DefaultRequestHeaders.Authorization = new("Bearer", TestTokens.Sign(principal));
        return client;
    }

    private static async Task<Guid> IdOf(HttpResponseMessage response)
    {
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }
}
