using System.Collections.Concurrent;
using MissionControl.Messaging;

namespace MissionControl.Tasks.Tests;

public sealed class IdsTests
{
    [Fact]
    public void NewVersion7_IsAnRfc9562Version7IdCarryingItsMillisecond()
    {
        var at = new DateTimeOffset(2026, 12, 4, 15, 30, 0, 123, TimeSpan.Zero);
        var id = Ids.NewVersion7(at);

        Assert.Equal(7, id.Version);
        Assert.Equal(0x80, id.ToByteArray(bigEndian: true)[8] & 0xC0); // variant 10
        // The first 48 bits are the Unix milliseconds, as the runtime's own version 7 ids lay them out.
        Assert.Equal(Guid.CreateVersion7(at).ToString("N")[..12], id.ToString("N")[..12]);
        Assert.Equal(at.ToUnixTimeMilliseconds().ToString("x12"), id.ToString("N")[..12]);
    }

    [Fact]
    public void NewVersion7_IdsAreUniqueAcrossThreadsAndBufferRefills()
    {
        var ids = new ConcurrentBag<Guid>();
        // 4 × 20,000 ids: each thread's 4 KiB of random bytes is refilled about 50 times.
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, _ =>
        {
            for (var i = 0; i < 20_000; i++) ids.Add(Ids.NewVersion7());
        });

        Assert.Equal(80_000, ids.Distinct().Count());
        Assert.All(ids, id => Assert.Equal(7, id.Version));
    }

    [Fact]
    public void NewVersion7_LaterMillisecondsSortLater_AndOneMillisecondStillGetsRandomIds()
    {
        var at = DateTimeOffset.UtcNow;
        var earlier = Ids.NewVersion7(at);
        var later = Ids.NewVersion7(at.AddMilliseconds(1));
        Assert.True(string.CompareOrdinal(earlier.ToString("N"), later.ToString("N")) < 0);

        var sameMillisecond = Enumerable.Range(0, 1_000).Select(_ => Ids.NewVersion7(at).ToString("N")[12..]).ToHashSet();
        Assert.Equal(1_000, sameMillisecond.Count);
    }

    [Fact]
    public void NewVersion7_RefusesATimeBeforeTheUnixEpoch() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Ids.NewVersion7(DateTimeOffset.UnixEpoch.AddMilliseconds(-1)));
}
