using System.Diagnostics;
using System.Net;
using System.Text.Json;

namespace MissionControl.EndToEnd.Tests;

/// <summary>
/// GET /api/openapi.json through the edge: one OpenAPI 3.1 document of every service, valid against the
/// official schema, listing every route each service serves (each service's own document lists its whole
/// route table, RequestDelegate handlers included), tagged for agents; /api/docs renders it from this edge.
/// </summary>
[Collection(SystemCollection.Collection)]
public sealed class ApiDocumentTests(BrokerFixture broker) : IAsyncLifetime
{
    private EdgeSystem _system = null!;

    public async Task InitializeAsync() => _system = await EdgeSystem.StartAsync(broker, agents: new Dictionary<string, string?>());

    public async Task DisposeAsync() => await _system.DisposeAsync();

    [Fact]
    public async Task The_merged_document_is_public_valid_OpenAPI_3_1_and_lists_every_route_of_every_service()
    {
        using var anonymous = _system.Client();
        var response = await anonymous.GetAsync("/api/openapi.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.TryGetValues("X-MC-Missing-Services", out var missingServices),
            $"a service's document was missing: {string.Join(",", missingServices ?? [])}");
        var json = await response.Content.ReadAsStringAsync();
        var merged = JsonDocument.Parse(json).RootElement;
        Assert.StartsWith("3.1", merged.GetProperty("openapi").GetString());

        var mergedOperations = Operations(merged);
        var services = new Dictionary<string, string>
        {
            ["orgs"] = _system.Orgs, ["tasks"] = _system.Tasks, ["agents"] = _system.Agents,
            ["gateway-bridge"] = _system.Bridge, ["metrics"] = _system.Metrics,
        };
        using var http = new HttpClient();
        var total = 0;
        foreach (var (service, url) in services)
        {
            var own = JsonDocument.Parse(await http.GetStringAsync(url + "/openapi/v1.json")).RootElement;
            var operations = Operations(own);
            Assert.NotEmpty(operations);
            var missing = operations.Except(mergedOperations).ToList();
            Assert.True(missing.Count == 0, $"{service}: not served through the edge (or left out of the document): {string.Join(", ", missing)}");
            total += operations.Count;
        }
        // The edge's own routes: the streams, the seed-001 event stream and this document.
        foreach (var own in new[] { "GET /api/v1/boards/{boardId}/tasks/stream", "GET /api/v1/agents/stream", "GET /api/events", "GET /api/v1/events/stream", "GET /api/openapi.json" })
            Assert.Contains(own, mergedOperations);
        Assert.True(mergedOperations.Count >= total, $"{mergedOperations.Count} operations merged from {total}");

        // Security: a bearer credential everywhere but the public inbound webhook.
        Assert.True(merged.GetProperty("components").GetProperty("securitySchemes").TryGetProperty("bearer", out _));
        var ingest = merged.GetProperty("paths").GetProperty("/api/v1/boards/{boardId}/webhooks/{webhookId}").GetProperty("post");
        Assert.Equal(0, ingest.GetProperty("security").GetArrayLength());

        await ValidateAgainstTheOpenApiSchemaAsync(json);
    }

    [Fact]
    public async Task Agent_operations_carry_their_role_tags_and_guidance()
    {
        var merged = JsonDocument.Parse(await _system.Client().GetStringAsync("/api/openapi.json")).RootElement;
        var paths = merged.GetProperty("paths");

        string[] Tags(string path, string method) =>
            [.. paths.GetProperty(path).GetProperty(method).GetProperty("tags").EnumerateArray().Select(t => t.GetString()!)];

        var create = Tags("/api/v1/agent/boards/{boardId}/tasks", "post");
        Assert.Contains("agent-lead", create);
        Assert.DoesNotContain("agent-worker", create);
        var update = Tags("/api/v1/agent/boards/{boardId}/tasks/{taskId}", "patch");
        Assert.Contains("agent-lead", update);
        Assert.Contains("agent-worker", update);
        Assert.Contains("agent-main", Tags("/api/v1/agent/healthz", "get"));
        Assert.DoesNotContain("agent-worker", Tags("/api/v1/boards", "post"));

        var operation = paths.GetProperty("/api/v1/agent/boards/{boardId}/tasks").GetProperty("post");
        foreach (var extension in new[] { "x-llm-intent", "x-when-to-use", "x-when-not-to-use", "x-required-actor", "x-prerequisites",
                     "x-side-effects", "x-negative-guidance", "x-routing-policy", "x-routing-policy-examples" })
            Assert.True(operation.TryGetProperty(extension, out _), $"{extension} missing");
    }

    [Fact]
    public async Task The_reference_page_is_served_from_the_edge_without_a_credential()
    {
        using var anonymous = _system.Client();
        var page = await anonymous.GetAsync("/api/docs");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.True(html.Contains("openapi.json"), html);
        // Its script comes from this edge, not from a CDN.
        var script = System.Text.RegularExpressions.Regex.Match(html, "<script[^>]+src=\"([^\"]+)\"").Groups[1].Value;
        Assert.False(string.IsNullOrEmpty(script), html[..Math.Min(html.Length, 2000)]);
        Assert.DoesNotContain("://", script);
        var asset = await anonymous.GetAsync(new Uri(new Uri(_system.Edge + "/api/docs/"), script));
        Assert.Equal(HttpStatusCode.OK, asset.StatusCode);
        // Everything else still needs a credential.
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/v1/boards")).StatusCode);
    }

    private static HashSet<string> Operations(JsonElement document) =>
    [
        .. document.GetProperty("paths").EnumerateObject().SelectMany(path => path.Value.EnumerateObject()
            .Where(m => m.Name is "get" or "post" or "put" or "patch" or "delete")
            .Select(m => $"{m.Name.ToUpperInvariant()} {path.Name}")),
    ];

    private static async Task ValidateAgainstTheOpenApiSchemaAsync(string json)
    {
        var dir = Path.Combine(RepoRoot(), "tests", "openapi-validate");
        if (!Directory.Exists(Path.Combine(dir, "node_modules", "@seriousme")))
        {
            var install = await RunAsync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], dir);
            Assert.True(install.ExitCode == 0, $"npm ci in tests/openapi-validate failed:\n{install.Output}");
        }
        var file = Path.Combine(Path.GetTempPath(), $"mc-openapi-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, json);
        try
        {
            var result = await RunAsync("node", ["validate.mjs", file], dir);
            Assert.True(result.ExitCode == 0, $"the document is not valid OpenAPI 3.1:\n{result.Output}");
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string file, string[] args, string dir)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MissionControl.sln"))) return dir.FullName;
        throw new InvalidOperationException("MissionControl.sln not found above " + AppContext.BaseDirectory);
    }
}
