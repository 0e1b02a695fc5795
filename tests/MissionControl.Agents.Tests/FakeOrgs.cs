using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace MissionControl.Agents.Tests;

/// <summary>
/// orgs as far as agents asks it: POST /internal/v1/organizations/{id}/default-board answers one board per
/// organization (no gateway), the same on every call. Kestrel on 127.0.0.1, one for the test run.
/// </summary>
public static class FakeOrgs
{
    private static readonly ConcurrentDictionary<Guid, Guid> Boards = new();
    private static readonly Lazy<string> Started = new(Start);

    public static string Url => Started.Value;

    public static Guid DefaultBoardOf(Guid organizationId) => Boards.GetOrAdd(organizationId, _ => Guid.NewGuid());

    private static string Start()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapPost("/internal/v1/organizations/{orgId:guid}/default-board", (Guid orgId) => Results.Json(new Dictionary<string, object?>
        {
            ["id"] = DefaultBoardOf(orgId), ["organization_id"] = orgId, ["name"] = "Default", ["description"] = "Tasks created through /api/tasks without a board.",
            ["gateway_id"] = null, ["max_agents"] = 1, ["updated_at"] = DateTimeOffset.UtcNow,
        }));
        app.StartAsync().GetAwaiter().GetResult();
        return app.Urls.Single().TrimEnd('/');
    }
}
