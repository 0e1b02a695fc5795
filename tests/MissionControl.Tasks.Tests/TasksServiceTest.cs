using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MissionControl.Contracts.Agents;
using MissionControl.Contracts.Orgs;
using MissionControl.Contracts.Tasks;
using MissionControl.InternalAuth;
using MissionControl.Tasks.Data;

namespace MissionControl.Tasks.Tests;

/// <summary>
/// The tasks service in-process with the real broker, a stand-in for orgs, and helpers that announce
/// boards, agents, tags and custom fields the way their owners do (events on the bus). Each HTTP test
/// class derives from this and runs once per database provider.
/// </summary>
public abstract class TasksServiceTest(BrokerFixture broker) : IAsyncLifetime
{
    protected ServiceFactory<Program> Tasks { get; private set; } = null!;
    protected BusProbe Bus { get; private set; } = null!;
    protected FakeOrgs Orgs { get; private set; } = null!;
    protected Guid Org { get; } = Guid.NewGuid();
    protected Guid OwnerId { get; } = Guid.NewGuid();

    protected abstract string DatabaseConnectionString();

    /// <summary>Extra service settings for a test class.</summary>
    protected virtual IEnumerable<KeyValuePair<string, string?>> Settings() => [];

    /// <summary>Extra services for a test class (e.g. an EF interceptor).</summary>
    protected virtual void ConfigureServices(IServiceCollection services) { }

    public async Task InitializeAsync()
    {
        Orgs = await FakeOrgs.StartAsync();
        Bus = await BusProbe.StartAsync(broker.ConnectionString, typeof(TaskCreated), typeof(TaskUpdated), typeof(TaskDeleted), typeof(TaskTagsChanged),
            typeof(TaskCommentAdded), typeof(ApprovalChanged), typeof(BoardMemoryAdded), typeof(BoardGroupMemoryAdded),
            typeof(AgentNotificationRequested), typeof(OnboardingMessageRequested), typeof(TaskDispatched));
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:messaging"] = broker.ConnectionString,
            ["ConnectionStrings:tasksdb"] = DatabaseConnectionString(),
            ["services:orgs:http:0"] = Orgs.Url,
        };
        foreach (var (key, value) in Settings()) settings[key] = value;
        Tasks = new ServiceFactory<Program>(settings, ConfigureServices);
        await Tasks.CreateClient().WaitHealthyAsync();
    }

    public async Task DisposeAsync()
    {
        await Tasks.DisposeAsync();
        await Bus.DisposeAsync();
        await Orgs.DisposeAsync();
        // Every test has its own PostgreSQL database, so its idle pooled connections would only pile up
        // until the server refuses new clients.
        Npgsql.NpgsqlConnection.ClearAllPools();
    }

    protected HttpClient Owner => Tasks.ClientFor(TestTokens.Owner(Org, OwnerId) with { Name = "Olivia Owner" });

    protected HttpClient Member(params BoardGrant[] grants) => Tasks.ClientFor(TestTokens.Member(Org, grants));

    protected static McPrincipal AgentPrincipal(Guid org, Guid agentId, Guid? board, string role, string name) => new()
    {
        Kind = PrincipalKind.Agent, Subject = agentId.ToString(), OrganizationId = org, Role = role, Name = name,
        AgentBoardId = role == AgentRoles.Main ? null : board,
    };

    protected HttpClient AgentClient(Guid agentId, Guid board, string role = AgentRoles.Worker, string name = "Worker", Guid? org = null) =>
        Tasks.ClientFor(AgentPrincipal(org ?? Org, agentId, board, role, name));

    protected static BoardCreated BoardCreatedEvent(Guid org, Guid board, string name, BoardRules? rules = null, Guid? group = null, Guid? gateway = null)
    {
        var now = DateTimeOffset.UtcNow;
        return new BoardCreated
        {
            OrganizationId = org, BoardId = board, OccurredAt = now,
            Board = new BoardState
            {
                Id = board, OrganizationId = org, Name = name, Slug = "board", Description = "What the board is for", BoardGroupId = group,
                GatewayId = gateway, Rules = rules ?? new BoardRules(), CreatedAt = now, UpdatedAt = now,
            },
        };
    }

    /// <summary>A board as orgs announces it (default rules: no approval needed, so plain lifecycle tests can reach done).</summary>
    protected async Task<Guid> BoardAsync(BoardRules? rules = null, Guid? org = null, Guid? group = null, Guid? gateway = null, string name = "Board",
        Guid? messageId = null)
    {
        var board = Guid.NewGuid();
        await Bus.PublishAsync(BoardCreatedEvent(org ?? Org, board, name, rules ?? new BoardRules { RequireApprovalForDone = false }, group, gateway), messageId);
        await WaitUntilAsync(db => db.Boards.AnyAsync(b => b.Id == board));
        return board;
    }

    protected async Task<Guid> AgentAsync(Guid? board, string name, bool lead = false, bool main = false, Guid? gateway = null, Guid? org = null,
        string? sessionKey = null)
    {
        var id = Guid.NewGuid();
        var now = DateTimeOffset.UtcNow;
        await Bus.PublishAsync(new AgentCreated
        {
            OrganizationId = org ?? Org, OccurredAt = now,
            Agent = new AgentState
            {
                Id = id, OrganizationId = org ?? Org, BoardId = main ? null : board, GatewayId = gateway, Name = name, Status = "online",
                IsBoardLead = lead, IsGatewayMain = main, SessionKey = sessionKey ?? $"agent:mc-{id}:main", CreatedAt = now, UpdatedAt = now,
            },
        });
        await WaitUntilAsync(db => db.Agents.AnyAsync(a => a.Id == id));
        return id;
    }

    protected async Task<Guid> TagAsync(string name, Guid? org = null)
    {
        var id = Guid.NewGuid();
        await Bus.PublishAsync(new TagChanged
        {
            OrganizationId = org ?? Org, OccurredAt = DateTimeOffset.UtcNow,
            Tag = new TagState { Id = id, OrganizationId = org ?? Org, Name = name, Slug = name.ToLowerInvariant(), Color = "ff0000" },
        });
        await WaitUntilAsync(db => db.Tags.AnyAsync(t => t.Id == id));
        return id;
    }

    protected async Task<Guid> FieldAsync(Guid board, string key, string type, bool required = false, string? regex = null, object? defaultValue = null)
    {
        var id = Guid.NewGuid();
        await Bus.PublishAsync(new CustomFieldDefinitionChanged
        {
            OrganizationId = Org, OccurredAt = DateTimeOffset.UtcNow,
            Definition = new CustomFieldDefinitionState
            {
                Id = id, OrganizationId = Org, FieldKey = key, Label = key, FieldType = type, UiVisibility = "always", ValidationRegex = regex,
                Required = required, DefaultValue = defaultValue is null ? null : JsonSerializer.SerializeToElement(defaultValue), BoardIds = [board],
            },
        });
        await WaitUntilAsync(db => db.CustomFieldBindings.AnyAsync(b => b.DefinitionId == id));
        return id;
    }

    protected async Task<Guid> GroupAsync(string name)
    {
        var id = Guid.NewGuid();
        var now = DateTimeOffset.UtcNow;
        await Bus.PublishAsync(new BoardGroupChanged
        {
            OrganizationId = Org, OccurredAt = now,
            Group = new BoardGroupState { Id = id, OrganizationId = Org, Name = name, Slug = name.ToLowerInvariant(), CreatedAt = now, UpdatedAt = now },
        });
        await WaitUntilAsync(db => db.BoardGroups.AnyAsync(g => g.Id == id));
        return id;
    }

    protected async Task WaitUntilAsync(Func<TasksDbContext, Task<bool>> condition)
    {
        for (var i = 0; i < 300; i++)
        {
            await using var scope = Tasks.Services.CreateAsyncScope();
            if (await condition(scope.ServiceProvider.GetRequiredService<TasksDbContext>())) return;
            await Task.Delay(50);
        }
        throw new TimeoutException("condition not met in 15 s");
    }

    protected async Task<T> QueryAsync<T>(Func<TasksDbContext, Task<T>> query)
    {
        await using var scope = Tasks.Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<TasksDbContext>());
    }

    protected static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    protected static async Task<JsonElement> ReadAsync(HttpResponseMessage response, System.Net.HttpStatusCode expected = System.Net.HttpStatusCode.OK)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>A refusal: the status, and the machine-readable code in the problem body.</summary>
    protected static async Task<JsonElement> RefusedAsync(HttpResponseMessage response, System.Net.HttpStatusCode status, string? code = null)
    {
        var problem = await response.ProblemAsync(status);
        if (code is not null) Assert.Equal(code, problem.TryGetProperty("code", out var c) ? c.GetString() : null);
        return problem;
    }

    protected async Task<JsonElement> CreateTaskAsync(Guid board, object body, HttpClient? client = null) =>
        await ReadAsync(await (client ?? Owner).PostAsJsonAsync($"/api/v1/boards/{board}/tasks", body), System.Net.HttpStatusCode.Created);

    protected static async Task<Guid> CreateTaskIdAsync(HttpClient client, Guid board, object body) =>
        (await ReadAsync(await client.PostAsJsonAsync($"/api/v1/boards/{board}/tasks", body), System.Net.HttpStatusCode.Created)).GetProperty("id").GetGuid();

    protected static Task<HttpResponseMessage> PatchAsync(HttpClient client, Guid board, Guid task, object body, bool agentRoute = false) =>
        client.PatchAsJsonAsync($"/api/v1/{(agentRoute ? "agent/" : "")}boards/{board}/tasks/{task}", body);

    protected static Guid Id(JsonElement e) => e.GetProperty("id").GetGuid();
}
