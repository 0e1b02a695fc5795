using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace MissionControl.Edge.OpenApi;

/// <summary>
/// What agents read in the document (reference §0): the role tags agent-lead / agent-worker / agent-main
/// that they filter operations by, and the x-* guidance on each operation. Derived from the route and the
/// roles of reference §2.9, so a new route is tagged without anyone remembering to.
/// </summary>
public static partial class AgentGuidance
{
    public const string Lead = "agent-lead";
    public const string Worker = "agent-worker";
    public const string Main = "agent-main";

    public static readonly (string Name, string Description)[] RoleTags =
    [
        (Lead, "Operations a board's lead agent may call with its token."),
        (Worker, "Operations a board's worker agent may call with its token."),
        (Main, "Operations the gateway-main agent may call with its token."),
    ];

    private const string Id = "[^/]+";

    // (method or *, path pattern, roles): first match wins. Paths are the document's templates.
    private static readonly (string Method, Regex Path, string[] Roles)[] Rules =
    [
        ("*", Route("/api/v1/agent/gateway/.*"), [Main]),
        ("POST", Route("/api/v1/agent/agents"), [Lead]),
        ("*", Route("/api/v1/agent/(healthz|heartbeat|boards|agents)"), [Lead, Worker, Main]),
        ("GET", Route($"/api/v1/agent/boards/{Id}"), [Lead, Worker, Main]),
        ("POST", Route($"/api/v1/agent/boards/{Id}/tasks"), [Lead]),
        ("DELETE", Route($"/api/v1/agent/boards/{Id}/tasks/{Id}"), [Lead]),
        ("POST", Route($"/api/v1/agent/boards/{Id}/agents/{Id}/nudge"), [Lead]),
        ("PUT", Route($"/api/v1/agent/boards/{Id}/agents/{Id}/soul"), [Lead]),
        ("DELETE", Route($"/api/v1/agent/boards/{Id}/agents/{Id}"), [Lead]),
        ("POST", Route($"/api/v1/agent/boards/{Id}/gateway/main/ask-user"), [Lead]),
        ("*", Route("/api/v1/agent/.*"), [Lead, Worker]),
        // User routes agents may also call (reference §2.9, last paragraph).
        ("POST", Route($"/api/v1/board-groups/{Id}/heartbeat"), [Lead]),
        ("GET", Route($"/api/v1/boards/{Id}/(snapshot|group-snapshot|group-memory(/stream)?|memory/stream|approvals/stream|tasks/stream)"), [Lead, Worker]),
        ("*", Route("/api/v1/agents/heartbeat"), [Lead, Worker]),
        ("GET", Route("/api/v1/activity"), [Lead, Worker]),
        // Custom agents (issue 9): pull work and report with their token.
        ("GET", Route("/api/tasks/queue"), [Worker]),
    ];

    private static Regex Route(string pattern) => new("^" + pattern + "$", RegexOptions.Compiled | RegexOptions.CultureInvariant);

    public static IReadOnlyList<string> RolesFor(string method, string path)
    {
        var concrete = PathParameter().Replace(path, "x");
        foreach (var (m, pattern, roles) in Rules)
            if ((m == "*" || m == method) && pattern.IsMatch(concrete)) return roles;
        return [];
    }

    /// <summary>The resource an operation belongs to, as its first tag: "tasks", "boards", "agent", "mission-control", …</summary>
    public static string ResourceTag(string path)
    {
        var segments = path.Trim('/').Split('/');
        var start = segments.Length > 1 && segments[1] == "v1" ? 2 : 1;
        var literals = segments.Skip(start).Where(s => !s.StartsWith('{')).ToList();
        // Board-scoped work is named by what it is, not by the board: /api/v1/boards/{id}/tasks → tasks.
        return literals.Count switch
        {
            0 => "api",
            > 1 when literals[0] is "boards" or "board-groups" => literals[1],
            _ => literals[0],
        };
    }

    /// <summary>A one-line intent from the method and the route: "list tasks", "create comments", "nudge".</summary>
    public static string Intent(string method, string path)
    {
        var segments = path.Trim('/').Split('/');
        var last = segments[^1];
        var isItem = last.StartsWith('{');
        var resource = segments.LastOrDefault(s => !s.StartsWith('{')) ?? "api";
        var owner = segments.Reverse().Skip(isItem ? 1 : 0).Skip(1).FirstOrDefault(s => !s.StartsWith('{'));
        var of = owner is null or "api" or "v1" ? "" : " of " + WithArticle(Singular(owner));
        if (last == "stream") return $"Stream {segments[^2]}{(segments.Length > 3 ? " of " + WithArticle(Singular(segments[^4])) : "")} as server-sent events";
        return (method, isItem) switch
        {
            ("GET", true) => $"Read one {Singular(resource)}{of}",
            ("GET", false) => $"List {resource}{of}",
            ("POST", false) when IsAction(resource) => $"{Capital(resource.Replace('-', ' '))}{of}",
            ("POST", _) => $"Create {Singular(resource)}{of}",
            ("PUT", _) => $"Replace {Singular(resource)}{of}",
            ("PATCH", _) => $"Update {Singular(resource)}{of}",
            ("DELETE", _) => $"Delete {Singular(resource)}{of}",
            _ => $"{method} {path}",
        };
    }

    /// <summary>The reference's per-operation vendor extensions.</summary>
    public static IEnumerable<(string Key, JsonNode Value)> Extensions(string method, string path, bool isPublic)
    {
        var roles = RolesFor(method, path);
        var reads = method is "GET" or "HEAD";
        var actor = isPublic ? "anyone (no credential; the request proves itself, e.g. an HMAC signature)"
            : roles.Count > 0 ? string.Join(" or ", roles) + (path.StartsWith("/api/v1/agent/") ? "" : ", or a user with access to the board")
            : "a user (API key, OIDC token or the admin token) with the organization role the operation needs";
        yield return ("x-llm-intent", Intent(method, path));
        yield return ("x-required-actor", actor);
        yield return ("x-when-to-use", reads
            ? "When you need the current state; prefer the matching /stream for changes over polling."
            : "When you are asked to make this change and your role allows it.");
        yield return ("x-when-not-to-use", reads
            ? "Not in a tight loop: subscribe to a stream instead."
            : "Not to retry a refused change unchanged: read the problem's code (409/403/422) and fix the cause.");
        yield return ("x-prerequisites", path.Contains("{boardId}") || path.Contains("{board_id}")
            ? "The board id (from GET /api/v1/agent/boards or /api/v1/boards) and access to that board."
            : "A valid credential.");
        yield return ("x-side-effects", reads ? "None." : "Changes state and publishes an event to the event log, streams and webhooks.");
        yield return ("x-negative-guidance", roles.Contains(Lead) && !roles.Contains(Worker)
            ? "Workers are refused (403): ask the board lead."
            : "Do not act on another board: agents are refused outside their own board (403 task_board_mismatch).");
        yield return ("x-routing-policy", roles.Count > 0 ? "agent-api" : isPublic ? "public" : "user-api");
        yield return ("x-routing-policy-examples", new JsonArray(JsonValue.Create($"{method} {path}")));
    }

    private static bool IsAction(string segment) => segment is "nudge" or "heartbeat" or "dispatch" or "run" or "review" or "test"
        or "redeliver" or "provision" or "sync" or "bootstrap" or "ask-user" or "message" or "broadcast" or "resolve" or "queue";

    private static string Singular(string resource) => resource.EndsWith("ies") ? resource[..^3] + "y" : resource.TrimEnd('s');

    private static string WithArticle(string noun) => ("aeiou".Contains(noun[0]) ? "an " : "a ") + noun;

    private static string Capital(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];

    [GeneratedRegex(@"\{[^}]+\}")]
    private static partial Regex PathParameter();
}
