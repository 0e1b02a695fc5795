using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MissionControl.Contracts;

namespace MissionControl.Messaging;

public static class MessagingExtensions
{
    public const string ConnectionName = "messaging";

    /// <summary>
    /// MassTransit on RabbitMQ from ConnectionStrings:messaging (amqp://user:pass@host:port/vhost).
    /// Queues are prefixed with the service name so two services' consumers never share a queue.
    /// </summary>
    public static IHostApplicationBuilder AddMissionControlBus(
        this IHostApplicationBuilder builder, string serviceName, Action<IBusRegistrationConfigurator>? consumers = null,
        Action<IBusRegistrationContext, IRabbitMqBusFactoryConfigurator>? configureBus = null)
    {
        var cs = builder.Configuration.GetConnectionString(ConnectionName);
        if (string.IsNullOrWhiteSpace(cs))
            throw new InvalidOperationException(
                $"ConnectionStrings:{ConnectionName} is not set (env ConnectionStrings__{ConnectionName}=amqp://guest:guest@127.0.0.1:5672). " +
                "Start the system with the AppHost, which starts a private RabbitMQ node.");
        var broker = new Uri(cs);
        var port = broker.IsDefaultPort ? 5672 : broker.Port;

        builder.Services.AddBusObserver(sp => new BrokerListening(broker.Host, port, sp.GetRequiredService<ILogger<BrokerListening>>()));
        builder.Services.AddMassTransit(x =>
        {
            x.SetEndpointNameFormatter(new ServiceQueueNameFormatter(serviceName));
            consumers?.Invoke(x);
            x.UsingRabbitMq((ctx, cfg) =>
            {
                var vhost = broker.AbsolutePath.Trim('/') is { Length: > 0 } v ? Uri.UnescapeDataString(v) : "/";
                var userInfo = broker.UserInfo.Split(':', 2);
                cfg.Host(broker.Host, (ushort)port, vhost, h =>
                {
                    h.Username(userInfo.Length > 0 && userInfo[0] != "" ? Uri.UnescapeDataString(userInfo[0]) : "guest");
                    h.Password(userInfo.Length > 1 ? Uri.UnescapeDataString(userInfo[1]) : "guest");
                    h.ConnectionName(serviceName);
                });
                cfg.UseMessageRetry(r => r.Exponential(5, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(200)));
                configureBus?.Invoke(ctx, cfg);
                cfg.ConfigureEndpoints(ctx);
            });
        });
        RefuseLogOnlyConsumers(builder.Services);
        builder.Services.Configure<MassTransitHostOptions>(o =>
        {
            o.WaitUntilStarted = false; // a service starts (and reports unhealthy) while the broker is down
            o.StartTimeout = TimeSpan.FromSeconds(30);
            o.StopTimeout = TimeSpan.FromSeconds(10);
        });
        return builder;
    }

    /// <summary>
    /// Events only the log reads are published in batches (<see cref="EventBatch"/>), never on their
    /// type's exchange: a consumer of one by type would wait forever, so the service does not start.
    /// </summary>
    internal static void RefuseLogOnlyConsumers(IServiceCollection services)
    {
        foreach (var descriptor in services)
        {
            if (descriptor.IsKeyedService || descriptor.ImplementationType is not { } type) continue;
            foreach (var consumed in type.GetInterfaces())
            {
                if (!consumed.IsGenericType || consumed.GetGenericTypeDefinition() != typeof(IConsumer<>)) continue;
                var message = consumed.GetGenericArguments()[0];
                if (message.IsClass && EventRouting.IsLogOnly(message))
                    throw new InvalidOperationException(
                        $"{type.Name} consumes {message.Name}, which is published only to the event log, in batches: " +
                        $"add it to {nameof(EventRouting)}.{nameof(EventRouting.ConsumedByType)} so it goes out on its own exchange.");
            }
        }
    }

    /// <summary>
    /// One queue per service for its consumers ("tasks", "agents"…), not one per consumer: a receive
    /// endpoint costs a channel, a queue, an exchange and its pipeline, and the services had up to 14
    /// each. A consumer that needs its own settings names its own endpoint (e.Name).
    /// </summary>
    private sealed class ServiceQueueNameFormatter(string serviceName) : KebabCaseEndpointNameFormatter(serviceName, false)
    {
        private readonly string _queue = serviceName.ToLowerInvariant();

        public override string Consumer<T>() => _queue;
    }

    /// <summary>
    /// The relay that publishes <typeparamref name="TContext"/>'s outbox rows, the hook that wakes it, and what
    /// lets it send the event log's batches transient (<see cref="EventLogReceipts"/>; the bus must also have
    /// an <see cref="EventsLoggedConsumer"/>).
    /// </summary>
    public static IHostApplicationBuilder AddOutboxRelay<TContext>(this IHostApplicationBuilder builder, string serviceName) where TContext : DbContext
    {
        builder.Services.AddSingleton(new EventLogReceipts(serviceName));
        builder.Services.AddReceiveEndpointObserver<BrokerConnectionWatch>();
        builder.Services.AddSingleton<OutboxSignal>();
        builder.Services.AddSingleton<IInterceptor, OutboxCommitInterceptor>();
        builder.Services.AddSingleton<OutboxRelay<TContext>>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<OutboxRelay<TContext>>());
        return builder;
    }
}
