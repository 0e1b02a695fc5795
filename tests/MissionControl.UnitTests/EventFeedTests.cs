using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using MissionControl.Edge.Sse;
using MissionControl.InternalAuth;

namespace MissionControl.UnitTests;

public sealed class EventFeedTests
{
    [Fact]
    public async Task A_feed_that_goes_silent_is_dropped_and_opened_again()
    {
        // A stand-in for metrics: the head, then feeds that answer their headers and never a line.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var feeds = 0;
        var held = new List<TcpClient>();
        using var stop = new CancellationTokenSource();
        var server = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var client = await listener.AcceptTcpClientAsync(stop.Token);
                held.Add(client);
                var stream = client.GetStream();
                var head = await ReadRequestHeadAsync(stream, stop.Token);
                if (head.Contains("/internal/events/head", StringComparison.Ordinal))
                {
                    await stream.WriteAsync(Encoding.ASCII.GetBytes(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 9\r\nConnection: close\r\n\r\n{\"seq\":0}"), stop.Token);
                    continue;
                }
                Interlocked.Increment(ref feeds);
                await stream.WriteAsync(Encoding.ASCII.GetBytes(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n"), stop.Token);
            }
        });

        var address = new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}");
        var services = new ServiceCollection().AddLogging();
        services.AddHttpClient("metrics", c => c.BaseAddress = address);
        services.AddHttpClient(EventLogClient.FeedClientName, c => { c.BaseAddress = address; c.Timeout = Timeout.InfiniteTimeSpan; });
        await using var provider = services.BuildServiceProvider();
        using var signer = new InternalTokenSigner(InternalKeys.Generate().SigningKey);
        var feed = new EventFeed(new EventLogClient(provider.GetRequiredService<IHttpClientFactory>(), signer), new SseHub(),
            NullLogger<EventFeed>.Instance, silence: TimeSpan.FromMilliseconds(500));

        await feed.StartAsync(CancellationToken.None);
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (Volatile.Read(ref feeds) < 2 && DateTime.UtcNow < deadline) await Task.Delay(50);
            Assert.True(Volatile.Read(ref feeds) >= 2, $"the silent feed was not dropped and opened again ({feeds} feed requests in 10 s)");
        }
        finally
        {
            await feed.StopAsync(CancellationToken.None);
            stop.Cancel();
            listener.Stop();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => server);
            foreach (var client in held) client.Dispose();
        }
    }

    private static async Task<string> ReadRequestHeadAsync(NetworkStream stream, CancellationToken ct)
    {
        var text = new StringBuilder();
        var buffer = new byte[1024];
        while (!text.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
        {
            var n = await stream.ReadAsync(buffer, ct);
            if (n == 0) break;
            text.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }
        return text.ToString();
    }
}
