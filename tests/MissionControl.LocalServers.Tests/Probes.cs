using System.Text;
using MissionControl.LocalServers;
using RabbitMQ.Client;

namespace MissionControl.LocalServers.Tests;

internal static class Probes
{
    public static string NewWorkDir(string kind)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"mc-lstest-{kind}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static async Task AssertPortClosedAsync(int port) =>
        Assert.False(await FreePort.IsListeningAsync("127.0.0.1", port), $"something still listens on 127.0.0.1:{port}");

    /// <summary>No live process whose command line mentions <paramref name="marker"/> (e.g. a node name or a work dir).</summary>
    public static void AssertNoProcessMentions(string marker)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || !ProcessTree.IsAlive(pid))
            {
                continue;
            }
            var cmdline = ProcFs.CommandLine(pid);
            Assert.False(cmdline.Contains(marker, StringComparison.Ordinal), $"pid {pid} still runs: {cmdline}");
        }
    }

    /// <summary>Publishes one message to a fresh queue and reads it back.</summary>
    public static async Task<string> RoundTripAsync(string connectionString, string text)
    {
        var factory = new ConnectionFactory { Uri = new Uri(connectionString), AutomaticRecoveryEnabled = false };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        var queue = await channel.QueueDeclareAsync(queue: "", durable: false, exclusive: true, autoDelete: true);
        await channel.BasicPublishAsync(exchange: "", routingKey: queue.QueueName, body: Encoding.UTF8.GetBytes(text));

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            if (await channel.BasicGetAsync(queue.QueueName, autoAck: true) is { } message)
            {
                var body = Encoding.UTF8.GetString(message.Body.Span);
                await channel.CloseAsync();
                await connection.CloseAsync();
                return body;
            }
            await Task.Delay(50);
        }
        throw new TimeoutException("The message did not come back within 10 s.");
    }
}
