using MissionControl.Testing;
using Npgsql;

namespace MissionControl.LocalServers.Tests;

[CollectionDefinition(BrokerFixture.Collection)]
public sealed class BrokerCollection : ICollectionFixture<BrokerFixture>;

[CollectionDefinition(PostgresFixture.Collection)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>;

[Collection(BrokerFixture.Collection)]
public sealed class BrokerFixtureTests(BrokerFixture broker, ITestOutputHelper output)
{
    [Fact]
    public async Task ConnectionString_ReachesABrokerThatRoundTripsMessages()
    {
        output.WriteLine($"broker from {broker.Source}: {broker.ConnectionString}");
        Assert.StartsWith("amqp://", broker.ConnectionString);
        Assert.Equal("via fixture", await Probes.RoundTripAsync(broker.ConnectionString, "via fixture"));
    }
}

[Collection(PostgresFixture.Collection)]
public sealed class PostgresFixtureTests(PostgresFixture postgres, ITestOutputHelper output)
{
    [Fact]
    public async Task CreateDatabaseAsync_GivesEachCallItsOwnDatabase()
    {
        output.WriteLine($"postgres from {postgres.Source}: {postgres.ConnectionString}");
        var first = await postgres.CreateDatabaseAsync("tasks");
        var second = await postgres.CreateDatabaseAsync("tasks");
        Assert.NotEqual(first, second);

        await using var connection = new NpgsqlConnection(first);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select current_database()", connection);
        Assert.StartsWith("tasks_", (string)(await command.ExecuteScalarAsync())!);
        NpgsqlConnection.ClearAllPools();
    }

    [Fact]
    public void CreateDatabaseName_IsAValidUniqueIdentifier()
    {
        var name = PostgresFixture.CreateDatabaseName("Gateway-Bridge Tests");
        Assert.Matches("^gateway_bridge_tests_[0-9a-f]{12}$", name);
        Assert.NotEqual(name, PostgresFixture.CreateDatabaseName("Gateway-Bridge Tests"));
        Assert.True(PostgresFixture.CreateDatabaseName(new string('x', 100)).Length <= 63);
        Assert.StartsWith("db", PostgresFixture.CreateDatabaseName("1abc"));
    }
}
