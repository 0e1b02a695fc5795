using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using MissionControl.Agents.Data;
using MissionControl.Contracts.Agents;
using MissionControl.Contracts.Gateways;
using MissionControl.Contracts.Orgs;
using MissionControl.Contracts.Tasks;
using MissionControl.InternalAuth;
using MissionControl.Messaging;

namespace MissionControl.Agents.Tests;

[CollectionDefinition(Collection)]
public sealed class InfrastructureCollection : ICollectionFixture<BrokerFixture>, ICollectionFixture<PostgresFixture>
{
    public const string Collection = "infrastructure";
}

/// <summary>
/// The agents service in-process with the real broker and a fake clock, plus helpers that play the
/// other services: orgs announcing boards, the gateway-bridge announcing gateways and answering
/// provisioning requests (events on the bus). Each HTTP test class runs once per database provider.
/// </summary>
public abstract class AgentsServiceTest(BrokerFixture broker) : IAsyncLifetime
{
    protected WebApplicationFactory<Program> Agents { get; private set; } = null!;
    protected BusProbe Bus { get; private set; } = null!;
    protected FakeTimeProvider Time { get; } = new(DateTimeOffset.UtcNow);
    protected Guid Org { get; } = Guid.NewGuid();
    protected TestHostResolver Resolver { get; } = new();
    private ServiceFactory<Program>? _factory;

    protected abstract string DatabaseConnectionString();

    public async Task InitializeAsync()
    {
        Bus = await BusProbe.StartAsync(broker.ConnectionString, typeof(AgentCreated), typeof(AgentUpdated), typeof(AgentDeleted),
            typeof(AgentProvisioningRequested), typeof(AgentDeprovisionRequested), typeof(AgentHeartbeat), typeof(AgentNotificationRequested));
        _factory = new ServiceFactory<Program>(new Dictionary<string, string?>
        {
            ["ConnectionStrings:messaging"] = broker.ConnectionString,
            ["ConnectionStrings:agentsdb"] = DatabaseConnectionString(),
            ["Agents:SweepInterval"] = "00:00:00.050",
            ["MissionControl:PublicUrl"] = "https://mc.example.test",
            // Custom agents' callbacks: test receivers listen on 127.0.0.1; 127.0.0.2 stays refused.
            ["Agents:CallbackAllowedHosts"] = "127.0.0.1",
            ["Agents:CallbackRetrySchedule"] = "1s,1s",
            ["Agents:CallbackPollInterval"] = "00:00:00.100",
            ["Agents:CallbackTimeout"] = "00:00:05",
            ["services:orgs:http:0"] = FakeOrgs.Url,
        });
        Agents = _factory.WithWebHostBuilder(b => b.ConfigureTestServices(s =>
        {
            s.AddSingleton<TimeProvider>(Time);
            // Callback host names resolve only to what a test maps (never through real DNS).
            s.AddSingleton<MissionControl.Outbound.IWebhookHostResolver>(Resolver);
        }));
        await Agents.CreateClient().WaitHealthyAsync();
    }

    public async Task DisposeAsync()
    {
        await Agents.DisposeAsync();
        if (_factory is not null) await _factory.DisposeAsync();
        await Bus.DisposeAsync();
        Npgsql.NpgsqlConnection.ClearAllPools();
    }

    protected HttpClient ClientFor(McPrincipal principal)
    {
        var client = Agents.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", TestTokens.Sign(principal));
        return client;
    }

    protected HttpClient Owner => ClientFor(TestTokens.Owner(Org));

    protected HttpClient Edge => ClientFor(TestTokens.Service("edge"));

    protected HttpClient AgentClient(Guid agentId, Guid? board, string role = AgentRoles.Worker, Guid? org = null) => ClientFor(new McPrincipal
    {
        Kind = PrincipalKind.Agent, Subject = agentId.ToString(), OrganizationId = org ?? Org, Role = role, Name = "agent",
        AgentBoardId = role == AgentRoles.Main ? null : board,
    });

    /// <summary>A gateway as the bridge announces it (its main agent follows).</summary>
    protected async Task<Guid> GatewayAsync(Guid? org = null, string name = "Home")
    {
        var id = Guid.NewGuid();
        var now = Time.GetUtcNow();
        await Bus.PublishAsync(new GatewayCreated
        {
            OrganizationId = org ?? Org, OccurredAt = now,
            Gateway = new GatewayState
            {
                Id = id, OrganizationId = org ?? Org, Name = name, Url = "ws://127.0.0.1:18789", WorkspaceRoot = "/srv/openclaw", CreatedAt = now, UpdatedAt = now,
            },
        });
        await WaitUntilAsync(db => db.Agents.AnyAsync(a => a.GatewayId == id && a.IsGatewayMain));
        return id;
    }

    /// <summary>A board as orgs announces it.</summary>
    protected async Task<Guid> BoardAsync(Guid? gateway, int maxAgents = 1, Guid? org = null)
    {
        var id = Guid.NewGuid();
        var now = Time.GetUtcNow();
        await Bus.PublishAsync(new BoardCreated
        {
            OrganizationId = org ?? Org, BoardId = id, OccurredAt = now,
            Board = new BoardState
            {
                Id = id, OrganizationId = org ?? Org, Name = "Launch", Slug = "launch", GatewayId = gateway, Objective = "Ship it",
                Rules = new BoardRules { MaxAgents = maxAgents }, CreatedAt = now, UpdatedAt = now,
            },
        });
        await WaitUntilAsync(db => db.Boards.AnyAsync(b => b.Id == id));
        return id;
    }

    protected async Task<JsonElement> CreateAgentAsync(Guid board, string name, HttpClient? client = null, bool lead = false) =>
        await ReadAsync(await (client ?? Owner).PostAsJsonAsync("/api/v1/agents", new { board_id = board, name, is_board_lead = lead }), HttpStatusCode.Created);

    protected Task<AgentProvisioningRequested> RequestedAsync(Guid agentId, long generation) =>
        Bus.WaitForAsync<AgentProvisioningRequested>(r => r.AgentId == agentId && r.Generation == generation).ContinueWith(t => t.Result.Message);

    /// <summary>The bridge's answer to the given generation; returns the token it "wrote".</summary>
    protected async Task<string> ProvisionAsync(Guid agentId, long generation, bool waitApplied = true)
    {
        var request = await RequestedAsync(agentId, generation);
        var token = AgentTokens.New();
        var id = Guid.NewGuid();
        await Bus.PublishAsync(new AgentProvisioned
        {
            OrganizationId = request.OrganizationId, AgentId = agentId, GatewayId = request.GatewayId, Generation = generation,
            GatewayAgentId = request.GatewayAgentId, SessionKey = request.SessionKey, WorkspacePath = $"/srv/openclaw/workspace-{request.GatewayAgentId}",
            TokenHash = request.IssueToken ? AgentTokens.Hash(token) : null, FilesWritten = [.. request.Files.Keys], OccurredAt = Time.GetUtcNow(),
        }, id);
        if (waitApplied) await ConsumedAsync(id);
        return token;
    }

    protected async Task FailAsync(Guid agentId, long generation, bool retryable, string code = "UNAVAILABLE")
    {
        var request = await RequestedAsync(agentId, generation);
        var id = Guid.NewGuid();
        await Bus.PublishAsync(new AgentProvisioningFailed
        {
            OrganizationId = request.OrganizationId, AgentId = agentId, GatewayId = request.GatewayId, Generation = generation, ErrorCode = code,
            Error = "gateway starting", Retryable = retryable, OccurredAt = Time.GetUtcNow(),
        }, id);
        await ConsumedAsync(id);
    }

    /// <summary>Until the service has handled the message (its inbox row is there).</summary>
    protected Task ConsumedAsync(Guid messageId) => WaitUntilAsync(db => db.Set<InboxMessage>().AnyAsync(m => m.MessageId == messageId));

    protected async Task<Agent> AgentRowAsync(Guid id) => await QueryAsync(db => db.Agents.AsNoTracking().FirstAsync(a => a.Id == id));

    protected async Task<JsonElement> GetAgentAsync(Guid id, HttpClient? client = null) =>
        await ReadAsync(await (client ?? Owner).GetAsync($"/api/v1/agents/{id}"));

    protected async Task WaitUntilAsync(Func<AgentsDbContext, Task<bool>> condition)
    {
        for (var i = 0; i < 300; i++)
        {
            if (await QueryAsync(condition)) return;
            await Task.Delay(50);
        }
        throw new TimeoutException("condition not met in 15 s");
    }

    protected async Task<T> QueryAsync<T>(Func<AgentsDbContext, Task<T>> query)
    {
        await using var scope = Agents.Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<AgentsDbContext>());
    }

    protected static async Task<JsonElement> ReadAsync(HttpResponseMessage response, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    protected static async Task<JsonElement> RefusedAsync(HttpResponseMessage response, HttpStatusCode status, string? code = null)
    {
        var problem = await response.ProblemAsync(status);
        if (code is not null) Assert.Equal(code, problem.TryGetProperty("code", out var c) ? c.GetString() : null);
        return problem;
    }

    protected static Guid Id(JsonElement e) => e.GetProperty("id").GetGuid();

    protected static string Status(JsonElement e) => e.GetProperty("status").GetString()!;
}

/// <summary>Maps test names to addresses; any other name is "not found".</summary>
public sealed class TestHostResolver : MissionControl.Outbound.IWebhookHostResolver
{
    public System.Collections.Concurrent.ConcurrentDictionary<string, IPAddress[]> Names { get; } = new(StringComparer.OrdinalIgnoreCase);

    public Task<IPAddress[]> ResolveAsync(string host, CancellationToken ct) => Names.TryGetValue(host, out var addresses)
        ? Task.FromResult(addresses)
        : throw new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.HostNotFound);
}
