using System.Diagnostics;
using System.Net.Sockets;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace MissionControl.Messaging;

/// <summary>
/// Holds the bus's start until the broker's port accepts a connection, for at most <see cref="MaxWait"/>.
/// A bus whose first connection is refused (a broker still booting) tries again only after MassTransit's
/// backoff, a second or more; the AppHost starts the services while its private broker boots, so they
/// connect the moment it listens instead. Only the bus waits: the service itself (Kestrel, /alive, its
/// outbox) starts as before. After <c>maxWait</c> (default <see cref="MaxWait"/>, within MassTransit's
/// 30 s start timeout) the bus starts anyway and retries on its own.
/// </summary>
public sealed class BrokerListening(string host, int port, ILogger<BrokerListening> log, TimeSpan? maxWait = null) : IBusObserver
{
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(20);
    private readonly TimeSpan _maxWait = maxWait ?? MaxWait;

    public async Task PreStart(IBus bus)
    {
        var clock = Stopwatch.StartNew();
        var attempts = 0;
        while (true)
        {
            attempts++;
            if (await AcceptsAsync(host, port, _maxWait - clock.Elapsed)) break;
            if (clock.Elapsed >= _maxWait)
            {
                log.LogWarning("The broker at {Host}:{Port} did not accept a connection within {Seconds} s; starting the bus anyway (it keeps retrying)",
                    host, port, _maxWait.TotalSeconds);
                return;
            }
            await Task.Delay(Pause);
        }
        if (attempts > 1)
            log.LogInformation("The broker at {Host}:{Port} accepted a connection after {Milliseconds:0} ms", host, port, clock.Elapsed.TotalMilliseconds);
    }

    /// <summary>Whether a TCP connection to the broker opens within <paramref name="timeout"/> (then it is closed at once).</summary>
    public static async Task<bool> AcceptsAsync(string host, int port, TimeSpan timeout)
    {
        if (timeout <= TimeSpan.Zero) return false;
        using var cts = new CancellationTokenSource(timeout);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(host, port, cts.Token);
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return false;
        }
    }

    public void PostCreate(IBus bus) { }
    public void CreateFaulted(Exception exception) { }
    public Task PostStart(IBus bus, Task<BusReady> busReady) => Task.CompletedTask;
    public Task StartFaulted(IBus bus, Exception exception) => Task.CompletedTask;
    public Task PreStop(IBus bus) => Task.CompletedTask;
    public Task PostStop(IBus bus) => Task.CompletedTask;
    public Task StopFaulted(IBus bus, Exception exception) => Task.CompletedTask;
}
