using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace MissionControl.GatewayBridge.Tests;

/// <summary>
/// One real gateway for every test class of this assembly (it takes ~10 s and ~1.5 GB to start), and
/// the real broker for the service tests.
/// </summary>
[CollectionDefinition(OpenClawGatewayFixture.Collection)]
public sealed class GatewayCollection : ICollectionFixture<OpenClawGatewayFixture>, ICollectionFixture<BrokerFixture>;

internal static class Gateway
{
    public static GatewayConnectOptions Options(OpenClawGatewayFixture fixture) => new(fixture.Url, fixture.Token);

    public static CancellationToken Timeout(int seconds = 60) => new CancellationTokenSource(TimeSpan.FromSeconds(seconds)).Token;

    public static string NewAgentId() => "mc-" + Guid.NewGuid().ToString("D");

    public static async Task<IReadOnlyList<string>> AgentIdsAsync(IGatewayRpc rpc, CancellationToken ct)
    {
        var list = await rpc.RequestAsync("agents.list", null, ct);
        return [.. list.GetProperty("agents").EnumerateArray().Select(a => a.GetProperty("id").GetString()!)];
    }

    public static async Task<JsonElement> GetFileAsync(IGatewayRpc rpc, string agentId, string name, CancellationToken ct) =>
        (await rpc.RequestAsync("agents.files.get", new { agentId, name }, ct)).GetProperty("file");

    public static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0} s waiting for {what}");
            }
            await Task.Delay(50);
        }
    }
}

/// <summary>Events of a connection, collected for assertions.</summary>
internal sealed class EventLog
{
    private readonly ConcurrentQueue<GatewayEvent> _events = new();

    public void Add(GatewayEvent e) => _events.Enqueue(e);

    public IReadOnlyList<GatewayEvent> All => [.. _events];

    public async Task<T> WaitForAsync<T>(Func<GatewayEvent, T?> match, TimeSpan timeout, string what) where T : class
    {
        T? found = null;
        await Gateway.WaitUntilAsync(() => (found = _events.Select(match).FirstOrDefault(x => x is not null)) is not null, timeout, what);
        return found!;
    }
}

/// <summary>An ILogger writing to the test output.</summary>
internal sealed class TestOutputLogger(ITestOutputHelper output, string category = "gateway") : ILogger
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        try
        {
            output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {category}: {formatter(state, exception)}");
        }
        catch (InvalidOperationException)
        {
            // The test has finished; its output helper no longer takes lines.
        }
    }
}
