using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace MissionControl.EndToEnd.Tests;

/// <summary>
/// orgs, tasks, metrics and the edge as processes on the real broker, configured as the AppHost does; tests
/// talk only to the edge. Extra edge settings (OIDC, the agents address) come from the test.
/// </summary>
public sealed class EdgeSystem : IAsyncDisposable
{
    private readonly SystemProcesses _processes = new();
    public string AdminToken { get; } = "mc_admin_" + Guid.NewGuid().ToString("N");
    public string Edge { get; private set; } = "";
    public string Orgs { get; private set; } = "";
    public string Tasks { get; private set; } = "";
    public string Agents { get; private set; } = "";
    public string Bridge { get; private set; } = "";
    public string Metrics { get; private set; } = "";
    public string WorkDir => _processes.WorkDir;
    public HttpClient Admin { get; private set; } = null!;
    private Dictionary<string, string?> _edgeEnvironment = [];

    /// <param name="agents">Also run the agents service and the gateway-bridge (with their settings), as the AppHost does.</param>
    public static Task<EdgeSystem> StartAsync(
        BrokerFixture broker, IReadOnlyDictionary<string, string?>? edgeSettings = null, IReadOnlyDictionary<string, string?>? agents = null) =>
        StartAsync(broker.ConnectionString, edgeSettings, agents);

    /// <summary>The system on the broker at <paramref name="broker"/> (a test's own, e.g. one it restarts).</summary>
    public static async Task<EdgeSystem> StartAsync(
        string broker, IReadOnlyDictionary<string, string?>? edgeSettings = null, IReadOnlyDictionary<string, string?>? agents = null)
    {
        var system = new EdgeSystem();
        var common = new Dictionary<string, string?>
        {
            ["ConnectionStrings__messaging"] = broker,
            ["InternalAuth__VerificationKey"] = TestTokens.VerificationKey,
        };
        system.Orgs = await system._processes.StartAsync("orgs", "MissionControl.Orgs", new Dictionary<string, string?>(common)
        {
            ["ConnectionStrings__orgsdb"] = $"Data Source={Path.Combine(system.WorkDir, "orgs.db")}",
        });
        system.Tasks = await system._processes.StartAsync("tasks", "MissionControl.Tasks", new Dictionary<string, string?>(common)
        {
            ["ConnectionStrings__tasksdb"] = $"Data Source={Path.Combine(system.WorkDir, "tasks.db")}",
            ["services__orgs__http__0"] = system.Orgs,
        });
        // The event log: every SSE stream at the edge is fed from it.
        system.Metrics = await system._processes.StartAsync("metrics", "MissionControl.Metrics", new Dictionary<string, string?>(common)
        {
            ["ConnectionStrings__metricsdb"] = $"Data Source={Path.Combine(system.WorkDir, "metrics.db")}",
        });
        if (agents is not null)
        {
            var agentsEnvironment = new Dictionary<string, string?>(common)
            {
                ["ConnectionStrings__agentsdb"] = $"Data Source={Path.Combine(system.WorkDir, "agents.db")}",
                ["services__orgs__http__0"] = system.Orgs,
            };
            foreach (var (key, value) in agents) agentsEnvironment[key] = value;
            system.Agents = await system._processes.StartAsync("agents", "MissionControl.Agents", agentsEnvironment);
            system.Bridge = await system._processes.StartAsync("gateway-bridge", "MissionControl.GatewayBridge", new Dictionary<string, string?>(common)
            {
                ["ConnectionStrings__gatewaybridgedb"] = $"Data Source={Path.Combine(system.WorkDir, "gatewaybridge.db")}",
                ["DataProtection__KeysPath"] = Path.Combine(system.WorkDir, "keys", "gateway-bridge"),
                ["GatewayBridge__ReconcileInterval"] = "00:00:01",
            });
        }
        var edge = new Dictionary<string, string?>(common)
        {
            ["InternalAuth__SigningKey"] = TestTokens.SigningKey,
            ["MC_ADMIN_TOKEN"] = system.AdminToken,
            ["services__orgs__http__0"] = system.Orgs,
            ["services__tasks__http__0"] = system.Tasks,
            ["services__metrics__http__0"] = system.Metrics,
            // The tests send thousands of requests from 127.0.0.1, many with bad credentials on purpose:
            // the edge's rate limits are off unless a test sets them (EdgeProtectionTests).
            ["RateLimiting__PerMinute"] = "0",
            ["RateLimiting__AuthFailuresPerMinute"] = "0",
        };
        if (agents is not null)
        {
            edge["services__agents__http__0"] = system.Agents;
            edge["services__gateway-bridge__http__0"] = system.Bridge;
        }
        foreach (var (key, value) in edgeSettings ?? new Dictionary<string, string?>()) edge[key] = value;
        system._edgeEnvironment = edge;
        system.Edge = await system._processes.StartAsync("edge", "MissionControl.Edge", edge);
        system.Admin = system.Client(system.AdminToken);
        return system;
    }

    /// <summary>Another edge instance beside the first (same settings, own port, own event queue); its base URL.</summary>
    public Task<string> StartAnotherEdgeAsync(string name) => _processes.StartAsync(name, "MissionControl.Edge", _edgeEnvironment);

    /// <summary>A client of the edge (or of <paramref name="edge"/>) with a Bearer credential (or none).</summary>
    public HttpClient Client(string? bearer = null, string? edge = null)
    {
        var client = new HttpClient { BaseAddress = new Uri(edge ?? Edge), Timeout = Timeout.InfiniteTimeSpan };
        if (bearer is not null) client.DefaultRequestHeaders.Authorization = new("Bearer", bearer);
        return client;
    }

    public Task KillAsync(string name) => _processes.KillAsync(name);

    /// <summary>Starts a killed process again on its port with its data.</summary>
    public Task RestartAsync(string name) => _processes.RestartAsync(name);

    /// <summary>Every line the named process logged so far.</summary>
    public string Log(string name) => File.ReadAllText(Path.Combine(WorkDir, name + ".log"));

    public static async Task<Guid> CreateAsync(HttpClient client, string path, object body)
    {
        var response = await client.PostAsJsonAsync(path, body);
        if (response.StatusCode != HttpStatusCode.Created)
        {
            var errors = (int)response.StatusCode >= 500 ? "\nlogged errors:\n" + SystemProcesses.LoggedErrors() : "";
            Assert.Fail($"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}{errors}");
        }
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    /// <summary>A new organization (made the caller's active one) with one board.</summary>
    public static async Task<Guid> BoardAsync(HttpClient client)
    {
        await CreateAsync(client, "/api/v1/organizations", new { name = $"Acme {Guid.NewGuid():N}" });
        return await CreateAsync(client, "/api/v1/boards", new { name = "Launch", description = "Ship it" });
    }

    /// <summary>The instance admin makes a user and an API key for it; returns the user id and the key.</summary>
    public async Task<(Guid UserId, string Key, Guid KeyId)> UserWithApiKeyAsync(string name)
    {
        var email = $"{name.ToLowerInvariant()}-{Guid.NewGuid():N}@example.test";
        var user = await CreateAsync(Admin, "/api/v1/users", new { email, name });
        var response = await Admin.PostAsJsonAsync($"/api/v1/users/{user}/api-keys", new { name = $"{name}'s script" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var key = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (user, key.GetProperty("key").GetString()!, key.GetProperty("id").GetGuid());
    }

    /// <summary>Every event of <paramref name="type"/> (e.g. task.*) in the log that the client may see, page by page.</summary>
    public static async Task<List<JsonElement>> EventsAsync(HttpClient client, string type)
    {
        var all = new List<JsonElement>();
        long after = 0;
        while (true)
        {
            var page = await client.GetFromJsonAsync<JsonElement>($"/api/v1/events?type={type}&limit=200&after={after}");
            all.AddRange(page.GetProperty("items").EnumerateArray());
            after = page.GetProperty("next_after").GetInt64();
            if (!page.GetProperty("has_more").GetBoolean()) return all;
        }
    }

    /// <summary>Polls until the condition holds (events, caches) or fails after <paramref name="within"/>.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, TimeSpan within, string what)
    {
        var deadline = DateTime.UtcNow + within;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{what}: not true within {within.TotalSeconds} s");
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Admin?.Dispose();
        await _processes.DisposeAsync();
    }
}
