using MissionControl.Testing;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using MissionControl.Contracts.Agents;
using MissionControl.Contracts.Gateways;
using MissionControl.InternalAuth;
using MissionControl.Messaging;
using MissionControl.Metrics.Data;
using MissionControl.Metrics.Webhooks;
using MissionControl.Outbound;

namespace MissionControl.Metrics.Tests;

/// <summary>Outbound webhooks end to end: a real receiver on loopback, events published on the broker.</summary>
public abstract class WebhookTests(BrokerFixture broker) : MetricsServiceTest(broker), IAsyncLifetime
{
    protected WebhookReceiver Receiver { get; private set; } = null!;
    protected FakeHostResolver Resolver { get; } = new();

    protected override IEnumerable<KeyValuePair<string, string?>> Settings() =>
    [
        new("Webhooks:AllowedHosts", "127.0.0.1"),
        new("Webhooks:RetrySchedule", "200ms,400ms,600ms,800ms,1s"),
        new("Webhooks:PollInterval", "100ms"),
        new("Webhooks:KeepDeliveries", "8"),
    ];

    protected override void ConfigureServices(IServiceCollection services) => services.AddSingleton<IWebhookHostResolver>(Resolver);

    async Task IAsyncLifetime.InitializeAsync()
    {
        Receiver = await WebhookReceiver.StartAsync();
        await InitializeAsync();
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        await Receiver.DisposeAsync();
    }

    private async Task<(Guid Id, string Secret)> CreateAsync(string path, params string[] events)
    {
        var response = await Owner.PostAsJsonAsync("/api/v1/webhooks", new { url = Receiver.BaseUrl + path, events, description = "test " + path });
        await response.AssertStatusAsync(HttpStatusCode.Created);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        var secret = json.GetProperty("secret").GetString()!;
        Receiver.Secrets[path] = secret;
        return (json.GetProperty("id").GetGuid(), secret);
    }

    private async Task<JsonElement> GetAsync(Guid id) => await Owner.GetFromJsonAsync<JsonElement>($"/api/v1/webhooks/{id}");

    private async Task<List<JsonElement>> DeliveriesAsync(Guid id) =>
        (await Owner.GetFromJsonAsync<JsonElement>($"/api/v1/webhooks/{id}/deliveries?limit=200")).GetProperty("items").EnumerateArray().ToList();

    private static List<Guid> Ids(IEnumerable<ReceivedWebhook> received) => received.Select(r => r.Json.GetProperty("id").GetGuid()).ToList();

    [Fact]
    public async Task A_deleted_organization_takes_its_webhooks_with_it()
    {
        var (id, _) = await CreateAsync("/gone", "task.*");
        await PublishAndWaitLoggedAsync(new MissionControl.Contracts.Orgs.OrganizationDeleted { OrganizationId = Org, OccurredAt = DateTimeOffset.UtcNow });
        Assert.Equal(HttpStatusCode.NotFound, (await Owner.GetAsync($"/api/v1/webhooks/{id}")).StatusCode);
        Assert.Equal(0, (await Owner.GetFromJsonAsync<JsonElement>("/api/v1/webhooks")).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task A_receiver_that_fails_its_first_attempts_gets_every_event_once_in_order_signed()
    {
        Receiver.Respond = (_, before) => before < 3 ? (500, null) : (200, null);
        var (webhook, _) = await CreateAsync("/hook", "task.*");
        var board = Guid.NewGuid();
        var task = Guid.NewGuid();
        var at = DateTimeOffset.UtcNow;
        var ids = new List<Guid> { Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid() };
        await Bus.PublishAsync(TaskCreatedEvent(board, task, at), ids[0]);
        await Bus.PublishAsync(StatusChangedEvent(board, task, "inbox", "in_progress", at.AddSeconds(1)), ids[1]);
        // Not a task event: never sent to task.*.
        await Bus.PublishAsync(new GatewayConnectionChanged { OrganizationId = Org, GatewayId = Guid.NewGuid(), State = "connected", OccurredAt = at });
        await Bus.PublishAsync(StatusChangedEvent(board, task, "in_progress", "review", at.AddSeconds(2)), ids[2]);
        await Bus.PublishAsync(TaskCreatedEvent(board, Guid.NewGuid(), at.AddSeconds(3)), ids[3]);

        await Eventually.HoldsAsync(() => Receiver.Accepted("/hook").Count >= 4, "four events accepted");
        await Task.Delay(500); // nothing more may arrive
        var accepted = Receiver.Accepted("/hook");
        Assert.Equal(ids, Ids(accepted));
        var all = Receiver.Received("/hook");
        Assert.Equal(7, all.Count);
        Assert.All(all, r =>
        {
            Assert.True(r.SignatureValid);
            Assert.Equal(WebhookSender.UserAgent, r.UserAgent);
            Assert.Equal(r.Json.GetProperty("event").GetString(), r.Event);
            Assert.True(DateTimeOffset.TryParse(r.Json.GetProperty("timestamp").GetString(), out _));
            Assert.True(r.Json.TryGetProperty("data", out _));
        });
        // The first event's three failures and its success are one delivery with the same body.
        Assert.Single(all.Take(4).Select(r => r.DeliveryId).Distinct());
        Assert.Single(all.Take(4).Select(r => r.Body).Distinct());
        Assert.Equal(["task.created", "task.status_changed", "task.status_changed", "task.created"], accepted.Select(r => r.Event));
        Assert.Equal("in_progress", accepted[1].Json.GetProperty("data").GetProperty("task").GetProperty("status").GetString());

        await Eventually.HoldsAsync(async () => (await DeliveriesAsync(webhook)).All(d => d.GetProperty("status").GetString() == "succeeded"), "deliveries settled");
        var deliveries = await DeliveriesAsync(webhook);
        Assert.Equal(4, deliveries.Count);
        var first = deliveries[^1]; // newest first
        Assert.Equal(ids[0], first.GetProperty("event_id").GetGuid());
        Assert.Equal("task.created", first.GetProperty("event_type").GetString());
        Assert.Equal([500, 500, 500, 200], first.GetProperty("attempts").EnumerateArray().Select(a => a.GetProperty("status_code").GetInt32()));
        Assert.Equal(all[0].DeliveryId, first.GetProperty("id").GetString());
        Assert.True(first.GetProperty("seq").GetInt64() < deliveries[0].GetProperty("seq").GetInt64());
        var resource = await GetAsync(webhook);
        Assert.Equal(0, resource.GetProperty("consecutive_failures").GetInt32());
        Assert.True(resource.GetProperty("enabled").GetBoolean());
    }

    [Fact]
    public async Task Only_the_newest_deliveries_are_kept_once_the_worker_is_done()
    {
        var (webhook, _) = await CreateAsync("/many", "task.*");
        var board = Guid.NewGuid();
        var at = DateTimeOffset.UtcNow;
        var ids = Enumerable.Range(0, 12).Select(_ => Guid.NewGuid()).ToList();
        for (var i = 0; i < ids.Count; i++) await Bus.PublishAsync(TaskCreatedEvent(board, Guid.NewGuid(), at.AddSeconds(i)), ids[i]);

        await Eventually.HoldsAsync(() => Receiver.Accepted("/many").Count >= ids.Count, "twelve events accepted");
        Assert.Equal(ids, Ids(Receiver.Accepted("/many")));
        // KeepDeliveries is 8 here: the four oldest go (with their attempts) when the worker runs out of work.
        await Eventually.HoldsAsync(async () => (await DeliveriesAsync(webhook)).Count == 8, "deliveries pruned to the newest 8");
        Assert.Equal(ids[4..].AsEnumerable().Reverse(), (await DeliveriesAsync(webhook)).Select(d => d.GetProperty("event_id").GetGuid()));
    }

    [Fact]
    public async Task A_receiver_down_past_the_schedule_opens_the_circuit_and_enabling_resumes_with_the_held_event()
    {
        var down = true;
        Receiver.Respond = (_, _) => down ? (503, null) : (204, null);
        var (webhook, _) = await CreateAsync("/down", "*");
        var board = Guid.NewGuid();
        var held = Guid.NewGuid();
        var later = Guid.NewGuid();
        await Bus.PublishAsync(TaskCreatedEvent(board, Guid.NewGuid(), DateTimeOffset.UtcNow), held);

        await Eventually.HoldsAsync(async () => (await GetAsync(webhook)).GetProperty("disabled_reason").ValueKind == JsonValueKind.String, "circuit open");
        var resource = await GetAsync(webhook);
        Assert.False(resource.GetProperty("enabled").GetBoolean());
        Assert.Equal("circuit_open", resource.GetProperty("disabled_reason").GetString());
        Assert.Equal(6, resource.GetProperty("consecutive_failures").GetInt32());
        var delivery = Assert.Single(await DeliveriesAsync(webhook));
        Assert.Equal("failed", delivery.GetProperty("status").GetString());
        Assert.Equal(6, delivery.GetProperty("attempt_count").GetInt32());
        Assert.Equal(Enumerable.Repeat(503, 6), delivery.GetProperty("attempts").EnumerateArray().Select(a => a.GetProperty("status_code").GetInt32()));
        Assert.All(delivery.GetProperty("attempts").EnumerateArray(), a => Assert.True(a.GetProperty("latency_ms").GetInt64() >= 0));
        Assert.Equal(JsonValueKind.Null, delivery.GetProperty("next_retry_at").ValueKind);
        Assert.Equal(6, Receiver.Received("/down").Count);

        // WebhookDeliveryFailed went out through the outbox and the broker (the log consumed it).
        var failed = await EventuallyFoundAsync("webhook.delivery_failed");
        Assert.Equal(webhook, failed.GetProperty("data").GetProperty("webhook_id").GetGuid());
        Assert.Equal(held, failed.GetProperty("data").GetProperty("event_id").GetGuid());
        Assert.Equal(6, failed.GetProperty("data").GetProperty("attempts").GetInt32());

        // Held: nothing more is sent while disabled, not even new events.
        await PublishAndWaitLoggedAsync(TaskCreatedEvent(board, Guid.NewGuid(), DateTimeOffset.UtcNow), later);
        await Task.Delay(500);
        Assert.Equal(6, Receiver.Received("/down").Count);

        down = false;
        var enabled = await Owner.PatchAsJsonAsync($"/api/v1/webhooks/{webhook}", new { enabled = true });
        await enabled.AssertStatusAsync(HttpStatusCode.OK);
        var reopened = await enabled.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(JsonValueKind.Null, reopened.GetProperty("disabled_reason").ValueKind);
        Assert.Equal(0, reopened.GetProperty("consecutive_failures").GetInt32());

        await Eventually.HoldsAsync(() => Receiver.Accepted("/down").Count >= 3, "held and later events delivered");
        await Task.Delay(300);
        // The held event first, then what came after it (the failure notice itself is an admin event too).
        var accepted = Ids(Receiver.Accepted("/down"));
        Assert.Equal(held, accepted[0]);
        Assert.Contains(later, accepted);
        Assert.Equal(accepted.Count, accepted.Distinct().Count());
        Assert.True(accepted.IndexOf(later) > 0);
        Assert.True((await GetAsync(webhook)).GetProperty("enabled").GetBoolean());
    }

    private async Task<JsonElement> EventuallyFoundAsync(string type)
    {
        JsonElement found = default;
        await Eventually.HoldsAsync(async () =>
        {
            var page = await Edge.GetFromJsonAsync<JsonElement>($"/internal/events?organization_id={Org}&limit=500");
            foreach (var e in page.GetProperty("items").EnumerateArray())
                if (e.GetProperty("type").GetString() == type)
                {
                    found = e;
                    return true;
                }
            return false;
        }, $"{type} logged");
        return found;
    }

    [Fact]
    public async Task Private_and_local_urls_are_refused_at_creation()
    {
        using var listener = new TcpListener(IPAddress.Parse("127.0.0.2"), 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        foreach (var url in new[]
        {
            $"http://127.0.0.2:{port}/", "http://10.1.2.3/", "http://[::1]/", "http://localhost/", "http://api.localhost/", "http://printer.local/",
            "http://169.254.169.254/latest/meta-data/", "http://100.64.1.1/", "http://192.168.0.10/", "http://[::ffff:10.0.0.1]/", "http://[fd00::1]/",
            "http://0.0.0.0/",
        })
        {
            var response = await Owner.PostAsJsonAsync("/api/v1/webhooks", new { url, events = new[] { "*" } });
            await response.AssertStatusAsync(HttpStatusCode.UnprocessableEntity);
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(WebhooksApi.UrlNotAllowed, problem.GetProperty("code").GetString());
            Assert.True(problem.GetProperty("errors").TryGetProperty("url", out _));
        }
        foreach (var body in new object[]
        {
            new { url = "ftp://example.com/hook", events = new[] { "*" } },
            new { url = "not a url", events = new[] { "*" } },
            new { url = "https://example.com/hook", events = Array.Empty<string>() },
            new { url = "https://example.com/hook", events = new[] { "task*" } },
        })
        {
            var response = await Owner.PostAsJsonAsync("/api/v1/webhooks", body);
            await response.AssertStatusAsync(HttpStatusCode.UnprocessableEntity);
            Assert.True((await response.Content.ReadFromJsonAsync<JsonElement>()).TryGetProperty("errors", out _));
        }
        // PATCH checks the same way.
        var (webhook, _) = await CreateAsync("/ok", "*");
        var patch = await Owner.PatchAsJsonAsync($"/api/v1/webhooks/{webhook}", new { url = "http://10.0.0.1/" });
        await patch.AssertStatusAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal(WebhooksApi.UrlNotAllowed, (await patch.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        Assert.False(listener.Pending());
    }

    [Fact]
    public async Task Names_resolving_to_refused_addresses_and_redirects_to_them_never_connect()
    {
        using var listener = new TcpListener(IPAddress.Parse("127.0.0.2"), 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        Resolver.Names["evil.test"] = [IPAddress.Parse("127.0.0.2")];
        Resolver.Names["receiver.test"] = [IPAddress.Loopback];

        // A name (allowed at creation: it is not an address) that resolves to a refused one.
        var created = await Owner.PostAsJsonAsync("/api/v1/webhooks", new { url = $"http://evil.test:{port}/", events = new[] { "*" } });
        await created.AssertStatusAsync(HttpStatusCode.Created);
        var evil = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        var test = await (await Owner.PostAsync($"/api/v1/webhooks/{evil}/test", null)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("failed", test.GetProperty("status").GetString());
        Assert.Equal("address_not_allowed", test.GetProperty("attempts")[0].GetProperty("error").GetString());

        // The allowed receiver redirects to the refused address: the hop is refused.
        Receiver.Respond = (path, _) => path switch
        {
            "/redirect-evil" => (302, $"http://127.0.0.2:{port}/"),
            "/redirect-evil-name" => (307, $"http://evil.test:{port}/"),
            "/redirect-ok" => (308, "/final"),
            _ => (200, null),
        };
        foreach (var path in new[] { "/redirect-evil", "/redirect-evil-name" })
        {
            var (id, _) = await CreateAsync(path, "*");
            var outcome = await (await Owner.PostAsync($"/api/v1/webhooks/{id}/test", null)).Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("failed", outcome.GetProperty("status").GetString());
            var attempt = outcome.GetProperty("attempts")[0];
            Assert.Equal("address_not_allowed", attempt.GetProperty("error").GetString());
            Assert.Equal((int)Receiver.Respond(path, 0).Status, attempt.GetProperty("status_code").GetInt32());
            Assert.Single(Receiver.Received(path));
        }

        // A redirect to an allowed place is followed (and a name resolving to an allowed address works).
        var ok = await Owner.PostAsJsonAsync("/api/v1/webhooks", new { url = $"http://receiver.test:{Receiver.Port}/redirect-ok", events = new[] { "*" } });
        await ok.AssertStatusAsync(HttpStatusCode.Created);
        var okJson = await ok.Content.ReadFromJsonAsync<JsonElement>();
        Receiver.Secrets["/final"] = okJson.GetProperty("secret").GetString()!;
        var followed = await (await Owner.PostAsync($"/api/v1/webhooks/{okJson.GetProperty("id").GetGuid()}/test", null)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("succeeded", followed.GetProperty("status").GetString());
        Assert.True(Assert.Single(Receiver.Received("/final")).SignatureValid);

        // Nothing ever connected to 127.0.0.2.
        await Task.Delay(200);
        Assert.False(listener.Pending());
    }

    [Fact]
    public async Task Only_admins_of_the_organization_manage_webhooks_and_the_secret_is_shown_once()
    {
        var create = await Owner.PostAsJsonAsync("/api/v1/webhooks", new { url = Receiver.BaseUrl + "/perm", events = new[] { "task.*" } });
        await create.AssertStatusAsync(HttpStatusCode.Created);
        var created = await create.Content.ReadFromJsonAsync<JsonElement>();
        var id = created.GetProperty("id").GetGuid();
        var secret = created.GetProperty("secret").GetString()!;
        Assert.Matches("^[0-9a-f]{64}$", secret);
        Assert.Equal(["task.*"], created.GetProperty("events").EnumerateArray().Select(e => e.GetString()));

        var member = Member(new BoardGrant(Guid.NewGuid(), true, true));
        var agent = AgentClient(Guid.NewGuid(), Guid.NewGuid(), AgentRoles.Lead);
        foreach (var client in new[] { member, agent })
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/api/v1/webhooks")).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync($"/api/v1/webhooks/{id}")).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden,
                (await client.PostAsJsonAsync("/api/v1/webhooks", new { url = "https://example.com/", events = new[] { "*" } })).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await client.DeleteAsync($"/api/v1/webhooks/{id}")).StatusCode);
        }

        var stranger = Metrics.ClientFor(TestTokens.Owner(Guid.NewGuid()));
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/api/v1/webhooks/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.PatchAsJsonAsync($"/api/v1/webhooks/{id}", new { enabled = false })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/api/v1/webhooks/{id}/deliveries")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.PostAsync($"/api/v1/webhooks/{id}/test", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.DeleteAsync($"/api/v1/webhooks/{id}")).StatusCode);
        Assert.Equal(0, (await stranger.GetFromJsonAsync<JsonElement>("/api/v1/webhooks")).GetProperty("total").GetInt32());
        Assert.Equal(HttpStatusCode.NotFound, (await Owner.GetAsync($"/api/v1/webhooks/{Guid.NewGuid()}")).StatusCode);

        // The secret never appears again.
        var patched = await Owner.PatchAsJsonAsync($"/api/v1/webhooks/{id}", new { description = "renamed", events = new[] { "*" } });
        await patched.AssertStatusAsync(HttpStatusCode.OK);
        foreach (var text in new[]
        {
            await patched.Content.ReadAsStringAsync(),
            await Owner.GetStringAsync($"/api/v1/webhooks/{id}"),
            await Owner.GetStringAsync("/api/v1/webhooks"),
        })
        {
            Assert.DoesNotContain(secret, text);
            Assert.DoesNotContain("\"secret\"", text);
        }
        var list = await Owner.GetFromJsonAsync<JsonElement>("/api/v1/webhooks");
        Assert.Equal(1, list.GetProperty("total").GetInt32());
        Assert.Equal("renamed", list.GetProperty("items")[0].GetProperty("description").GetString());

        // An admin (not only the owner) manages them; deleting removes it.
        var admin = Metrics.ClientFor(TestTokens.Owner(Org) with { Role = Roles.Admin });
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"/api/v1/webhooks/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/webhooks/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Owner.GetAsync($"/api/v1/webhooks/{id}")).StatusCode);
    }

    [Fact]
    public async Task The_test_endpoint_sends_now_and_redeliver_sends_the_same_event_again()
    {
        var (webhook, _) = await CreateAsync("/tr", "task.*");
        var test = await Owner.PostAsync($"/api/v1/webhooks/{webhook}/test", null);
        await test.AssertStatusAsync(HttpStatusCode.OK);
        var outcome = await test.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("succeeded", outcome.GetProperty("status").GetString());
        Assert.Equal("webhook.test", outcome.GetProperty("event_type").GetString());
        Assert.Equal(200, outcome.GetProperty("attempts")[0].GetProperty("status_code").GetInt32());
        var received = Assert.Single(Receiver.Received("/tr"));
        Assert.Equal("webhook.test", received.Event);
        Assert.True(received.SignatureValid);

        // A failing test is not retried.
        Receiver.Respond = (_, _) => (500, null);
        var failing = await (await Owner.PostAsync($"/api/v1/webhooks/{webhook}/test", null)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("failed", failing.GetProperty("status").GetString());
        await Task.Delay(600);
        Assert.Equal(2, Receiver.Received("/tr").Count);
        Assert.Equal(0, (await GetAsync(webhook)).GetProperty("consecutive_failures").GetInt32());
        Receiver.Respond = (_, _) => (200, null);

        var eventId = Guid.NewGuid();
        await Bus.PublishAsync(TaskCreatedEvent(Guid.NewGuid(), Guid.NewGuid(), DateTimeOffset.UtcNow), eventId);
        await Eventually.HoldsAsync(() => Receiver.Accepted("/tr").Any(r => r.Event == "task.created"), "event delivered");
        await Eventually.HoldsAsync(async () => (await DeliveriesAsync(webhook)).Any(d => d.GetProperty("event_id").GetGuid() == eventId
            && d.GetProperty("status").GetString() == "succeeded"), "delivery settled");
        var original = (await DeliveriesAsync(webhook)).Single(d => d.GetProperty("event_id").GetGuid() == eventId);

        var redeliver = await Owner.PostAsync($"/api/v1/webhooks/{webhook}/deliveries/{original.GetProperty("id").GetGuid()}/redeliver", null);
        await redeliver.AssertStatusAsync(HttpStatusCode.Accepted);
        var again = await redeliver.Content.ReadFromJsonAsync<JsonElement>();
        Assert.NotEqual(original.GetProperty("id").GetGuid(), again.GetProperty("id").GetGuid());
        Assert.Equal(eventId, again.GetProperty("event_id").GetGuid());
        await Eventually.HoldsAsync(() => Receiver.Accepted("/tr").Count(r => r.Json.GetProperty("id").GetGuid() == eventId) == 2, "redelivered");
        var both = Receiver.Accepted("/tr").Where(r => r.Json.GetProperty("id").GetGuid() == eventId).ToList();
        Assert.Equal(both[0].Body, both[1].Body);
        Assert.NotEqual(both[0].DeliveryId, both[1].DeliveryId);
        Assert.Equal(again.GetProperty("id").GetString(), both[1].DeliveryId);
        await Eventually.HoldsAsync(async () => (await Owner.GetFromJsonAsync<JsonElement>(
            $"/api/v1/webhooks/{webhook}/deliveries/{again.GetProperty("id").GetGuid()}")).GetProperty("status").GetString() == "succeeded", "redelivery settled");
        Assert.Equal(HttpStatusCode.NotFound, (await Owner.PostAsync($"/api/v1/webhooks/{webhook}/deliveries/{Guid.NewGuid()}/redeliver", null)).StatusCode);
    }

    [Fact]
    public async Task Internal_events_are_never_delivered_and_filters_select_types()
    {
        var (all, _) = await CreateAsync("/all", "*");
        var (tasks, _) = await CreateAsync("/tasks", "task.*");
        var (gateways, _) = await CreateAsync("/gw", "gateway.connection_changed");
        var now = DateTimeOffset.UtcNow;
        var internalEvent = Guid.NewGuid();
        var gateway = Guid.NewGuid();
        var task = Guid.NewGuid();
        await Bus.PublishAsync(new AgentDeprovisionRequested
        {
            OrganizationId = Org, AgentId = Guid.NewGuid(), GatewayId = Guid.NewGuid(), GatewayAgentId = "mc-x", SessionKey = "agent:mc-x:main", OccurredAt = now,
        }, internalEvent);
        await Bus.PublishAsync(new GatewayConnectionChanged { OrganizationId = Org, GatewayId = Guid.NewGuid(), State = "connected", OccurredAt = now }, gateway);
        await Bus.PublishAsync(TaskCreatedEvent(Guid.NewGuid(), Guid.NewGuid(), now), task);
        // Another organization's events never reach this one's webhooks.
        await Bus.PublishAsync(TaskCreatedEvent(Guid.NewGuid(), Guid.NewGuid(), now) with { OrganizationId = Guid.NewGuid() });

        await Eventually.HoldsAsync(() => Receiver.Accepted("/all").Count >= 2 && Receiver.Accepted("/tasks").Count >= 1 && Receiver.Accepted("/gw").Count >= 1,
            "deliveries");
        await Task.Delay(500);
        Assert.Equal([gateway, task], Ids(Receiver.Accepted("/all")));
        Assert.Equal([task], Ids(Receiver.Accepted("/tasks")));
        Assert.Equal([gateway], Ids(Receiver.Accepted("/gw")));
        Assert.Equal("internal", (await WaitLoggedAsync(internalEvent)).GetProperty("audience").GetString());
        // The cursor has moved past everything it finished, internal events included.
        var head = (await Edge.GetFromJsonAsync<JsonElement>("/internal/events/head")).GetProperty("seq").GetInt64();
        await Eventually.HoldsAsync(async () => (await GetAsync(tasks)).GetProperty("cursor").GetInt64() >= head - 1, "cursor advanced");
        _ = all;
        _ = gateways;
    }

    [Fact]
    public async Task Only_one_instance_holds_a_subscription_at_a_time()
    {
        var (webhook, _) = await CreateAsync("/lease", "*");
        await Owner.PatchAsJsonAsync($"/api/v1/webhooks/{webhook}", new { enabled = false });
        await using var scope = Metrics.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<MetricsDbContext>();
        var gate = Metrics.Services.GetRequiredService<DatabaseWriteGate>();
        var now = DateTime.UtcNow;
        var lease = TimeSpan.FromSeconds(30);
        Assert.True(await WebhookLeases.ClaimAsync(db, gate, webhook, "instance-a", now, lease, default));
        Assert.False(await WebhookLeases.ClaimAsync(db, gate, webhook, "instance-b", now.AddSeconds(1), lease, default));
        Assert.True(await WebhookLeases.ClaimAsync(db, gate, webhook, "instance-a", now.AddSeconds(2), lease, default));
        // An expired lease can be taken over; a released one at once.
        Assert.True(await WebhookLeases.ClaimAsync(db, gate, webhook, "instance-b", now.AddSeconds(40), lease, default));
        await WebhookLeases.ReleaseAsync(db, gate, webhook, "instance-b", default);
        Assert.True(await WebhookLeases.ClaimAsync(db, gate, webhook, "instance-a", now.AddSeconds(41), lease, default));
    }
}

[Collection(InfrastructureCollection.Collection)]
public sealed class WebhookOnSqliteTests(BrokerFixture broker) : WebhookTests(broker)
{
    protected override string DatabaseConnectionString() => OnSqlite.NewDatabase();
}

[Collection(InfrastructureCollection.Collection)]
public sealed class WebhookOnPostgresTests(BrokerFixture broker, PostgresFixture postgres) : WebhookTests(broker)
{
    private string? _database;

    protected override string DatabaseConnectionString() => _database ??= postgres.ConnectionStringForNewDatabase("metrics");

    [Fact]
    public async Task Two_instances_on_one_database_deliver_each_event_once_in_order()
    {
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:messaging"] = Service<Microsoft.Extensions.Configuration.IConfiguration>()["ConnectionStrings:messaging"],
            ["ConnectionStrings:metricsdb"] = DatabaseConnectionString(),
        };
        foreach (var (key, value) in Settings()) settings[key] = value;
        await using var second = new ServiceFactory<Program>(settings, ConfigureServices);
        await second.CreateClient().WaitHealthyAsync();

        Receiver.Respond = (_, before) => before < 2 ? (500, null) : (200, null);
        var response = await Owner.PostAsJsonAsync("/api/v1/webhooks", new { url = Receiver.BaseUrl + "/two", events = new[] { "task.*" } });
        var created = await response.Content.ReadFromJsonAsync<JsonElement>();
        Receiver.Secrets["/two"] = created.GetProperty("secret").GetString()!;

        var board = Guid.NewGuid();
        var ids = Enumerable.Range(0, 20).Select(_ => Guid.NewGuid()).ToList();
        foreach (var id in ids) await Bus.PublishAsync(TaskCreatedEvent(board, Guid.NewGuid(), DateTimeOffset.UtcNow), id);

        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (Receiver.Accepted("/two").Count < ids.Count && DateTime.UtcNow < deadline) await Task.Delay(50);
        await Task.Delay(500);
        var accepted = Receiver.Accepted("/two");
        // Two instances log concurrently, so the log's order (the one webhooks keep) may differ from the publish order.
        var log = (await Edge.GetFromJsonAsync<JsonElement>($"/internal/events?organization_id={Org}&limit=500")).GetProperty("items").EnumerateArray()
            .Select(e => e.GetProperty("id").GetGuid()).Where(ids.Contains).ToList();
        Assert.Equal(ids.Count, log.Count);
        Assert.Equal(log, accepted.Select(r => r.Json.GetProperty("id").GetGuid()));
        Assert.All(accepted, r => Assert.True(r.SignatureValid));
        Assert.Equal(ids.Count + 2, Receiver.Received("/two").Count);
    }
}
