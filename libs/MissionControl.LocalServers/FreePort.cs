using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace MissionControl.LocalServers;

/// <summary>Finds TCP ports on the IPv4 loopback interface.</summary>
public static class FreePort
{
    // Ports handed out by this process, so two servers started side by side never get the same one
    // before either has bound it. Other processes can still race us; the servers retry on a new port.
    private static readonly ConcurrentDictionary<int, byte> Handed = new();

    /// <summary>A port that is free on 127.0.0.1 now (the OS picks it).</summary>
    public static int Next()
    {
        for (var attempt = 0; ; attempt++)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            if (Handed.TryAdd(port, 0) || attempt >= 20)
            {
                return port;
            }
        }
    }

    /// <summary><paramref name="preferred"/> when nothing listens on it on 127.0.0.1, else a free one.</summary>
    public static int PreferOrNext(int preferred) => IsFree(preferred) ? preferred : Next();

    /// <summary>True when a listener could bind 127.0.0.1:<paramref name="port"/> right now.</summary>
    public static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>True when something accepts TCP connections on host:port (one quick attempt).</summary>
    public static async Task<bool> IsListeningAsync(string host, int port, TimeSpan? timeout = null)
    {
        using var client = new TcpClient();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(1));
        try
        {
            await client.ConnectAsync(host, port, cts.Token);
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return false;
        }
    }
}
