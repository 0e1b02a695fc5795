using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using MissionControl.Contracts;
using MissionControl.Contracts.Tasks;
using MissionControl.InternalAuth;

namespace MissionControl.Metrics.Tests;

[CollectionDefinition(Collection)]
public sealed class InfrastructureCollection : ICollectionFixture<BrokerFixture>, ICollectionFixture<PostgresFixture>
{
    public const string Collection = "infrastructure";
}

/// <summary>
/// The metrics service in-process with the real broker. Tests publish integration events the way
/// their owners do and read what metrics made of them through HTTP. Each HTTP test class derives from
/// this and runs once per database provider.
/// </summary>
public abstract class MetricsServiceTest(BrokerFixture broker) : IAsyncLifetime
{
    protected ServiceFactory<Program> Metrics { get; private set; } = null!;
    protected BusProbe Bus { get; private set; } = null!;
    protected string BrokerConnectionString => broker.ConnectionString;
    protected Guid Org { get; } = Guid.NewGuid();
    protected Guid OwnerId { get; } = Guid.NewGuid();

    protected abstract string DatabaseConnectionString();

    /// <summary>Extra service settings for a test class.</summary>
    protected virtual IEnumerable<KeyValuePair<string, string?>> Settings() => [];

    /// <summary>Replaces service registrations for a test class (after the service's own).</summary>
    protected virtual void ConfigureServices(IServiceCollection services) { }

    public async Task InitializeAsync()
    {
        Bus = await BusProbe.StartAsync(broker.ConnectionString);
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:messaging"] = broker.ConnectionString,
            ["ConnectionStrings:metricsdb"] = DatabaseConnectionString(),
        };
        foreach (var (key, value) in Settings()) settings[key] = value;
        _settings = settings;
        Metrics = await StartInstanceAsync();
    }

    private Dictionary<string, string?> _settings = [];

    /// <summary>An instance of the service on the test's database and broker; a second one runs beside the first as --replicas runs them (the caller disposes it).</summary>
    protected async Task<ServiceFactory<Program>> StartInstanceAsync()
    {
        var instance = new ServiceFactory<Program>(_settings, ConfigureServices);
        await instance.CreateClient().WaitHealthyAsync();
        return instance;
    }

    public async Task DisposeAsync()
    {
        await Metrics.DisposeAsync();
        await Bus.DisposeAsync();
        Npgsql.NpgsqlConnection.ClearAllPools();
    }

    protected T Service<T>() where T : notnull => Metrics.Services.GetRequiredService<T>();

    protected HttpClient Owner => Metrics.ClientFor(TestTokens.Owner(Org, OwnerId));

    protected HttpClient Member(params BoardGrant[] grants) => Metrics.ClientFor(TestTokens.Member(Org, grants));

    protected HttpClient Edge => Metrics.ClientFor(TestTokens.Service());

    protected HttpClient AgentClient(Guid agentId, Guid board, string role = AgentRoles.Worker) => Metrics.ClientFor(new McPrincipal
    {
        Kind = PrincipalKind.Agent, Subject = agentId.ToString(), OrganizationId = Org, Role = role, Name = "Agent", AgentBoardId = board,
    });

    /// <summary>Publishes as the owning service would and waits until the log holds it.</summary>
    protected async Task<JsonElement> PublishAndWaitLoggedAsync<T>(T message, Guid? messageId = null) where T : class, IIntegrationEvent
    {
        var id = messageId ?? Guid.NewGuid();
        await Bus.PublishAsync(message, id);
        return await WaitLoggedAsync(id);
    }

    /// <summary>Waits until the event with this message id is in the log, and returns it as /internal/events shows it.</summary>
    protected async Task<JsonElement> WaitLoggedAsync(Guid messageId, Guid? org = null, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            var page = await Edge.GetFromJsonAsync<JsonElement>($"/internal/events?organization_id={org ?? Org}&limit=500");
            foreach (var e in page.GetProperty("items").EnumerateArray())
                if (e.GetProperty("id").GetGuid() == messageId) return e;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Event {messageId} was not logged");
            await Task.Delay(25);
        }
    }

    protected static TaskSnapshot Snapshot(Guid id, Guid board, string status, DateTimeOffset at, string title = "A task", DateTimeOffset? inProgressAt = null) => new()
    {
        Id = id, BoardId = board, Title = title, Status = status, Priority = "medium", CreatedAt = at, UpdatedAt = at, InProgressAt = inProgressAt,
    };

    protected static ActivityInfo Activity(string type, Guid? task, DateTimeOffset at, string? message = null, Guid? agent = null, Guid? user = null) => new()
    {
        Id = Guid.NewGuid(), EventType = type, TaskId = task, CreatedAt = at, Message = message, AgentId = agent, UserId = user,
    };

    protected TaskCreated TaskCreatedEvent(Guid board, Guid task, DateTimeOffset at, string title = "A task") => new()
    {
        OrganizationId = Org, BoardId = board, OccurredAt = at, Task = Snapshot(task, board, "inbox", at, title),
        Activity = Activity("task.created", task, at, $"Task created: {title}.", user: OwnerId),
    };

    protected TaskUpdated StatusChangedEvent(Guid board, Guid task, string from, string to, DateTimeOffset at, string title = "A task",
        DateTimeOffset? inProgressAt = null, Guid? agent = null) => new()
    {
        OrganizationId = Org, BoardId = board, OccurredAt = at, PreviousStatus = from, ChangedFields = ["status"],
        Task = Snapshot(task, board, to, at, title, inProgressAt),
        Activity = Activity("task.status_changed", task, at, $"Task moved to {to}: {title}.", agent, agent is null ? OwnerId : null),
    };
}

/// <summary>A clock a test sets: "now" for everything the service times (the dashboard's windows, logged_at).</summary>
public sealed class TestClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;
    public override DateTimeOffset GetUtcNow() => Now;
}

public abstract class OnSqlite
{
    public static string NewDatabase() => $"Data Source={Path.Combine(Path.GetTempPath(), $"mc-metrics-test-{Guid.NewGuid():N}.db")}";
}
