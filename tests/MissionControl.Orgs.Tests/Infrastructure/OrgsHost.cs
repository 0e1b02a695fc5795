using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MissionControl.Contracts.Orgs;
using MissionControl.InternalAuth;
using MissionControl.Orgs.Data;

namespace MissionControl.Orgs.Tests.Infrastructure;

/// <summary>
/// One orgs service, with the real broker and a bus probe, shared by the tests of a class (one per
/// database provider); the tests keep out of each other's way by making their own users and organizations.
/// Every log line the service writes, at every level, is captured in <see cref="Logs"/>.
/// </summary>
public sealed class OrgsHost : IAsyncLifetime
{
    public static readonly Type[] ObservedEvents =
    [
        typeof(OrganizationCreated), typeof(OrganizationDeleted), typeof(MemberChanged), typeof(CredentialRevoked),
        typeof(BoardCreated), typeof(BoardUpdated), typeof(BoardDeleted), typeof(BoardGroupChanged), typeof(BoardGroupDeleted),
        typeof(TagChanged), typeof(TagDeleted), typeof(CustomFieldDefinitionChanged), typeof(CustomFieldDefinitionDeleted),
    ];

    private readonly SemaphoreSlim _starting = new(1, 1);
    private ServiceFactory<Program>? _service;
    private WebApplicationFactory<Program>? _factory;

    public BusProbe Bus { get; private set; } = null!;
    public CapturedLogs Logs { get; } = new();
    public string DatabaseConnectionString { get; private set; } = "";

    public async Task StartAsync(string broker, Func<string> newDatabase, IReadOnlyDictionary<string, string?>? settings = null)
    {
        await _starting.WaitAsync();
        try
        {
            if (_factory is not null) return;
            DatabaseConnectionString = newDatabase();
            Bus = await BusProbe.StartAsync(broker, ObservedEvents);
            var all = new Dictionary<string, string?>
            {
                ["ConnectionStrings:messaging"] = broker,
                ["ConnectionStrings:orgsdb"] = DatabaseConnectionString,
            };
            foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) all[key] = value;
            _service = new ServiceFactory<Program>(all);
            _factory = _service.WithWebHostBuilder(b => b.ConfigureLogging(l =>
            {
                l.AddProvider(Logs);
                // A provider's own rule beats the service's category filters: this provider sees everything.
                l.AddFilter<CapturedLogs>(null, LogLevel.Trace);
            }));
            await _factory.CreateClient().WaitHealthyAsync();
        }
        finally
        {
            _starting.Release();
        }
    }

    public HttpClient Anonymous() => _factory!.CreateClient();

    public HttpClient ClientFor(McPrincipal principal)
    {
        var client = _factory!.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", TestTokens.Sign(principal));
        return client;
    }

    /// <summary>The edge, as it calls the internal endpoints.</summary>
    public HttpClient Edge() => ClientFor(TestTokens.Service());

    /// <summary>Runs <paramref name="work"/> against the service's own database.</summary>
    public async Task<T> WithDbAsync<T>(Func<OrgsDbContext, Task<T>> work)
    {
        await using var scope = _factory!.Services.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<OrgsDbContext>());
    }

    public Task WithDbAsync(Func<OrgsDbContext, Task> work) => WithDbAsync(async db =>
    {
        await work(db);
        return true;
    });

    public async Task<ResolvedUser> ResolveAsync(string externalId, string? email = null, string? name = null)
    {
        var response = await Edge().PostAsJsonAsync("/internal/v1/principals/resolve",
            new { external_id = externalId, email, name });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<ResolvedUser>(JsonDefaults.Api))!;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_service is not null) await _service.DisposeAsync();
        if (Bus is not null) await Bus.DisposeAsync();
    }
}
