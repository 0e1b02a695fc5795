using Npgsql;

namespace MissionControl.LocalServers.Tests;

public sealed class PostgresServerTests(ITestOutputHelper output)
{
    [Fact]
    public async Task StartAsync_AnswersSelect1_CreatesDatabases_AndDisposeLeavesNothingRunning()
    {
        var workDir = Probes.NewWorkDir("postgres");
        var server = await PostgresServer.StartAsync(new LocalServerOptions(workDir) { Log = output.WriteLine });
        var pid = server.Pid;
        try
        {
            Assert.Equal($"Host=127.0.0.1;Port={server.Port};Username=postgres;Password=postgres;Database=orders", server.ConnectionStringFor("orders"));
            Assert.Equal(1, await ScalarAsync(server.ConnectionStringFor("postgres"), "select 1"));

            await server.CreateDatabaseAsync("orders");
            await server.CreateDatabaseAsync("orders"); // idempotent
            Assert.Equal("orders", await ScalarAsync(server.ConnectionStringFor("orders"), "select current_database()"));
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await server.DisposeAsync();
        }

        Assert.False(ProcessTree.IsAlive(pid), "postgres still runs");
        await Probes.AssertPortClosedAsync(server.Port);
        Probes.AssertNoProcessMentions(server.DataDir);

        // The cluster is kept in the work dir: a second start reuses it (what the AppHost relies on).
        await using (var again = await PostgresServer.StartAsync(workDir))
        {
            Assert.Equal("orders", await ScalarAsync(again.ConnectionStringFor("orders"), "select current_database()"));
            NpgsqlConnection.ClearAllPools();
        }
        Directory.Delete(workDir, recursive: true);
    }

    private static async Task<object?> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }
}
