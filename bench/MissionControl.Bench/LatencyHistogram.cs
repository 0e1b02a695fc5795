using System.Diagnostics;
using System.Numerics;

namespace MissionControl.Bench;

/// <summary>
/// A log-linear latency histogram in microseconds, preallocated so recording never allocates.
/// Values below 1,024 µs are kept exactly; above that each power of two is split into 512 buckets
/// (relative error ≤ 0.2%). Not thread safe: one instance per worker, merged with <see cref="Add"/>.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int SubBucketBits = 9;
    private const int SubBucketCount = 1 << SubBucketBits;      // 512
    private const int LinearLimit = SubBucketCount * 2;         // 1,024 µs recorded exactly
    private const int LinearBits = SubBucketBits + 1;           // log2(LinearLimit)
    private const int MaxExponent = 36;                         // ≥ 2^36 µs (about 19 h) is clamped
    private const int BucketCount = LinearLimit + ((MaxExponent - LinearBits) * SubBucketCount);

    private static readonly double MicrosPerTick = 1_000_000.0 / Stopwatch.Frequency;

    private readonly int[] _counts = new int[BucketCount];

    public long Count { get; private set; }

    public long MaxMicros { get; private set; }

    public double SumMicros { get; private set; }

    public double MeanMs => Count == 0 ? double.NaN : SumMicros / Count / 1000.0;

    public double MaxMs => Count == 0 ? double.NaN : MaxMicros / 1000.0;

    /// <summary>Records a duration given in <see cref="Stopwatch"/> ticks.</summary>
    public void RecordTicks(long ticks) => RecordMicros((long)(ticks * MicrosPerTick));

    public void RecordMicros(long micros)
    {
        if (micros < 0)
        {
            micros = 0;
        }

        if (micros > MaxMicros)
        {
            MaxMicros = micros;
        }

        _counts[IndexOf(micros)]++;
        Count++;
        SumMicros += micros;
    }

    public void Add(LatencyHistogram other)
    {
        int[] src = other._counts;
        for (int i = 0; i < src.Length; i++)
        {
            _counts[i] += src[i];
        }

        Count += other.Count;
        SumMicros += other.SumMicros;
        if (other.MaxMicros > MaxMicros)
        {
            MaxMicros = other.MaxMicros;
        }
    }

    /// <summary>Nearest-rank percentile (0 &lt; p ≤ 100) in milliseconds; the bucket's upper bound, capped at the max.</summary>
    public double PercentileMs(double p)
    {
        if (Count == 0)
        {
            return double.NaN;
        }

        long rank = Math.Clamp((long)Math.Ceiling(p / 100.0 * Count), 1, Count);
        long seen = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return Math.Min(UpperBound(i), MaxMicros) / 1000.0;
            }
        }

        return MaxMicros / 1000.0;
    }

    private static int IndexOf(long v)
    {
        if (v < LinearLimit)
        {
            return (int)v;
        }

        int exponent = 63 - BitOperations.LeadingZeroCount((ulong)v);
        if (exponent >= MaxExponent)
        {
            return BucketCount - 1;
        }

        int shift = exponent - SubBucketBits;
        int sub = (int)(v >> shift) - SubBucketCount;
        return LinearLimit + ((exponent - LinearBits) * SubBucketCount) + sub;
    }

    private static long UpperBound(int index)
    {
        if (index < LinearLimit)
        {
            return index;
        }

        int rel = index - LinearLimit;
        int exponent = (rel / SubBucketCount) + LinearBits;
        int sub = rel % SubBucketCount;
        int shift = exponent - SubBucketBits;
        long lower = (long)(sub + SubBucketCount) << shift;
        return lower + (1L << shift) - 1;
    }
}
