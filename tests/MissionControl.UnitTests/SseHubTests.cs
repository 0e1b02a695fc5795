using System.Text.Json;
using MissionControl.Edge.Sse;
using MissionControl.EventLog;

namespace MissionControl.UnitTests;

public sealed class SseHubTests
{
    private static readonly Guid Org = Guid.NewGuid(), Board = Guid.NewGuid();

    private static SseEvent Event(long seq, Guid? board = null) => new(new LoggedEvent
    {
        Seq = seq, Id = Guid.NewGuid(), OrganizationId = Org, BoardId = board ?? Board, Topic = EventTopics.Tasks, Name = "task",
        Type = "task.created", Audience = EventAudiences.Board, OccurredAt = DateTime.UtcNow, LoggedAt = DateTime.UtcNow,
        Data = JsonDocument.Parse($"{{\"n\":{seq}}}").RootElement,
    });

    private static SseHub Started(long head = 0, int retained = 4096, int buffer = 512)
    {
        var hub = new SseHub(retained, buffer);
        hub.Start(head);
        return hub;
    }

    [Fact]
    public void Subscribers_get_only_the_events_their_filter_accepts()
    {
        var hub = Started();
        using var sub = hub.Subscribe(e => e.Event.BoardId == Board);

        hub.Publish(Event(1, Guid.NewGuid()));
        hub.Publish(Event(2));

        Assert.True(sub.Events.Reader.TryRead(out var got));
        Assert.Equal(2, got.Seq);
        Assert.Equal("{\"n\":2}"u8.ToArray(), got.Data);
        Assert.False(sub.Events.Reader.TryRead(out _));
    }

    [Fact]
    public void A_resume_reads_what_the_hub_holds_and_reports_when_it_no_longer_does()
    {
        var hub = Started(head: 10, retained: 4);
        for (var seq = 11; seq <= 16; seq++) hub.Publish(Event(seq));
        using var sub = hub.Subscribe(_ => true);
        Assert.Equal(16, sub.JoinedAt);

        var held = hub.ReadHeld(13, sub.JoinedAt, _ => true);
        Assert.NotNull(held);
        Assert.Equal([14L, 15, 16], held.Value.Events.Select(e => e.Seq));
        Assert.Equal(16, held.Value.Through);
        // 12 left the window (it holds 13..16): the caller reads the log instead.
        Assert.Null(hub.ReadHeld(11, sub.JoinedAt, _ => true));
        // Before the feed started the hub never held anything.
        Assert.Null(Started(head: 10).ReadHeld(5, 10, _ => true));
        // Nothing after the head: nothing to read, and no need for the log.
        Assert.Empty(hub.ReadHeld(16, 16, _ => true)!.Value.Events);
    }

    [Fact]
    public void Repeated_positions_from_a_feed_reconnect_are_ignored()
    {
        var hub = Started();
        using var sub = hub.Subscribe(_ => true);
        hub.Publish(Event(1));
        hub.Publish(Event(2));
        hub.Publish(Event(2));
        hub.Publish(Event(1));
        hub.Publish(Event(3));
        var got = new List<long>();
        while (sub.Events.Reader.TryRead(out var e)) got.Add(e.Seq);
        Assert.Equal([1L, 2, 3], got);
    }

    [Fact]
    public void A_client_that_falls_a_buffer_behind_is_cut_off_without_slowing_the_others()
    {
        var hub = Started(buffer: 4);
        var slow = hub.Subscribe(_ => true);
        using var fast = hub.Subscribe(_ => true);
        for (var seq = 1; seq <= 10; seq++)
        {
            hub.Publish(Event(seq));
            Assert.True(fast.Events.Reader.TryRead(out var e));
            Assert.Equal(seq, e.Seq);
        }
        Assert.True(slow.Overflowed);
        var kept = new List<long>();
        while (slow.Events.Reader.TryRead(out var e)) kept.Add(e.Seq);
        Assert.Equal([1L, 2, 3, 4], kept); // what it had, then the end: it resumes after 4 from the log
        Assert.True(slow.Events.Reader.Completion.IsCompleted);
        Assert.Equal(1, hub.SubscriberCount);
    }

    [Fact]
    public void Disposal_stops_delivery()
    {
        var hub = Started();
        var sub = hub.Subscribe(_ => true);
        sub.Dispose();
        hub.Publish(Event(1));
        Assert.False(sub.Events.Reader.TryRead(out _));
        Assert.True(sub.Events.Reader.Completion.IsCompleted);
    }
}
