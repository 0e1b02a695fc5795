using MissionControl.Metrics.EventLog;

namespace MissionControl.Metrics.Tests;

/// <summary>The event log's reordering of deliveries that arrive on concurrent consumer calls.</summary>
public sealed class DeliveryOrderTests
{
    private static readonly DateTime T0 = new(2026, 12, 5, 8, 0, 0, DateTimeKind.Utc);
    private static readonly TimeSpan Gap = TimeSpan.FromSeconds(3);

    private static Delivery From(string consumer, ulong tag, DateTime? at = null) => new(null, Guid.NewGuid(), consumer, tag, at ?? T0);

    private static void WriteAll(DeliveryOrder order, List<Delivery> batch) => order.Passed(batch.Select(d => (d, true)).ToList());

    [Fact]
    public void A_new_consumer_starts_at_tag_one_even_when_its_second_delivery_arrives_first()
    {
        var order = new DeliveryOrder(Gap, 256);
        var second = From("c1", 2);
        order.Add(second);
        Assert.Empty(order.TakeReady(T0.AddMilliseconds(5)));

        var first = From("c1", 1, T0.AddMilliseconds(1));
        order.Add(first);
        Assert.Equal([first, second], order.TakeReady(T0.AddMilliseconds(6)));
    }

    [Fact]
    public void A_missing_delivery_holds_the_later_ones_only_for_the_gap_wait()
    {
        var order = new DeliveryOrder(Gap, 256);
        var first = From("c1", 1);
        order.Add(first);
        WriteAll(order, order.TakeReady(T0));

        var third = From("c1", 3);
        order.Add(third);
        Assert.Empty(order.TakeReady(T0 + Gap - TimeSpan.FromMilliseconds(1)));
        Assert.Equal([third], order.TakeReady(T0 + Gap));
    }

    [Fact]
    public void A_reopened_channel_numbers_again_from_one()
    {
        var order = new DeliveryOrder(Gap, 256);
        var old = new[] { From("c1", 1), From("c1", 2), From("c1", 3) };
        foreach (var d in old) order.Add(d);
        WriteAll(order, order.TakeReady(T0));

        var after = new[] { From("c2", 2, T0.AddSeconds(1)), From("c2", 1, T0.AddSeconds(1)) };
        foreach (var d in after) order.Add(d);
        Assert.Equal([after[1], after[0]], order.TakeReady(T0.AddSeconds(1)));
    }

    [Fact]
    public void Events_not_from_the_bus_are_never_held_back()
    {
        var order = new DeliveryOrder(Gap, 256);
        var held = From("c1", 2);
        var local = new Delivery(null, Guid.NewGuid(), null, 0, T0);
        order.Add(held);
        order.Add(local);
        Assert.Equal([local], order.TakeReady(T0));
        Assert.Equal(1, order.Count);
    }

    [Fact]
    public void A_failed_delivery_keeps_its_place_for_its_retry()
    {
        var order = new DeliveryOrder(Gap, 256);
        var batch = new[] { From("c1", 1), From("c1", 2), From("c1", 3) };
        foreach (var d in batch) order.Add(d);
        var taken = order.TakeReady(T0);
        order.Passed([(taken[0], true), (taken[1], false), (taken[2], true)]);

        // The retry of the failed one (same tag) goes in at its place; the next delivery still counts
        // tag 3 as missing, as the position stopped before the failure.
        var retry = From("c1", 2);
        var fourth = From("c1", 4);
        order.Add(fourth);
        order.Add(retry);
        Assert.Equal([retry], order.TakeReady(T0));
        Assert.Equal([fourth], order.TakeReady(T0 + Gap));
    }

    [Fact]
    public void A_batch_is_capped()
    {
        var order = new DeliveryOrder(Gap, 2);
        var all = new[] { From("c1", 1), From("c1", 2), From("c1", 3) };
        foreach (var d in all) order.Add(d);
        var first = order.TakeReady(T0);
        Assert.Equal(all[..2], first);
        WriteAll(order, first);
        Assert.Equal(all[2..], order.TakeReady(T0));
    }

    private static Delivery[] Message(string consumer, ulong tag, int events, DateTime? at = null) =>
        Enumerable.Range(0, events).Select(i => From(consumer, tag, at) with { Part = i }).ToArray();

    [Fact]
    public void The_events_of_one_message_stay_together_in_their_order()
    {
        var order = new DeliveryOrder(Gap, 256);
        var second = Message("c1", 2, 3);
        var first = Message("c1", 1, 2);
        order.Add(second.Reverse());
        Assert.Empty(order.TakeReady(T0)); // tag 1 has not arrived
        order.Add(first);
        Assert.Equal([.. first, .. second], order.TakeReady(T0));
    }

    [Fact]
    public void A_message_cut_by_the_batch_cap_continues_before_the_next_message()
    {
        var order = new DeliveryOrder(Gap, 3);
        var first = Message("c1", 1, 4);
        var second = Message("c1", 2, 1);
        order.Add(first);
        order.Add(second);
        var taken = order.TakeReady(T0);
        Assert.Equal(first[..3], taken);
        WriteAll(order, taken);
        Assert.Equal([first[3], second[0]], order.TakeReady(T0));
    }

    [Fact]
    public void A_failed_event_holds_the_next_message_until_its_own_message_is_retried()
    {
        var order = new DeliveryOrder(Gap, 256);
        var first = Message("c1", 1, 3);
        order.Add(first);
        var taken = order.TakeReady(T0);
        order.Passed([(taken[0], true), (taken[1], false), (taken[2], true)]);

        var next = Message("c1", 2, 1);
        order.Add(next);
        Assert.Empty(order.TakeReady(T0)); // message 1 failed in part: its retry comes first
        var retry = Message("c1", 1, 3);
        order.Add(retry);
        var again = order.TakeReady(T0);
        Assert.Equal([.. retry, next[0]], again);
    }
}
