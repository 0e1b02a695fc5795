using System.Net;
using System.Net.Http.Json;
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

public static class HttpAssertions
{
    /// <summary>Waits for /health to report the database and the bus ready.</summary>
    public static async Task WaitHealthyAsync(this HttpClient client)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        HttpStatusCode last = 0;
        while (DateTime.UtcNow < deadline)
        {
            last = (await client.GetAsync("/health")).StatusCode;
            if (last == HttpStatusCode.OK) return;
            await Task.Delay(100);
        }
        throw new TimeoutException($"Service not healthy after 60 s (last /health answer {last}).");
    }

    public static async Task<System.Text.Json.JsonElement> ProblemAsync(this HttpResponseMessage response, HttpStatusCode expected)
    {
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("detail").GetString()));
        Assert.Equal(response.Headers.GetValues("X-Request-Id").Single(), problem.GetProperty("request_id").GetString());
        return problem;
    }
}
