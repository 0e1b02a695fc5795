using MissionControl.Edge.Sse;

namespace MissionControl.UnitTests;

public sealed class SseHubTests
{
    private static readonly Guid Org = Guid.NewGuid(), Board = Guid.NewGuid();

    private static SseEvent Event(Guid? board = null) => new(Guid.CreateVersion7(), Org, board ?? Board, "tasks", "task", [1]);

    [Fact]
    public void Subscribers_get_only_the_events_their_filter_accepts()
    {
        var hub = new SseHub();
        using var sub = hub.Subscribe(e => e.ScopeId == Board);
        var mine = Event();

        hub.Publish(Event(Guid.NewGuid()));
        hub.Publish(mine);

        Assert.True(sub.Events.Reader.TryRead(out var got));
        Assert.Equal(mine.Id, got.Id);
        Assert.False(sub.Events.Reader.TryRead(out _));
    }

    [Fact]
    public void A_reconnecting_client_gets_what_followed_its_last_event_id()
    {
        var hub = new SseHub();
        var events = Enumerable.Range(0, 5).Select(_ => Event()).ToList();
        events.ForEach(hub.Publish);

        using var sub = hub.Subscribe(_ => true, lastEventId: events[2].Id);
        var live = Event();
        hub.Publish(live);

        var received = new List<Guid>();
        while (sub.Events.Reader.TryRead(out var e)) received.Add(e.Id);
        Assert.Equal([events[3].Id, events[4].Id, live.Id], received);
    }

    [Fact]
    public void An_unknown_last_event_id_replays_nothing_and_disposal_stops_delivery()
    {
        var hub = new SseHub(retained: 2);
        var first = Event();
        hub.Publish(first);
        hub.Publish(Event());
        hub.Publish(Event()); // first has now left the retained window

        var sub = hub.Subscribe(_ => true, lastEventId: first.Id);
        Assert.False(sub.Events.Reader.TryRead(out _));

        sub.Dispose();
        hub.Publish(Event());
        Assert.False(sub.Events.Reader.TryRead(out _));
        Assert.True(sub.Events.Reader.Completion.IsCompleted);
    }
}
