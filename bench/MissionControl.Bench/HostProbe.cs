using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace MissionControl.Bench;

/// <summary>
/// A fixed single-threaded workload, timed on the quiet system just before each load step: how fast the host
/// ran one core right then. The machines these benches run on are shared guests whose speed moves by a third
/// between minutes; a step that ran slow together with its probe says the host, not the code, was slow.
/// Compute: SHA-256 of 32 MB. Memory: 500,000 dependent reads at random in 32 MB (beyond the caches).
/// Wake-ups: 2,000 one-byte round trips between two threads over loopback TCP, the kernel and scheduler work
/// (system calls, a sleeping thread woken) that a request through the system is made of.
/// Call <see cref="Warm"/> once first: the first run would time the probe's own setup and compilation.
/// </summary>
internal static class HostProbe
{
    private const int Hops = 500_000;
    private const int RoundTrips = 2_000;
    private static readonly byte[] Data = RandomNumberGenerator.GetBytes(4 << 20);
    private static readonly int[] Ring = SingleCycle(8 << 20);

    public sealed record Result(double ComputeMs, double MemoryMs, double WakeupsMs)
    {
        public override string ToString() =>
            $"host probe (lower is faster): compute {ComputeMs:0.0} ms, memory {MemoryMs:0.0} ms, wake-ups {WakeupsMs:0.0} ms";
    }

    public static void Warm() => Run();

    public static Result Run()
    {
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < 8; i++)
        {
            SHA256.HashData(Data);
        }

        double compute = clock.Elapsed.TotalMilliseconds;
        clock.Restart();
        int at = 0;
        for (int i = 0; i < Hops; i++)
        {
            at = Ring[at];
        }

        double memory = clock.Elapsed.TotalMilliseconds;
        GC.KeepAlive(at);
        return new Result(compute, memory, PingPong());
    }

    private static double PingPong()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.Connect(listener.LocalEndPoint!);
        using Socket server = listener.Accept();
        server.NoDelay = true;
        var echo = new Thread(() =>
        {
            var one = new byte[1];
            for (int i = 0; i < RoundTrips; i++)
            {
                server.Receive(one);
                server.Send(one);
            }
        }) { IsBackground = true };
        echo.Start();
        var buffer = new byte[1];
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < RoundTrips; i++)
        {
            client.Send(buffer);
            client.Receive(buffer);
        }

        double elapsed = clock.Elapsed.TotalMilliseconds;
        echo.Join();
        return elapsed;
    }

    /// <summary>A permutation that is one cycle through every slot (Sattolo's shuffle), so each read depends on the last.</summary>
    private static int[] SingleCycle(int n)
    {
        var next = new int[n];
        for (int i = 0; i < n; i++)
        {
            next[i] = i;
        }

        var random = new Random(20261206);
        for (int i = n - 1; i > 0; i--)
        {
            int j = random.Next(i);
            (next[i], next[j]) = (next[j], next[i]);
        }

        return next;
    }
}
