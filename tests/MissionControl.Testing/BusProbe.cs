using System.Collections.Concurrent;
using MassTransit;
using MissionControl.Contracts;

namespace MissionControl.Testing;

/// <summary>
/// A test's own connection to the broker: publishes events as a service would, and records the
/// events of the given types that services publish (on a temporary queue of its own), whether on
/// their type's exchange or in an <see cref="EventBatch"/>.
/// </summary>
public sealed class BusProbe : IAsyncDisposable
{
    private readonly IBusControl _bus;
    private readonly ConcurrentQueue<(Guid? MessageId, object Message)> _received = new();
    private readonly SemaphoreSlim _arrived = new(0);

    private BusProbe(IBusControl bus) => _bus = bus;

    public static async Task<BusProbe> StartAsync(string connectionString, params Type[] observe)
    {
        BusProbe? probe = null;
        var broker = new Uri(connectionString);
        var user = broker.UserInfo.Split(':', 2);
        var bus = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(broker.Host, (ushort)broker.Port, "/", h =>
            {
                h.Username(Uri.UnescapeDataString(user[0]));
                h.Password(Uri.UnescapeDataString(user[1]));
            });
            cfg.ReceiveEndpoint($"test-probe-{Guid.NewGuid():N}", e =>
            {
                e.AutoDelete = true;
                e.Durable = false;
                // Events only the event log reads travel in batches: the probe unpacks the ones it observes.
                var batched = observe.Where(EventRouting.IsLogOnly).ToHashSet();
                if (batched.Count > 0)
                    e.Handler<EventBatch>(ctx =>
                    {
                        foreach (var evt in ctx.Message.Events)
                        {
                            if (EventRouting.Read(evt) is not { } message || !batched.Contains(message.GetType())) continue;
                            probe!._received.Enqueue((evt.MessageId, message));
                            probe._arrived.Release();
                        }
                        return Task.CompletedTask;
                    });
                foreach (var type in observe.Where(t => !batched.Contains(t)))
                    typeof(BusProbe).GetMethod(nameof(Observe), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
                        .MakeGenericMethod(type).Invoke(null, [e, (Func<BusProbe>)(() => probe!)]);
            });
        });
        probe = new BusProbe(bus);
        await bus.StartAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        return probe;
    }

    private static void Observe<T>(IRabbitMqReceiveEndpointConfigurator endpoint, Func<BusProbe> probe) where T : class =>
        endpoint.Handler<T>(ctx =>
        {
            probe()._received.Enqueue((ctx.MessageId, ctx.Message));
            probe()._arrived.Release();
            return Task.CompletedTask;
        });

    public Task PublishAsync<T>(T message, Guid? messageId = null) where T : class =>
        _bus.Publish(message, ctx => { if (messageId is { } id) ctx.MessageId = id; });

    /// <summary>Every matching event received so far.</summary>
    public IReadOnlyList<(Guid? MessageId, T Message)> Received<T>(Func<T, bool>? match = null) =>
        _received.Where(r => r.Message is T t && (match?.Invoke(t) ?? true)).Select(r => (r.MessageId, (T)r.Message)).ToList();

    public async Task<(Guid? MessageId, T Message)> WaitForAsync<T>(Func<T, bool> match, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            var hit = Received(match);
            if (hit.Count > 0) return hit[0];
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !await _arrived.WaitAsync(left))
                if (Received(match).Count == 0) throw new TimeoutException($"No {typeof(T).Name} matching the test's condition arrived on the broker.");
        }
    }

    public async ValueTask DisposeAsync() => await _bus.StopAsync();
}
