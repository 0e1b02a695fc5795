using System.Text.Json.Nodes;

namespace MissionControl.Edge.OpenApi;

/// <summary>
/// Builds the one OpenAPI 3.1 document of the whole API from each service's own document and the edge's:
/// only what the edge routes to that service is kept (so the document is the route table as clients see
/// it); schema names that two services use differently are prefixed with the service's name; tags,
/// security and the agent guidance of <see cref="AgentGuidance"/> are added.
/// </summary>
public static class ApiDocumentMerger
{
    public const string EdgeService = "edge";
    public const string ApiVersion = "1.2.0";

    public sealed record Result(JsonObject Document, IReadOnlyList<string> Dropped);

    /// <param name="documents">Each service's document (and the edge's, as <see cref="EdgeService"/>).</param>
    /// <param name="routedTo">Which service the edge forwards a path template to (null: none).</param>
    /// <param name="isPublic">Operations reachable without a credential (method, path).</param>
    public static Result Merge(
        IEnumerable<(string Service, JsonObject Document)> documents, Func<string, string?> routedTo, Func<string, string, bool> isPublic)
    {
        var paths = new JsonObject();
        var schemas = new JsonObject();
        var dropped = new List<string>();
        var ordered = documents.OrderBy(d => d.Service == EdgeService ? 0 : 1).ToList(); // the edge's own routes win
        var edgePaths = ordered.Where(d => d.Service == EdgeService).SelectMany(d => PathsOf(d.Document).Select(p => p.Key)).ToHashSet();

        foreach (var (service, source) in ordered)
        {
            var document = (JsonObject)source.DeepClone();
            RenameCollidingSchemas(document, service, schemas);
            if (document["components"]?["schemas"] is JsonObject own)
                foreach (var (name, schema) in own.ToList())
                    if (!schemas.ContainsKey(name)) schemas[name] = schema!.DeepClone();

            foreach (var (path, item) in PathsOf(document))
            {
                var routed = service == EdgeService || (!edgePaths.Contains(path) && routedTo(path) == service);
                if (!routed)
                {
                    dropped.Add($"{service} {path}");
                    continue;
                }
                var target = paths[path] as JsonObject ?? (JsonObject)(paths[path] = new JsonObject());
                foreach (var (method, operation) in ((JsonObject)item!).ToList())
                {
                    if (operation is not JsonObject op || !IsMethod(method) || target.ContainsKey(method)) continue;
                    Describe(op, method.ToUpperInvariant(), path, service, isPublic(method.ToUpperInvariant(), path));
                    target[method] = op.DeepClone();
                }
            }
        }

        var sortedPaths = new JsonObject();
        foreach (var (path, item) in paths.OrderBy(p => p.Key, StringComparer.Ordinal)) sortedPaths[path] = item!.DeepClone();
        var document1 = new JsonObject
        {
            ["openapi"] = "3.1.1",
            ["info"] = new JsonObject
            {
                ["title"] = "Mission Control API",
                ["version"] = ApiVersion,
                ["description"] = "One document for every route the edge serves: /api/v1 (the OpenClaw Mission Control surface), " +
                                  "the /api dialect of seeds 000/001 and /api/mission-control of seed 002. Agents: filter operations " +
                                  "by the tags agent-lead, agent-worker and agent-main, and read the x-* guidance of each.",
            },
            ["servers"] = new JsonArray(new JsonObject { ["url"] = "/" }),
            ["security"] = new JsonArray(new JsonObject { ["bearer"] = new JsonArray() }, new JsonObject { ["agentToken"] = new JsonArray() }),
            ["tags"] = new JsonArray(
                [.. AgentGuidance.RoleTags.Select(t => (JsonNode)new JsonObject { ["name"] = t.Name, ["description"] = t.Description })]),
            ["paths"] = sortedPaths,
            ["components"] = new JsonObject
            {
                ["schemas"] = schemas,
                ["securitySchemes"] = new JsonObject
                {
                    ["bearer"] = new JsonObject
                    {
                        ["type"] = "http", ["scheme"] = "bearer",
                        ["description"] = "A user's API key (mc_…), the instance admin token, an OIDC access token, or an agent token (mca_…).",
                    },
                    ["agentToken"] = new JsonObject
                    {
                        ["type"] = "apiKey", ["in"] = "header", ["name"] = "X-Agent-Token",
                        ["description"] = "An agent's token (mca_…), as the OpenClaw Mission Control agents send it.",
                    },
                },
            },
        };
        return new Result(document1, dropped);
    }

    private static IEnumerable<KeyValuePair<string, JsonNode?>> PathsOf(JsonObject document) =>
        document["paths"] is JsonObject paths ? paths.ToList() : [];

    private static bool IsMethod(string key) => key is "get" or "put" or "post" or "delete" or "patch" or "head" or "options" or "trace";

    /// <summary>Tags, security and guidance; operation ids are made unique across services.</summary>
    private static void Describe(JsonObject operation, string method, string path, string service, bool isPublic)
    {
        var tags = new JsonArray(JsonValue.Create(AgentGuidance.ResourceTag(path)));
        foreach (var role in AgentGuidance.RolesFor(method, path)) tags.Add(role);
        operation["tags"] = tags;
        if (operation["operationId"] is JsonValue id) operation["operationId"] = $"{service}.{id}";
        operation["summary"] ??= AgentGuidance.Intent(method, path);
        if (isPublic) operation["security"] = new JsonArray();
        foreach (var (key, value) in AgentGuidance.Extensions(method, path, isPublic)) operation[key] = value;
    }

    /// <summary>
    /// A schema this service names like one already merged but defines differently becomes
    /// "{Service}{Name}", with every reference to it in this service's document rewritten.
    /// </summary>
    private static void RenameCollidingSchemas(JsonObject document, string service, JsonObject merged)
    {
        if (document["components"]?["schemas"] is not JsonObject own) return;
        var renames = new Dictionary<string, string>();
        foreach (var (name, schema) in own.ToList())
        {
            if (!merged.TryGetPropertyValue(name, out var existing) || JsonNode.DeepEquals(existing, schema)) continue;
            renames[$"#/components/schemas/{name}"] = $"#/components/schemas/{Pascal(service)}{name}";
            own.Remove(name);
            own[Pascal(service) + name] = schema;
        }
        if (renames.Count > 0) RewriteRefs(document, renames);
    }

    private static void RewriteRefs(JsonNode? node, IReadOnlyDictionary<string, string> renames)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj.ToList())
                {
                    if (key == "$ref" && value is JsonValue v && v.TryGetValue<string>(out var target) && renames.TryGetValue(target, out var renamed))
                        obj[key] = renamed;
                    else RewriteRefs(value, renames);
                }
                break;
            case JsonArray array:
                foreach (var item in array) RewriteRefs(item, renames);
                break;
        }
    }

    private static string Pascal(string service) =>
        string.Concat(service.Split('-', StringSplitOptions.RemoveEmptyEntries).Select(p => char.ToUpperInvariant(p[0]) + p[1..]));
}
