using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MissionControl.Agents.Data;
using MissionControl.Agents.Operations;
using MissionControl.Contracts.Agents;
using MissionControl.Contracts.Tasks;
using MissionControl.InternalAuth;

namespace MissionControl.Agents.Tests;

/// <summary>
/// The /api/agents dialect (seed 000/001): custom agents (token once, resolved like any agent token, never
/// provisioned), gateway agents through the usual provisioning, and TaskDispatched pushed to a custom
/// agent's callbackUrl, signed and retried.
/// </summary>
public abstract class CustomAgentsTests(BrokerFixture broker) : AgentsServiceTest(broker)
{
    private async Task<JsonElement> CreateCustomAsync(Guid board, string name, string? callbackUrl = null) =>
        await ReadAsync(await Owner.PostAsJsonAsync("/api/agents", new { name, capabilities = new[] { "code-review", "python" }, boardId = board, callbackUrl }),
            HttpStatusCode.Created);

    [Fact]
    public async Task A_custom_agent_shows_its_token_once_and_the_edge_resolves_it_to_an_agent_of_its_board()
    {
        var board = await BoardAsync(gateway: null);

        var created = await CreateCustomAsync(board, "Reviewer");
        var id = Id(created);
        var token = created.GetProperty("token").GetString()!;
        Assert.StartsWith("mca_", token);
        Assert.StartsWith("mcs_", created.GetProperty("callbackSecret").GetString());
        Assert.Equal("ready", Status(created));
        Assert.Equal("custom", created.GetProperty("runtimeType").GetString());
        Assert.Equal(board, created.GetProperty("boardId").GetGuid());
        Assert.Equal(JsonValueKind.Null, created.GetProperty("gatewayId").ValueKind);
        Assert.Equal(["code-review", "python"], created.GetProperty("capabilities").EnumerateArray().Select(c => c.GetString()));
        Assert.True(created.TryGetProperty("createdAt", out _));

        // Announced like any agent (tasks and metrics keep copies), and never sent to a gateway.
        var announced = (await Bus.WaitForAsync<AgentCreated>(e => e.Agent.Id == id)).Message;
        Assert.True(announced.Agent.IsCustom);
        Assert.Null(announced.Agent.GatewayId);
        Assert.Equal(["code-review", "python"], announced.Agent.Capabilities);

        // The edge resolves the token by its hash: an agent (worker) of the board.
        var resolved = await ReadAsync(await Edge.PostAsJsonAsync("/internal/v1/agents/resolve-token", new { token }));
        Assert.Equal(id, resolved.GetProperty("agent_id").GetGuid());
        Assert.Equal(board, resolved.GetProperty("board_id").GetGuid());
        Assert.False(resolved.GetProperty("is_board_lead").GetBoolean());
        var row = await AgentRowAsync(id);
        Assert.Equal(AgentTokens.Hash(token), row.TokenHash);
        Assert.DoesNotContain(created.GetProperty("callbackSecret").GetString()!, row.CallbackSecret);

        // Reads never show the token or the secret; lists filter and page.
        var read = await ReadAsync(await Owner.GetAsync($"/api/agents/{id}"));
        Assert.Equal("online", Status(read)); // resolving counted as seeing it
        Assert.False(read.TryGetProperty("token", out _));
        Assert.False(read.TryGetProperty("callbackSecret", out _));
        Assert.DoesNotContain(token, read.ToString());
        var list = await ReadAsync(await Owner.GetAsync($"/api/agents?boardId={board}&status=online&limit=10"));
        Assert.Equal(1, list.GetProperty("total").GetInt32());
        Assert.Equal(id, Id(list.GetProperty("agents")[0]));
        Assert.Equal(10, list.GetProperty("limit").GetInt32());
        Assert.DoesNotContain(token, list.ToString());
        Assert.Equal(0, (await ReadAsync(await Owner.GetAsync($"/api/agents?status=offline"))).GetProperty("total").GetInt32());
        await RefusedAsync(await Owner.GetAsync("/api/agents?limit=500"), HttpStatusCode.UnprocessableEntity);

        // Another organization sees nothing of it.
        var stranger = ClientFor(TestTokens.Owner(Guid.NewGuid()));
        await RefusedAsync(await stranger.GetAsync($"/api/agents/{id}"), HttpStatusCode.NotFound);
        Assert.Equal(0, (await ReadAsync(await stranger.GetAsync("/api/agents"))).GetProperty("total").GetInt32());
        await RefusedAsync(await stranger.PatchAsJsonAsync($"/api/agents/{id}", new { role = "x" }), HttpStatusCode.NotFound);

        // Sweeps and updates never start a provisioning run for it.
        var updated = await ReadAsync(await Owner.PatchAsJsonAsync($"/api/agents/{id}", new { role = "reviewer", capabilities = new[] { "go" } }));
        Assert.Equal("reviewer", updated.GetProperty("role").GetString());
        await Bus.WaitForAsync<AgentUpdated>(e => e.Agent.Id == id && e.ChangedFields.Contains("capabilities") && e.Agent.Capabilities.SequenceEqual(["go"]));
        await Task.Delay(300);
        Assert.Empty(Bus.Received<AgentProvisioningRequested>(r => r.AgentId == id));
        Assert.Equal("ready", (await AgentRowAsync(id)).Status);
    }

    [Fact]
    public async Task Without_a_board_a_custom_agent_goes_to_the_organizations_default_board_as_seed_000_creates_it()
    {
        var created = await ReadAsync(await Owner.PostAsJsonAsync("/api/agents", new { name = "Seeded", capabilities = new[] { "review" } }), HttpStatusCode.Created);
        Assert.Equal(FakeOrgs.DefaultBoardOf(Org), created.GetProperty("boardId").GetGuid());
        Assert.Equal("custom", created.GetProperty("runtimeType").GetString());
        Assert.StartsWith("mca_", created.GetProperty("token").GetString());
        Assert.True(await QueryAsync(db => db.Boards.AnyAsync(b => b.Id == FakeOrgs.DefaultBoardOf(Org) && b.OrganizationId == Org)));
        // The same board the next time (from its copy or orgs' same answer).
        var second = await ReadAsync(await Owner.PostAsJsonAsync("/api/agents", new { name = "Seeded 2" }), HttpStatusCode.Created);
        Assert.Equal(FakeOrgs.DefaultBoardOf(Org), second.GetProperty("boardId").GetGuid());
    }

    [Fact]
    public async Task Creation_and_updates_refuse_bad_callback_urls_guarded_addresses_missing_names_and_boards()
    {
        var board = await BoardAsync(gateway: null);
        async Task<JsonElement> Refused(object body, HttpStatusCode status = HttpStatusCode.UnprocessableEntity, string? code = null) =>
            await RefusedAsync(await Owner.PostAsJsonAsync("/api/agents", body), status, code);

        var ftp = await Refused(new { name = "A", boardId = board, callbackUrl = "ftp://127.0.0.1/hook" });
        Assert.True(ftp.GetProperty("errors").TryGetProperty("callbackUrl", out _));
        var guarded = await Refused(new { name = "A", boardId = board, callbackUrl = "http://127.0.0.2:9/hook" });
        Assert.Contains("loopback", guarded.GetProperty("errors").GetProperty("callbackUrl")[0].GetString());
        await Refused(new { name = "A", boardId = board, callbackUrl = "http://metadata.local/hook" });
        Assert.True((await Refused(new { boardId = board })).GetProperty("errors").TryGetProperty("name", out _));
        await Refused(new { name = "A", gatewayId = Guid.NewGuid() }, code: "board_required");
        await Refused(new { name = "A", boardId = Guid.NewGuid() }, HttpStatusCode.NotFound);
        await Refused(new { name = "A", boardId = board, runtimeType = "telepathy" });
        await RefusedAsync(await ClientFor(TestTokens.Member(Org, new BoardGrant(board, true, true))).PostAsJsonAsync("/api/agents", new { name = "A", boardId = board }),
            HttpStatusCode.Forbidden, "admin_only");

        var id = Id(await CreateCustomAsync(board, "Worker", "http://127.0.0.1:9/hook"));
        await Refused(new { name = "worker", boardId = board }, HttpStatusCode.Conflict, "agent_name_taken");
        await RefusedAsync(await Owner.PatchAsJsonAsync($"/api/agents/{id}", new { callbackUrl = "http://127.0.0.2:9/hook" }), HttpStatusCode.UnprocessableEntity);
        var cleared = await ReadAsync(await Owner.PutAsJsonAsync($"/api/agents/{id}", new { callbackUrl = (string?)null }));
        Assert.Equal(JsonValueKind.Null, cleared.GetProperty("callbackUrl").ValueKind);
    }

    [Fact]
    public async Task A_board_on_a_gateway_gets_a_gateway_agent_provisioned_as_usual()
    {
        var gateway = await GatewayAsync();
        var board = await BoardAsync(gateway);

        var response = await Owner.PostAsJsonAsync("/api/agents", new { name = "Builder", capabilities = new[] { "dotnet" }, boardId = board, gatewayId = gateway });
        var created = await ReadAsync(response, HttpStatusCode.Created);
        var id = Id(created);
        Assert.Equal($"/api/agents/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal("provisioning", Status(created));
        Assert.Equal("openclaw", created.GetProperty("runtimeType").GetString());
        Assert.Equal(gateway, created.GetProperty("gatewayId").GetGuid());
        Assert.False(created.TryGetProperty("token", out _));
        Assert.Equal(["dotnet"], (await Bus.WaitForAsync<AgentCreated>(e => e.Agent.Id == id)).Message.Agent.Capabilities);
        await ProvisionAsync(id, 1);
        Assert.Contains(Status(await ReadAsync(await Owner.GetAsync($"/api/agents/{id}"))), new[] { "ready", "online" });

        await RefusedAsync(await Owner.PostAsJsonAsync("/api/agents", new { name = "Caller", boardId = board, callbackUrl = "http://127.0.0.1:9/hook" }),
            HttpStatusCode.UnprocessableEntity);
        await RefusedAsync(await Owner.PostAsJsonAsync("/api/agents", new { name = "Elsewhere", boardId = board, gatewayId = Guid.NewGuid() }),
            HttpStatusCode.UnprocessableEntity, "board_not_on_gateway");
    }

    [Fact]
    public async Task A_dispatched_task_is_posted_signed_to_the_callback_retried_after_a_failure_and_gateway_agents_are_left_to_the_bridge()
    {
        await using var receiver = await CallbackReceiver.StartAsync();
        receiver.FailFirst = 1;
        var gateway = await GatewayAsync();
        var gatewayBoard = await BoardAsync(gateway);
        var gatewayAgent = Id(await CreateAgentAsync(gatewayBoard, "On a gateway"));
        var board = await BoardAsync(gateway: null);
        var created = await CreateCustomAsync(board, "Hooked", receiver.Url + "/hook");
        var agent = Id(created);
        var secret = created.GetProperty("callbackSecret").GetString()!;
        var puller = Id(await CreateCustomAsync(board, "Puller"));

        var task = Guid.NewGuid();
        var dispatched = Guid.NewGuid();
        await Bus.PublishAsync(Dispatched(board, agent, task), dispatched);
        await Bus.PublishAsync(Dispatched(gatewayBoard, gatewayAgent, Guid.NewGuid()));
        await Bus.PublishAsync(Dispatched(board, puller, Guid.NewGuid()));

        // The first attempt gets a 500: pending, retried on the schedule (1s), then delivered.
        await WaitUntilAsync(db => db.CallbackDeliveries.AnyAsync(d => d.AgentId == agent && d.Attempts == 1 && d.LastStatusCode == 500));
        var pending = await QueryAsync(db => db.CallbackDeliveries.AsNoTracking().SingleAsync(d => d.AgentId == agent));
        Assert.Equal("pending", pending.Status);
        Time.Advance(TimeSpan.FromSeconds(2));
        await WaitUntilAsync(db => db.CallbackDeliveries.AnyAsync(d => d.AgentId == agent && d.Status == "delivered"));
        Assert.Equal(2, (await QueryAsync(db => db.CallbackDeliveries.AsNoTracking().SingleAsync(d => d.AgentId == agent))).Attempts);

        var requests = receiver.Received.ToList();
        Assert.Equal(2, requests.Count);
        Assert.Equal(requests[0].Body, requests[1].Body); // the same bytes on every attempt
        var last = requests[1];
        Assert.Equal("task.dispatched", last.Headers["X-MC-Event"]);
        Assert.True(Verify(secret, last.Headers["X-MC-Timestamp"], last.Body, last.Headers["X-MC-Signature"]), "the signature verifies with the callback secret");
        Assert.False(Verify("mcs_wrong", last.Headers["X-MC-Timestamp"], last.Body, last.Headers["X-MC-Signature"]));
        using var body = JsonDocument.Parse(last.Body);
        Assert.Equal(last.Headers["X-MC-Delivery"], body.RootElement.GetProperty("id").GetString());
        Assert.Equal("task.dispatched", body.RootElement.GetProperty("event").GetString());
        var data = body.RootElement.GetProperty("data");
        Assert.Equal(task, data.GetProperty("task").GetProperty("id").GetGuid());
        Assert.Equal("Review PR #42", data.GetProperty("task").GetProperty("title").GetString());
        Assert.Equal("prompt", data.GetProperty("kind").GetString());
        Assert.Equal("Review PR #42\n\nLook at the diff.", data.GetProperty("message").GetString());

        // A gateway agent's task is the bridge's (chat.send), a custom agent with no callbackUrl pulls: nothing queued here.
        await WaitUntilAsync(db => db.Set<MissionControl.Messaging.InboxMessage>().CountAsync(m => m.Consumer == "TaskDispatchedConsumer").ContinueWith(t => t.Result == 3));
        Assert.False(await QueryAsync(db => db.CallbackDeliveries.AnyAsync(d => d.AgentId == gatewayAgent || d.AgentId == puller)));
        Assert.Equal(2, receiver.Received.Count);
    }

    [Fact]
    public async Task Finished_callback_deliveries_older_than_the_retention_are_deleted_and_pending_ones_kept()
    {
        var now = Time.GetUtcNow().UtcDateTime;
        CallbackDelivery Queued(string status, int daysAgo) => new()
        {
            Id = Guid.NewGuid(), OrganizationId = Org, AgentId = Guid.NewGuid(), Event = "task.dispatched", Body = "{}", Status = status,
            CreatedAt = now.AddDays(-daysAgo),
        };
        var gone = new[] { Queued("delivered", 31), Queued("failed", 45), Queued("cancelled", 31) };
        // A pending one stays whatever its age (its next attempt is set far ahead, so the sender leaves it alone here).
        var kept = new[] { Queued("pending", 60), Queued("delivered", 29), Queued("failed", 1) };
        kept[0].NextAttemptAt = now.AddYears(1);
        await QueryAsync(db =>
        {
            db.CallbackDeliveries.AddRange([.. gone, .. kept]);
            return db.SaveChangesAsync();
        });

        var retention = Agents.Services.GetRequiredService<CallbackRetention>();
        Assert.Equal(gone.Length, await retention.SweepAsync(CancellationToken.None));
        var left = await QueryAsync(db => db.CallbackDeliveries.Where(d => d.OrganizationId == Org).Select(d => d.Id).ToListAsync());
        Assert.Equal(kept.Select(d => d.Id).Order(), left.Order());
        Assert.Equal(0, await retention.SweepAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_callback_host_that_resolves_inside_is_refused_at_send_time_and_given_up_after_the_retries()
    {
        // Passes the literal check at creation, then resolves to a refused address (DNS rebinding).
        Resolver.Names["hooks.example.test"] = [IPAddress.Parse("127.0.0.2")];
        var board = await BoardAsync(gateway: null);
        var agent = Id(await CreateCustomAsync(board, "Rebound", "http://hooks.example.test:9/hook"));

        await Bus.PublishAsync(Dispatched(board, agent, Guid.NewGuid()));
        // Time moves on until the retries are spent.
        for (var i = 0; i < 75 && !await QueryAsync(db => db.CallbackDeliveries.AnyAsync(d => d.AgentId == agent && d.Status == "failed")); i++)
        {
            await Task.Delay(200);
            Time.Advance(TimeSpan.FromSeconds(2));
        }
        var failed = await QueryAsync(db => db.CallbackDeliveries.AsNoTracking().SingleAsync(d => d.AgentId == agent));
        Assert.Equal(3, failed.Attempts); // the first try and the schedule's two retries
        Assert.Equal("address_not_allowed", failed.LastError);
        Assert.Null(failed.LastStatusCode);
    }

    [Fact]
    public async Task The_service_document_lists_the_dialect_routes_for_the_edge_to_merge()
    {
        var response = await Agents.CreateClient().GetAsync("/openapi/v1.json");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        var paths = JsonDocument.Parse(text).RootElement.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/api/agents", out var list) && list.TryGetProperty("post", out _) && list.TryGetProperty("get", out _));
        Assert.True(paths.TryGetProperty("/api/agents/{agentId}", out _));
    }

    private TaskDispatched Dispatched(Guid board, Guid agent, Guid task)
    {
        var now = Time.GetUtcNow();
        return new TaskDispatched
        {
            OrganizationId = Org, BoardId = board, AgentId = agent, Kind = "prompt", Message = "Review PR #42\n\nLook at the diff.", OccurredAt = now,
            Task = new TaskSnapshot
            {
                Id = task, BoardId = board, Title = "Review PR #42", Description = "Look at the diff.", Status = "in_progress", Priority = "high",
                AssignedAgentId = agent, CreatedAt = now, UpdatedAt = now,
            },
            Activity = new ActivityInfo { Id = Guid.NewGuid(), EventType = "task.dispatched", TaskId = task, AgentId = agent, CreatedAt = now },
        };
    }

    /// <summary>What the README tells an agent to do: HMAC-SHA256 of "{X-MC-Timestamp}.{raw body}" keyed with the callback secret, compared in constant time.</summary>
    private static bool Verify(string secret, string timestamp, string body, string signature)
    {
        var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}.{body}")));
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(expected), Encoding.UTF8.GetBytes(signature));
    }
}

/// <summary>A custom agent's endpoint: Kestrel on 127.0.0.1, answering 500 to the first FailFirst requests, then 200.</summary>
internal sealed class CallbackReceiver : IAsyncDisposable
{
    public sealed record Request(string Body, IReadOnlyDictionary<string, string> Headers);

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Request> _received = new();

    private CallbackReceiver(WebApplication app) => _app = app;

    public int FailFirst { get; set; }
    public string Url { get; private set; } = "";
    public IReadOnlyList<Request> Received => [.. _received];

    public static async Task<CallbackReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new CallbackReceiver(app);
        app.Run(async http =>
        {
            using var reader = new StreamReader(http.Request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var headers = http.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            receiver._received.Enqueue(new Request(body, headers));
            http.Response.StatusCode = receiver._received.Count <= receiver.FailFirst ? 500 : 200;
        });
        await app.StartAsync();
        receiver.Url = app.Urls.Single().TrimEnd('/');
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

[Collection(InfrastructureCollection.Collection)]
public sealed class CustomAgentsOnSqliteTests(BrokerFixture broker) : CustomAgentsTests(broker)
{
    protected override string DatabaseConnectionString() => $"Data Source={Path.Combine(Path.GetTempPath(), $"mc-agents-test-{Guid.NewGuid():N}.db")}";
}

[Collection(InfrastructureCollection.Collection)]
public sealed class CustomAgentsOnPostgresTests(BrokerFixture broker, PostgresFixture postgres) : CustomAgentsTests(broker)
{
    protected override string DatabaseConnectionString() => postgres.ConnectionStringForNewDatabase("agents");
}
