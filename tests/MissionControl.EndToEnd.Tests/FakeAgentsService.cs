using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using MissionControl.InternalAuth;

namespace MissionControl.EndToEnd.Tests;

/// <summary>
/// Stands in for the one lookup the edge makes of the agents service (resolve-token), until the
/// agents service has its own. Refuses callers without a valid edge service token, like a service.
/// </summary>
public sealed class FakeAgentsService : IAsyncDisposable
{
    private static readonly System.Text.Json.JsonSerializerOptions SnakeCase = new(System.Text.Json.JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower,
    };
    private readonly WebApplication _app;
    public ConcurrentDictionary<string, ResolvedAgent> Tokens { get; } = new();
    public ConcurrentBag<string> Lookups { get; } = [];
    public string Url { get; }

    private FakeAgentsService(WebApplication app, string url) => (_app, Url) = (app, url);

    public static async Task<FakeAgentsService> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var validator = new InternalTokenValidator(TestTokens.VerificationKey);
        FakeAgentsService? fake = null;
        app.MapPost("/internal/v1/agents/resolve-token", (HttpRequest request, ResolveAgentTokenRequest body) =>
        {
            if (request.GetBearerToken() is not { } token || validator.Validate(token) is not { Kind: PrincipalKind.Service, Subject: "edge" })
                return Results.Unauthorized();
            fake!.Lookups.Add(body.Token);
            return fake.Tokens.TryGetValue(body.Token, out var agent) ? Results.Json(agent, SnakeCase) : Results.NotFound();
        });
        await app.StartAsync();
        fake = new FakeAgentsService(app, app.Urls.First());
        return fake;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
