using System.Net.Sockets;
using System.Text;

namespace MissionControl.LocalServers.Tests;

public sealed class RedisServerTests
{
    [Fact]
    public async Task StartAsync_AnswersPing_AndDisposeLeavesNothingRunning()
    {
        var workDir = Probes.NewWorkDir("redis");
        var server = await RedisServer.StartAsync(workDir);
        var pid = server.Pid;
        try
        {
            Assert.Equal($"127.0.0.1:{server.Port}", server.ConnectionString);
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", server.Port);
            var stream = client.GetStream();
            await stream.WriteAsync("SET k v\r\nGET k\r\n"u8.ToArray());
            var reply = new StringBuilder();
            var buffer = new byte[256];
            while (!reply.ToString().Contains("$1\r\nv\r\n"))
            {
                reply.Append(Encoding.ASCII.GetString(buffer, 0, await stream.ReadAsync(buffer)));
            }
        }
        finally
        {
            await server.DisposeAsync();
        }
        Assert.False(ProcessTree.IsAlive(pid));
        await Probes.AssertPortClosedAsync(server.Port);
        Directory.Delete(workDir, recursive: true);
    }
}
