using MissionControl.Testing;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using MissionControl.Contracts;
using MissionControl.Contracts.Agents;
using MissionControl.Contracts.Gateways;
using MissionControl.Contracts.Orgs;
using MissionControl.InternalAuth;
using MissionControl.Metrics.EventLog;

namespace MissionControl.Metrics.Tests;

public abstract class EventLogTests(BrokerFixture broker) : MetricsServiceTest(broker)
{
    [Fact]
    public async Task Every_event_is_logged_once_in_publish_order_with_contiguous_positions()
    {
        var board = Guid.NewGuid();
        var task = Guid.NewGuid();
        var at = DateTimeOffset.UtcNow;
        var created = Guid.NewGuid();
        await Bus.PublishAsync(TaskCreatedEvent(board, task, at), created);
        var moves = new List<Guid>();
        var states = new[] { "inbox", "in_progress", "review", "done" };
        for (var i = 1; i < states.Length; i++)
        {
            var id = Guid.NewGuid();
            moves.Add(id);
            await Bus.PublishAsync(StatusChangedEvent(board, task, states[i - 1], states[i], at.AddMinutes(i)), id);
        }
        // The same message again (a broker redelivery): logged once.
        await Bus.PublishAsync(TaskCreatedEvent(board, task, at), created);
        var last = await WaitLoggedAsync(moves[^1]);

        var page = await Edge.GetFromJsonAsync<JsonElement>($"/internal/events?organization_id={Org}");
        var items = page.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal([created, .. moves], items.Select(e => e.GetProperty("id").GetGuid()));
        var seqs = items.Select(e => e.GetProperty("seq").GetInt64()).ToList();
        Assert.Equal(Enumerable.Range(0, seqs.Count).Select(i => seqs[0] + i), seqs);
        Assert.Equal("task.status_changed", last.GetProperty("type").GetString());
        Assert.Equal("task", last.GetProperty("name").GetString());
        Assert.Equal("tasks", last.GetProperty("topic").GetString());
        Assert.Equal(board, last.GetProperty("board_id").GetGuid());
        Assert.Equal(task, last.GetProperty("task_id").GetGuid());
        Assert.Equal("Task moved to done: A task.", last.GetProperty("message").GetString());
        // The payload is the task as it was when it happened (reference §4 shape).
        Assert.Equal("done", last.GetProperty("data").GetProperty("task").GetProperty("status").GetString());
        Assert.Equal("task.status_changed", last.GetProperty("data").GetProperty("type").GetString());

        // A redelivered message after the others still adds nothing.
        await Bus.PublishAsync(StatusChangedEvent(board, task, "review", "done", at.AddMinutes(3)), moves[^1]);
        var marker = Guid.NewGuid();
        await PublishAndWaitLoggedAsync(TaskCreatedEvent(board, Guid.NewGuid(), at), marker);
        var again = await Edge.GetFromJsonAsync<JsonElement>($"/internal/events?organization_id={Org}");
        Assert.Equal(5, again.GetProperty("items").GetArrayLength());
    }

    /// <summary>An event type this build of metrics does not know, as a newer publisher could send.</summary>
    public sealed record EventFromANewerPublisher : MissionControl.Contracts.IIntegrationEvent
    {
        public Guid OrganizationId { get; init; }
        public DateTimeOffset OccurredAt { get; init; }
    }

    [Fact]
    public async Task An_event_of_an_unknown_type_is_skipped_without_holding_back_the_next()
    {
        var board = Guid.NewGuid();
        var first = Guid.NewGuid();
        await PublishAndWaitLoggedAsync(TaskCreatedEvent(board, Guid.NewGuid(), DateTimeOffset.UtcNow), first);
        var unknown = Guid.NewGuid();
        await Bus.PublishAsync(new EventFromANewerPublisher { OrganizationId = Org, OccurredAt = DateTimeOffset.UtcNow }, unknown);
        var started = DateTime.UtcNow;
        var next = Guid.NewGuid();
        await PublishAndWaitLoggedAsync(TaskCreatedEvent(board, Guid.NewGuid(), DateTimeOffset.UtcNow), next);

        // Logged without waiting out the gap a lost delivery would leave.
        Assert.True(DateTime.UtcNow - started < EventLogWriter.GapWait, $"the next event took {DateTime.UtcNow - started}");
        var page = await Edge.GetFromJsonAsync<JsonElement>($"/internal/events?organization_id={Org}");
        Assert.Equal([first, next], page.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("id").GetGuid()));
    }

    private static BatchedEvent Batched<T>(T message, Guid id) where T : IIntegrationEvent =>
        new(id, typeof(T).FullName!, JsonSerializer.SerializeToElement(message, EventRouting.Json));

    /// <summary>
    /// A publisher's events only the log reads arrive several to a message (EventBatch), beside events sent
    /// one each: all are logged once, in the publisher's order; an event in a batch that cannot be read is
    /// skipped without holding back the rest, as is an empty batch; a redelivered batch adds nothing.
    /// </summary>
    [Fact]
    public async Task Events_in_batches_are_logged_once_in_order_with_the_single_ones()
    {
        var board = Guid.NewGuid();
        var task = Guid.NewGuid();
        var at = DateTimeOffset.UtcNow;
        var ids = Enumerable.Range(0, 6).Select(_ => Guid.NewGuid()).ToList();
        var unreadable = new BatchedEvent(Guid.NewGuid(), "MissionControl.Contracts.Tasks.NoSuchEvent", JsonSerializer.SerializeToElement(new { a = 1 }));
        var first = new EventBatch([Batched(TaskCreatedEvent(board, task, at), ids[0]), unreadable, Batched(StatusChangedEvent(board, task, "inbox", "in_progress", at.AddSeconds(1)), ids[1])]);
        await Bus.PublishAsync(first);
        await Bus.PublishAsync(StatusChangedEvent(board, task, "in_progress", "review", at.AddSeconds(2)), ids[2]);
        await Bus.PublishAsync(new EventBatch([])); // nothing to log, and nothing to wait for
        await Bus.PublishAsync(new EventBatch([.. ids[3..].Select((id, i) => Batched(StatusChangedEvent(board, task, i % 2 == 0 ? "review" : "in_progress", i % 2 == 0 ? "in_progress" : "review", at.AddSeconds(3 + i)), id))]));
        await Bus.PublishAsync(first); // a redelivery
        var started = DateTime.UtcNow;
        await WaitLoggedAsync(ids[^1]);
        var marker = Guid.NewGuid();
        await PublishAndWaitLoggedAsync(TaskCreatedEvent(board, Guid.NewGuid(), at), marker);
        Assert.True(DateTime.UtcNow - started < EventLogWriter.GapWait, $"took {DateTime.UtcNow - started}: something waited out the gap");

        var page = await Edge.GetFromJsonAsync<JsonElement>($"/internal/events?organization_id={Org}");
        var items = page.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal([.. ids, marker], items.Select(e => e.GetProperty("id").GetGuid()));
        Assert.Equal("in_progress", items[1].GetProperty("data").GetProperty("task").GetProperty("status").GetString());
        var seqs = items.Select(e => e.GetProperty("seq").GetInt64()).ToList();
        Assert.Equal(Enumerable.Range(0, seqs.Count).Select(i => seqs[0] + i), seqs);
    }

    /// <summary>
    /// A batch its publisher keeps until it is logged (sent transient, naming the publishing process) is
    /// reported back to that process once committed, redelivered or not; a batch that names none is not.
    /// </summary>
    [Fact]
    public async Task Batches_that_name_their_publisher_are_reported_logged_to_it()
    {
        await using var reports = await BusProbe.StartAsync(BrokerConnectionString, typeof(EventsLogged));
        var source = $"tasks/{Guid.NewGuid():N}";
        var board = Guid.NewGuid();
        var at = DateTimeOffset.UtcNow;
        var ids = Enumerable.Range(0, 3).Select(_ => Guid.NewGuid()).ToList();
        var first = new EventBatch([Batched(TaskCreatedEvent(board, Guid.NewGuid(), at), ids[0])]) { Source = source, Through = 41 };
        await Bus.PublishAsync(first);
        await Bus.PublishAsync(new EventBatch([Batched(TaskCreatedEvent(board, Guid.NewGuid(), at), ids[1])]) { Source = source, Through = 42 });
        await Bus.PublishAsync(first); // a redelivery: logged already, reported again
        await Bus.PublishAsync(new EventBatch([Batched(TaskCreatedEvent(board, Guid.NewGuid(), at), ids[2])]));
        await WaitLoggedAsync(ids[2]);

        await Eventually.HoldsAsync(() => Reported().Count == 3, "the three deliveries that named it reported", 10);
        await Task.Delay(LogReceiptSender.Interval * 3);
        Assert.Equal([41L, 41L, 42L], Reported().Order()); // nothing for the batch that named no publisher

        List<long> Reported() => reports.Received<EventsLogged>(r => r.Source == source).SelectMany(r => r.Message.Batches).ToList();
    }

    [Fact]
    public async Task A_burst_is_written_in_batches_yet_keeps_the_publish_order()
    {
        var board = Guid.NewGuid();
        var task = Guid.NewGuid();
        var at = DateTimeOffset.UtcNow;
        var ids = Enumerable.Range(0, 400).Select(_ => Guid.NewGuid()).ToList();
        // Published one after another as fast as the bus takes them: the consumer sees many at once.
        await Bus.PublishAsync(TaskCreatedEvent(board, task, at), ids[0]);
        for (var i = 1; i < ids.Count; i++)
            await Bus.PublishAsync(StatusChangedEvent(board, task, i % 2 == 1 ? "inbox" : "in_progress", i % 2 == 1 ? "in_progress" : "inbox", at.AddMilliseconds(i)), ids[i]);
        var logged = new List<Guid>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (logged.Count < ids.Count && DateTime.UtcNow < deadline)
        {
            var page = await Owner.GetFromJsonAsync<JsonElement>($"/api/v1/events?limit=200&after={lastSeq}");
            foreach (var e in page.GetProperty("items").EnumerateArray())
            {
                logged.Add(e.GetProperty("id").GetGuid());
                lastSeq = e.GetProperty("seq").GetInt64();
            }
            if (page.GetProperty("items").GetArrayLength() == 0) await System.Threading.Tasks.Task.Delay(50);
        }
        Assert.Equal(ids, logged);
    }

    private long lastSeq;

    [Fact]
    public async Task Callers_see_only_what_their_role_and_board_access_allow()
    {
        var boardA = Guid.NewGuid();
        var boardB = Guid.NewGuid();
        var now = DateTimeOffset.UtcNow;
        var onA = Guid.NewGuid();
        var onB = Guid.NewGuid();
        var tag = Guid.NewGuid();
        var gateway = Guid.NewGuid();
        var provisioning = Guid.NewGuid();
        await Bus.PublishAsync(TaskCreatedEvent(boardA, Guid.NewGuid(), now), onA);
        await Bus.PublishAsync(TaskCreatedEvent(boardB, Guid.NewGuid(), now), onB);
        await Bus.PublishAsync(new TagChanged { OrganizationId = Org, OccurredAt = now, Tag = new TagState
        {
            Id = Guid.NewGuid(), OrganizationId = Org, Name = "infra", Slug = "infra", Color = "ff0000",
        } }, tag);
        await Bus.PublishAsync(new GatewayConnectionChanged { OrganizationId = Org, GatewayId = Guid.NewGuid(), State = "connected", OccurredAt = now }, gateway);
        await Bus.PublishAsync(new AgentDeprovisionRequested
        {
            OrganizationId = Org, AgentId = Guid.NewGuid(), GatewayId = Guid.NewGuid(), GatewayAgentId = "mc-x", SessionKey = "agent:mc-x:main", OccurredAt = now,
        }, provisioning);
        await WaitLoggedAsync(provisioning);
        await WaitLoggedAsync(gateway);
        await WaitLoggedAsync(tag);

        async Task<List<Guid>> Seen(HttpClient client)
        {
            var page = await client.GetFromJsonAsync<JsonElement>("/api/v1/events?limit=200");
            return page.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("id").GetGuid()).ToList();
        }

        // Visibility only: the order is the writer's test above (these five are published back to back).
        Assert.Equal(new HashSet<Guid> { onA, onB, tag, gateway }, (await Seen(Owner)).ToHashSet());
        Assert.Equal(new HashSet<Guid> { onA, tag }, (await Seen(Member(new BoardGrant(boardA, true, false)))).ToHashSet());
        Assert.Equal([onB], await Seen(AgentClient(Guid.NewGuid(), boardB)));
        // Another organization's owner sees none of it.
        Assert.Empty(await Seen(Metrics.ClientFor(TestTokens.Owner(Guid.NewGuid()))));
        // Only services read the raw log.
        Assert.Equal(HttpStatusCode.Forbidden, (await Owner.GetAsync($"/internal/events?organization_id={Org}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await Owner.GetAsync("/internal/events/feed")).StatusCode);
    }

    [Fact]
    public async Task A_cursor_pages_through_the_log_and_filters_by_type()
    {
        var board = Guid.NewGuid();
        var now = DateTimeOffset.UtcNow;
        var ids = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            var task = Guid.NewGuid();
            ids.Add(Guid.NewGuid());
            await Bus.PublishAsync(TaskCreatedEvent(board, task, now), ids[^1]);
            ids.Add(Guid.NewGuid());
            await Bus.PublishAsync(StatusChangedEvent(board, task, "inbox", "in_progress", now), ids[^1]);
        }
        await WaitLoggedAsync(ids[^1]);

        var seen = new List<Guid>();
        long after = 0;
        while (true)
        {
            var page = await Owner.GetFromJsonAsync<JsonElement>($"/api/v1/events?after={after}&limit=3");
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("id").GetGuid()));
            after = page.GetProperty("next_after").GetInt64();
            if (!page.GetProperty("has_more").GetBoolean()) break;
        }
        Assert.Equal(ids, seen);

        var moved = await Owner.GetFromJsonAsync<JsonElement>("/api/v1/events?type=task.status_changed&limit=200");
        Assert.Equal(5, moved.GetProperty("items").GetArrayLength());
        var all = await Owner.GetFromJsonAsync<JsonElement>("/api/v1/events?type=task.*&limit=200");
        Assert.Equal(10, all.GetProperty("items").GetArrayLength());

        // The edge's resume query: one board's tasks between two positions.
        var positions = (await Edge.GetFromJsonAsync<JsonElement>($"/internal/events?organization_id={Org}")).GetProperty("items")
            .EnumerateArray().Select(e => e.GetProperty("seq").GetInt64()).ToList();
        var window = await Edge.GetFromJsonAsync<JsonElement>(
            $"/internal/events?organization_id={Org}&topic=tasks&board_id={board}&after={positions[2]}&before={positions[6]}");
        Assert.Equal(positions[3..6], window.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("seq").GetInt64()));
        var otherBoard = await Edge.GetFromJsonAsync<JsonElement>($"/internal/events?organization_id={Org}&board_id={Guid.NewGuid()}");
        Assert.Equal(0, otherBoard.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task The_feed_streams_new_events_live_and_resumes_after_a_position()
    {
        var board = Guid.NewGuid();
        var now = DateTimeOffset.UtcNow;
        var first = await PublishAndWaitLoggedAsync(TaskCreatedEvent(board, Guid.NewGuid(), now));
        var from = first.GetProperty("seq").GetInt64();

        using var feed = await Edge.GetAsync($"/internal/events/feed?after={from - 1}", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, feed.StatusCode);
        using var reader = new StreamReader(await feed.Content.ReadAsStreamAsync());
        async Task<JsonElement> NextAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            while (true)
            {
                var line = await reader.ReadLineAsync(timeout.Token);
                if (!string.IsNullOrEmpty(line)) return JsonDocument.Parse(line).RootElement.Clone();
            }
        }

        Assert.Equal(from, (await NextAsync()).GetProperty("seq").GetInt64());
        var live = Guid.NewGuid();
        await Bus.PublishAsync(TaskCreatedEvent(board, Guid.NewGuid(), now), live);
        var next = await NextAsync();
        Assert.Equal(live, next.GetProperty("id").GetGuid());
        Assert.Equal(from + 1, next.GetProperty("seq").GetInt64());
    }

    [Fact]
    public async Task Retention_removes_old_events_and_positions_are_never_reused()
    {
        var board = Guid.NewGuid();
        var old = await PublishAndWaitLoggedAsync(TaskCreatedEvent(board, Guid.NewGuid(), DateTimeOffset.UtcNow));
        var removed = await Service<EventLogRetention>().SweepAsync(retentionDays: 0, CancellationToken.None);
        Assert.True(removed >= 1);
        Assert.Equal(0, (await Edge.GetFromJsonAsync<JsonElement>($"/internal/events?organization_id={Org}")).GetProperty("items").GetArrayLength());

        var fresh = await PublishAndWaitLoggedAsync(TaskCreatedEvent(board, Guid.NewGuid(), DateTimeOffset.UtcNow));
        Assert.True(fresh.GetProperty("seq").GetInt64() > old.GetProperty("seq").GetInt64());
        var head = await Edge.GetFromJsonAsync<JsonElement>("/internal/events/head");
        Assert.True(head.GetProperty("seq").GetInt64() >= fresh.GetProperty("seq").GetInt64());
    }
}

[Collection(InfrastructureCollection.Collection)]
public sealed class EventLogOnSqliteTests(BrokerFixture broker) : EventLogTests(broker)
{
    protected override string DatabaseConnectionString() => OnSqlite.NewDatabase();
}

[Collection(InfrastructureCollection.Collection)]
public sealed class EventLogOnPostgresTests(BrokerFixture broker, PostgresFixture postgres) : EventLogTests(broker)
{
    protected override string DatabaseConnectionString() => postgres.ConnectionStringForNewDatabase("metrics");

    [Fact]
    public async Task A_feed_on_another_instance_gets_the_writers_events_when_they_commit_not_at_its_poll()
    {
        // The instance started first holds the event-log queue (its single active consumer) and writes the log.
        await using var second = await StartInstanceAsync();
        var board = Guid.NewGuid();
        var first = await PublishAndWaitLoggedAsync(TaskCreatedEvent(board, Guid.NewGuid(), DateTimeOffset.UtcNow));
        var poll = EventLogApi.FeedPollInterval;
        EventLogApi.FeedPollInterval = TimeSpan.FromMinutes(10); // from here on, only a notification wakes the second instance's feed
        try
        {
            using var feed = await second.ClientFor(TestTokens.Service())
                .GetAsync($"/internal/events/feed?after={first.GetProperty("seq").GetInt64()}", HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, feed.StatusCode);
            using var reader = new StreamReader(await feed.Content.ReadAsStreamAsync());
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            Assert.Equal("", await reader.ReadLineAsync(timeout.Token)); // the feed's first line: a keep-alive, sent at once

            var live = Guid.NewGuid();
            await Bus.PublishAsync(TaskCreatedEvent(board, Guid.NewGuid(), DateTimeOffset.UtcNow), live);
            var line = await reader.ReadLineAsync(timeout.Token);
            while (string.IsNullOrEmpty(line)) line = await reader.ReadLineAsync(timeout.Token);
            var next = JsonDocument.Parse(line).RootElement;
            Assert.Equal(live, next.GetProperty("id").GetGuid());
            // The second instance did not log it itself: it read it from the database, woken by the writer's commit.
            var seq = next.GetProperty("seq").GetInt64();
            Assert.Empty(second.Services.GetRequiredService<RecentEvents>().ReadAfter(seq - 1, 1));
            // The writer's ring takes the event just after its commit, and the commit is what notified the second
            // instance: the second one may have sent it a moment before the writer's ring has it.
            var writersRing = Service<RecentEvents>();
            await Eventually.HoldsAsync(() => writersRing.ReadAfter(seq - 1, 1).Count > 0, "the writer's ring has the event", seconds: 5);
            Assert.Single(writersRing.ReadAfter(seq - 1, 1));
        }
        finally
        {
            EventLogApi.FeedPollInterval = poll;
        }
    }
}
