using MissionControl.LocalServers;
using Npgsql;
using Testcontainers.PostgreSql;
using Xunit;

namespace MissionControl.Testing;

/// <summary>
/// A real PostgreSQL server for a test assembly (use it as a collection fixture, like
/// <see cref="BrokerFixture"/>). From, in order: <c>MC_TEST_POSTGRES</c> (a base connection string);
/// Testcontainers when a Docker engine answers; the local PostgreSQL (15) install on a private port.
/// Give every test class (or test) its own database: <see cref="ConnectionStringForNewDatabase"/>.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    public const string Collection = "postgres";

    private Action? _stop;

    /// <summary>The server, without a database: <c>Host=…;Port=…;Username=…;Password=…</c>.</summary>
    public string ConnectionString { get; private set; } = "";

    /// <summary>Where the server came from: environment, testcontainers or local.</summary>
    public string Source { get; private set; } = "";

    /// <summary>
    /// Each test starts its own service instance with its own pool: idle connections are closed within
    /// seconds, so finished tests do not hold the server's connection slots.
    /// </summary>
    public string ConnectionStringFor(string database) =>
        new NpgsqlConnectionStringBuilder(ConnectionString) { Database = database, ConnectionIdleLifetime = 2, ConnectionPruningInterval = 1 }.ConnectionString;

    /// <summary>A database name nobody else uses: <c>&lt;prefix&gt;_&lt;12 hex&gt;</c>, lower case, at most 63 bytes.</summary>
    public static string CreateDatabaseName(string prefix = "test")
    {
        var clean = new string(prefix.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_').ToArray());
        if (clean.Length == 0 || !char.IsAsciiLetter(clean[0]))
        {
            clean = "db" + clean;
        }
        return $"{clean[..Math.Min(clean.Length, 48)]}_{Guid.NewGuid().ToString("N")[..12]}";
    }

    /// <summary>A connection string for a new, not yet created database (EF migrations create it).</summary>
    public string ConnectionStringForNewDatabase(string prefix = "test") => ConnectionStringFor(CreateDatabaseName(prefix));

    /// <summary>Creates a new database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix = "test", CancellationToken cancellationToken = default)
    {
        var name = CreateDatabaseName(prefix);
        await using var connection = new NpgsqlConnection(ConnectionStringFor("postgres") + ";Pooling=false");
        await connection.OpenAsync(cancellationToken);
        await using var create = new NpgsqlCommand($"create database \"{name}\"", connection);
        await create.ExecuteNonQueryAsync(cancellationToken);
        return ConnectionStringFor(name);
    }

    public async Task InitializeAsync()
    {
        if (TestServers.Env("MC_TEST_POSTGRES") is { } given)
        {
            (ConnectionString, Source) = (WithoutDatabase(given), "environment");
            return;
        }

        if (await DockerProbe.IsAvailableAsync())
        {
            var container = new PostgreSqlBuilder("postgres:15-alpine").Build();
            await container.StartAsync();
            _stop = TestServers.RegisterBackstop(container, null);
            (ConnectionString, Source) = (WithoutDatabase(container.GetConnectionString()), "testcontainers");
            return;
        }

        if (!PostgresServer.IsInstalled)
        {
            throw new LocalServerUnavailableException(TestServers.Install("PostgreSQL server", "MC_TEST_POSTGRES", "postgresql-15"));
        }
        var workDir = TestServers.CreateWorkDir("postgres");
        try
        {
            var server = await PostgresServer.StartAsync(workDir);
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

    private static string WithoutDatabase(string connectionString) =>
        new NpgsqlConnectionStringBuilder(connectionString) { Database = null }.ConnectionString;
}
