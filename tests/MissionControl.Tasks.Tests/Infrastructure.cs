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
    public Dictionary<Guid, object> Groups { get; } = [];
    public List<Guid> Asked { get; } = [];
    /// <summary>Each organization's default board (POST /internal/v1/organizations/{id}/default-board), made on first ask.</summary>
    public Dictionary<Guid, Guid> DefaultBoards { get; } = [];
    public int DefaultBoardCalls;
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
        app.MapGet("/api/v1/board-groups/{id:guid}", (Guid id) =>
        {
            lock (fake!.Asked) fake.Asked.Add(id);
            return fake.Groups.TryGetValue(id, out var group) ? Results.Json(group) : Results.NotFound();
        });
        app.MapPost("/internal/v1/organizations/{org:guid}/default-board", (Guid org) =>
        {
            Interlocked.Increment(ref fake!.DefaultBoardCalls);
            lock (fake.DefaultBoards)
            {
                if (!fake.DefaultBoards.TryGetValue(org, out var id)) fake.DefaultBoards[org] = id = Guid.NewGuid();
                return Results.Json(new
                {
                    id, organization_id = org, name = "Default", slug = "default", description = "", board_type = "general",
                    require_approval_for_done = false, require_review_before_done = false, comment_required_for_review = false,
                    block_status_changes_with_pending_approval = false, only_lead_can_change_status = false, max_agents = 1,
                    created_at = DateTime.UtcNow, updated_at = DateTime.UtcNow,
                });
            }
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
