using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;

namespace MissionControl.Tasks.Tests;

[CollectionDefinition(Collection)]
public sealed class InfrastructureCollection : ICollectionFixture<BrokerFixture>, ICollectionFixture<PostgresFixture>
{
    public const string Collection = "infrastructure";
}

/// <summary>
/// Stands in for orgs: answers GET /api/v1/boards/{id} for the boards a test registers, 404 otherwise,
/// and records which boards tasks asked about.
/// </summary>
public sealed class FakeOrgs : IAsyncDisposable
{
    private readonly WebApplication _app;
    public Dictionary<Guid, object> Boards { get; } = [];
    public List<Guid> Asked { get; } = [];
    public string Url { get; }

    private FakeOrgs(WebApplication app, string url) => (_app, Url) = (app, url);

    public static async Task<FakeOrgs> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        FakeOrgs? fake = null;
        app.MapGet("/api/v1/boards/{id:guid}", (Guid id) =>
        {
            lock (fake!.Asked) fake.Asked.Add(id);
            return fake.Boards.TryGetValue(id, out var board) ? Results.Json(board) : Results.NotFound();
        });
        await app.StartAsync();
        fake = new FakeOrgs(app, app.Urls.First());
        return fake;
    }

    private int _disposed;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) await _app.DisposeAsync();
    }
}
