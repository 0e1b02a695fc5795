using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using System.Text.Json.Nodes;
using MissionControl.Edge.OpenApi;
using MissionControl.Edge.Proxy;

namespace MissionControl.UnitTests;

public sealed class ApiDocumentMergerTests
{
    [Theory]
    [InlineData("/api/v1/boards/{boardId}/tasks", "tasks")]
    [InlineData("/api/v1/boards/{boardId}/tasks/{taskId}/comments", "tasks")]
    [InlineData("/api/v1/boards/{boardId}", "orgs")]
    [InlineData("/api/v1/boards", "orgs")]
    [InlineData("/api/v1/agent/boards/{boardId}", "orgs")] // not the tasks catch-all, whose tail may be empty
    [InlineData("/api/v1/agent/boards", "orgs")]
    [InlineData("/api/v1/agent/boards/{boardId}/tasks", "tasks")]
    [InlineData("/api/v1/agent/boards/{boardId}/agents/{agentId}/nudge", "agents")]
    [InlineData("/api/v1/agent/healthz", "agents")]
    [InlineData("/api/v1/gateways/{gatewayId}/templates/sync", "agents")]
    [InlineData("/api/v1/gateways/{gatewayId}", "gateway-bridge")]
    [InlineData("/api/v1/events", "metrics")]
    [InlineData("/api/mission-control/tasks/{taskId}/run", "tasks")]
    [InlineData("/api/mission-control/overview", "tasks")]
    [InlineData("/internal/v1/principals/resolve", null)]
    [InlineData("/api/v1/nothing-here", null)]
    public void A_path_template_goes_where_the_edge_routes_it(string path, string? service) =>
        Assert.Equal(service, ServiceRoutes.ServiceFor(path));

    [Fact]
    public void Merging_keeps_routed_operations_renames_colliding_schemas_and_marks_public_ones()
    {
        var orgs = Document(("/api/v1/boards", "get", "Page"), ("/api/v1/boards/{boardId}/tasks", "get", "Page"));
        var tasks = Document(("/api/v1/boards/{boardId}/tasks", "get", "Page"), ("/api/v1/boards/{boardId}/webhooks/{webhookId}", "post", "Page"));
        ((JsonObject)tasks["components"]!["schemas"]!)["Page"] = new JsonObject { ["type"] = "array" }; // same name, other shape
        var edge = Document(("/api/v1/boards/{boardId}/tasks/stream", "get", null));

        var result = ApiDocumentMerger.Merge(
            [("orgs", orgs), ("tasks", tasks), (ApiDocumentMerger.EdgeService, edge)],
            ServiceRoutes.ServiceFor, (method, path) => method == "POST" && path.Contains("/webhooks/"));
        var paths = result.Document["paths"]!.AsObject();

        Assert.Equal(["/api/v1/boards", "/api/v1/boards/{boardId}/tasks", "/api/v1/boards/{boardId}/tasks/stream", "/api/v1/boards/{boardId}/webhooks/{webhookId}"],
            paths.Select(p => p.Key));
        Assert.Equal(["orgs /api/v1/boards/{boardId}/tasks"], result.Dropped); // orgs does not serve it through the edge
        var schemas = result.Document["components"]!["schemas"]!.AsObject();
        Assert.Equal("object", schemas["Page"]!["type"]!.GetValue<string>());
        Assert.Equal("array", schemas["TasksPage"]!["type"]!.GetValue<string>());
        Assert.Equal("#/components/schemas/TasksPage",
            paths["/api/v1/boards/{boardId}/tasks"]!["get"]!["responses"]!["200"]!["content"]!["application/json"]!["schema"]!["$ref"]!.GetValue<string>());
        Assert.Empty(paths["/api/v1/boards/{boardId}/webhooks/{webhookId}"]!["post"]!["security"]!.AsArray());
        Assert.Null(paths["/api/v1/boards"]!["get"]!["security"]);
        Assert.Equal("tasks.get_/api/v1/boards/{boardId}/tasks", paths["/api/v1/boards/{boardId}/tasks"]!["get"]!["operationId"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("POST", "/api/v1/agent/boards/{boardId}/tasks", "agent-lead")]
    [InlineData("PATCH", "/api/v1/agent/boards/{boardId}/tasks/{taskId}", "agent-lead,agent-worker")]
    [InlineData("POST", "/api/v1/agent/agents", "agent-lead")]
    [InlineData("GET", "/api/v1/agent/agents", "agent-lead,agent-worker,agent-main")]
    [InlineData("POST", "/api/v1/agent/gateway/boards/{boardId}/lead/message", "agent-main")]
    [InlineData("GET", "/api/v1/boards/{boardId}/tasks/stream", "agent-lead,agent-worker")]
    [InlineData("POST", "/api/v1/boards", "")]
    public void Agent_operations_are_tagged_by_the_roles_that_may_call_them(string method, string path, string roles) =>
        Assert.Equal(roles, string.Join(",", AgentGuidance.RolesFor(method, path)));

    [Theory]
    [InlineData("GET", "/api/v1/boards/{boardId}/tasks", "List tasks of a board")]
    [InlineData("GET", "/api/v1/boards/{boardId}/tasks/{taskId}", "Read one task of a board")]
    [InlineData("POST", "/api/v1/agent/boards/{boardId}/agents/{agentId}/nudge", "Nudge of an agent")]
    [InlineData("DELETE", "/api/v1/tags/{tagId}", "Delete tag")]
    public void Intents_are_read_from_the_route(string method, string path, string intent) =>
        Assert.Equal(intent, AgentGuidance.Intent(method, path));

    private static JsonObject Document(params (string Path, string Method, string? Schema)[] operations)
    {
        var paths = new JsonObject();
        foreach (var (path, method, schema) in operations)
        {
            var operation = new JsonObject { ["operationId"] = $"{method}_{path}" };
            if (schema is not null)
                operation["responses"] = new JsonObject
                {
                    ["200"] = new JsonObject
                    {
                        ["description"] = "OK",
                        ["content"] = new JsonObject { ["application/json"] = new JsonObject { ["schema"] = new JsonObject { ["$ref"] = $"#/components/schemas/{schema}" } } },
                    },
                };
            paths[path] = new JsonObject { [method] = operation };
        }
        return new JsonObject
        {
            ["openapi"] = "3.1.1",
            ["paths"] = paths,
            ["components"] = new JsonObject { ["schemas"] = new JsonObject { ["Page"] = new JsonObject { ["type"] = "object" } } },
        };
    }
}

public sealed class ServiceApiDescriptionTests
{
    [Fact]
    public async Task A_service_document_lists_every_public_route_even_RequestDelegate_handlers_and_no_internal_one()
    {
        var builder = Microsoft.AspNetCore.Builder.WebApplication.CreateSlimBuilder();
        builder.Services.AddServiceApiDescription("test");
        await using var app = builder.Build();
        app.MapGet("/api/v1/boards/{boardId:guid}/tasks/stream", (Microsoft.AspNetCore.Http.HttpContext _) => Task.CompletedTask);
        app.MapPost("/api/v1/things/{**rest}", (string rest) => rest);
        app.MapGet("/internal/v1/secret", () => "no");
        app.Urls.Add("http://127.0.0.1:0"); // the route table is complete once the app runs
        await app.StartAsync();

        var document = await app.Services.GetRequiredKeyedService<Microsoft.AspNetCore.OpenApi.IOpenApiDocumentProvider>(
            ServiceApiDescription.DocumentName).GetOpenApiDocumentAsync();

        Assert.Equal(["/api/v1/boards/{boardId}/tasks/stream", "/api/v1/things/{rest}"], document.Paths.Keys.Order());
        var stream = document.Paths["/api/v1/boards/{boardId}/tasks/stream"].Operations![HttpMethod.Get];
        Assert.Equal("boardId", Assert.Single(stream.Parameters!).Name);
        Assert.True(stream.Responses!["200"].Content!.ContainsKey("text/event-stream"));
    }

    [Theory]
    [InlineData("/api/v1/boards/{boardId:guid}/x/{**rest}", "/api/v1/boards/{boardId}/x/{rest}")]
    [InlineData("api/v1/tags/{id?}", "/api/v1/tags/{id}")]
    public void Route_patterns_are_written_as_OpenAPI_templates(string pattern, string template) =>
        Assert.Equal(template, ServiceApiDescription.TemplateOf(pattern));
}
