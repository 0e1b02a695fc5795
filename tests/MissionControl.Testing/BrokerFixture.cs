using MissionControl.LocalServers;
using Testcontainers.RabbitMq;
using Xunit;

namespace MissionControl.Testing;

/// <summary>
/// A real RabbitMQ broker for a test assembly. Use it as a collection fixture so the assembly starts
/// one broker:
/// <code>
/// [CollectionDefinition(BrokerFixture.Collection)]
/// public sealed class BrokerCollection : ICollectionFixture&lt;BrokerFixture&gt;;
/// [Collection(BrokerFixture.Collection)] public sealed class MyTests(BrokerFixture broker) { … }
/// </code>
/// The broker comes from, in order: <c>MC_TEST_RABBITMQ</c> (or <c>ConnectionStrings__messaging</c>);
/// Testcontainers when a Docker engine answers; the locally installed rabbitmq-server on a private
/// loopback node. With none of these, initialisation fails with what to install (never a silent skip).
/// </summary>
public sealed class BrokerFixture : IAsyncLifetime
{
    public const string Collection = "broker";

    private Action? _stop;

    /// <summary><c>amqp://user:password@host:port</c>, Aspire's format.</summary>
    public string ConnectionString { get; private set; } = "";

    /// <summary>Where the broker came from: environment, testcontainers or local.</summary>
    public string Source { get; private set; } = "";

    public async Task InitializeAsync()
    {
        if ((TestServers.Env("MC_TEST_RABBITMQ") ?? TestServers.Env("ConnectionStrings__messaging")) is { } given)
        {
            (ConnectionString, Source) = (given, "environment");
            return;
        }

        if (await DockerProbe.IsAvailableAsync())
        {
            var container = new RabbitMqBuilder("rabbitmq:3.13-alpine").Build();
            await container.StartAsync();
            _stop = TestServers.RegisterBackstop(container, null);
            (ConnectionString, Source) = (container.GetConnectionString(), "testcontainers");
            return;
        }

        if (!RabbitMqServer.IsInstalled)
        {
            throw new LocalServerUnavailableException(TestServers.Install("RabbitMQ broker", "MC_TEST_RABBITMQ", "rabbitmq-server"));
        }
        var workDir = TestServers.CreateWorkDir("rabbitmq");
        try
        {
            var server = await RabbitMqServer.StartAsync(workDir);
            _stop = TestServers.RegisterBackstop(server, workDir);
            (ConnectionString, Source) = (server.ConnectionString, "local");
        }
        catch
        {
            TestServers.DeleteWorkDir(workDir);
            throw;
        }
    }

    public Task DisposeAsync()
    {
        Interlocked.Exchange(ref _stop, null)?.Invoke();
        return Task.CompletedTask;
    }
}
