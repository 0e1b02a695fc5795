using Microsoft.AspNetCore.Builder;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using System.Data.Common;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Each service owns one database: SQLite (WAL) by default, PostgreSQL when the connection string
/// says so (it has a Host=). Each provider has its own migrations, kept on a provider-specific
/// subclass of the service's DbContext, and they are applied at start-up.
/// </summary>
public static class ServiceDatabase
{
    public static bool IsPostgres(string connectionString) =>
        connectionString.Contains("Host=", StringComparison.OrdinalIgnoreCase);

    public static IHostApplicationBuilder AddServiceDatabase<TContext, TSqlite, TPostgres>(
        this IHostApplicationBuilder builder, string connectionName)
        where TContext : DbContext where TSqlite : TContext where TPostgres : TContext
    {
        var cs = builder.Configuration.GetConnectionString(connectionName);
        if (string.IsNullOrWhiteSpace(cs))
            cs = $"Data Source={Path.Combine(builder.Environment.ContentRootPath, connectionName + ".db")}";

        builder.Services.AddSingleton(new MissionControl.Messaging.DatabaseWriteGate(serialize: !IsPostgres(cs)));
        if (IsPostgres(cs))
            builder.Services.AddDbContextPool<TContext, TPostgres>((sp, o) => o
                .UseNpgsql(cs).UseSnakeCaseNamingConvention().AddInterceptors(sp.GetServices<IInterceptor>()));
        else
        {
            SqliteProcessSettings.Apply();
            builder.Services.AddDbContextPool<TContext, TSqlite>((sp, o) => o
                .UseSqlite(cs).UseSnakeCaseNamingConvention()
                .AddInterceptors(sp.GetServices<IInterceptor>()).AddInterceptors(SqlitePragmas.Instance));
            var checkpointPages = builder.Configuration.GetValue<int?>("Sqlite:CheckpointPages");
            builder.Services.AddHostedService(sp => new SqliteCheckpointer(
                cs, sp.GetRequiredService<MissionControl.Messaging.DatabaseWriteGate>(), sp.GetRequiredService<ILogger<SqliteCheckpointer>>(),
                checkpointPages: checkpointPages));
        }

        builder.Services.AddHealthChecks().AddDbContextCheck<TContext>("database", tags: [ServiceDefaultsExtensions.ReadyTag]);
        return builder;
    }

    /// <summary>Set on the process that applies the migrations for a service and exits (<see cref="MigrateInChildProcessKey"/>).</summary>
    public const string MigrateOnlyKey = "Database:MigrateOnly";

    /// <summary>This process is the copy that only applies the migrations (<see cref="MigrateOnlyKey"/>).</summary>
    public static bool IsMigrationProcess(IConfiguration configuration) => configuration.GetValue<bool>(MigrateOnlyKey);

    /// <summary>
    /// Pending migrations are applied by a short-lived copy of this process, not by the process that then serves
    /// (the AppHost and the Kubernetes config set it). What migrating loads and compiles stays in a process for
    /// its life, since type data and compiled code are never unloaded: a first start's idle system (new databases)
    /// measured 495-498 MB PSS this way against 505-509 MB, for 3-4 s more to healthy while the copies run.
    /// Off, the serving process migrates itself (the tests' in-process hosts).
    /// </summary>
    public const string MigrateInChildProcessKey = "Database:MigrateInChildProcess";

    /// <summary>Applies pending migrations (creating the database if needed) before the app serves.</summary>
    public static async Task MigrateDatabaseAsync<TContext>(this WebApplication app) where TContext : DbContext
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TContext>();
        if (db.Database.IsSqlite())
        {
            var dir = Path.GetDirectoryName(Path.GetFullPath(db.Database.GetDbConnection().DataSource));
            if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        }
        if (!IsMigrationProcess(app.Configuration) && app.Configuration.GetValue<bool>(MigrateInChildProcessKey))
        {
            // Only the question is asked here; the child takes its turn (below) and asks again.
            if ((await db.Database.GetPendingMigrationsAsync()).Any())
            {
                await MigrateInChildProcessAsync(app.Logger);
                var left = (await db.Database.GetPendingMigrationsAsync()).ToList();
                if (left.Count > 0)
                    throw new InvalidOperationException($"The migration process exited without applying {string.Join(", ", left)}");
            }
        }
        else
        {
            // Instances of one service starting side by side (--replicas) would race to create the
            // database and apply the same migrations: they take turns under an advisory lock, held on the
            // server's maintenance database (theirs may not exist yet) and released with the connection.
            // Migrate only when something is pending: EF's Migrate also compares the migrations' snapshot with
            // the model each time (it builds both, and a design-time model kept for the process's life), about
            // 0.1 s of CPU and 7 MB at every start of every service (tasks: 1.24 s against 1.35 s of CPU to healthy,
            // measured side by side). That comparison is a test instead (MigrationChecks).
            await using var turn = db.Database.IsNpgsql() ? await MigrationTurnAsync(db.Database.GetConnectionString()!) : null;
            var pending = (await db.Database.GetPendingMigrationsAsync()).ToList();
            if (pending.Count > 0)
            {
                await db.Database.MigrateAsync();
                app.Logger.LogInformation("Applied {Count} migrations in process {Pid}", pending.Count, Environment.ProcessId);
            }
        }
        if (db.Database.IsSqlite())
        {
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;");
            if (SqliteProcessSettings.Apply())
                app.Logger.LogInformation("SQLite: multi-thread mode, memory statistics off");
            else
                app.Logger.LogWarning("SQLite was opened before its process settings could be applied: it stays serialized (slower, still correct)");
        }
    }

    /// <summary>Runs this process again with <see cref="MigrateOnlyKey"/> set (same program, arguments and settings) and waits for it.</summary>
    private static async Task MigrateInChildProcessAsync(ILogger logger)
    {
        var host = Environment.ProcessPath ?? throw new InvalidOperationException("The process's executable is unknown");
        var start = new System.Diagnostics.ProcessStartInfo(host) { UseShellExecute = false }; // output: this process's own
        // `dotnet app.dll`: the host needs the app's dll again; an app's own executable does not.
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
            start.ArgumentList.Add(System.Reflection.Assembly.GetEntryAssembly()?.Location ?? throw new InvalidOperationException("The entry assembly is unknown"));
        foreach (var argument in Environment.GetCommandLineArgs().Skip(1)) start.ArgumentList.Add(argument);
        start.Environment[MigrateOnlyKey.Replace(":", "__")] = "true";
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        using var child = System.Diagnostics.Process.Start(start) ?? throw new InvalidOperationException($"Could not start {host} to migrate the database");
        await child.WaitForExitAsync();
        if (child.ExitCode != 0)
            throw new InvalidOperationException($"The migration process {child.Id} exited with code {child.ExitCode} (its output is above)");
        logger.LogInformation("Migrations applied by process {Pid} in {Ms:0} ms", child.Id, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    private static async Task<Npgsql.NpgsqlConnection> MigrationTurnAsync(string connectionString)
    {
        var target = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        var maintenance = new Npgsql.NpgsqlConnectionStringBuilder(connectionString) { Database = "postgres", Pooling = false };
        var connection = new Npgsql.NpgsqlConnection(maintenance.ConnectionString);
        await connection.OpenAsync();
        await using var take = new Npgsql.NpgsqlCommand("SELECT pg_advisory_lock(hashtext(@name))", connection);
        take.Parameters.AddWithValue("name", $"mission-control-migrate:{target.Database}");
        await take.ExecuteNonQueryAsync();
        return connection;
    }

    /// <summary>All DateTime values are UTC: SQLite hands them back unspecified, Npgsql insists on UTC.</summary>
    public static void UseUtcDateTimes(this ModelConfigurationBuilder configuration)
    {
        configuration.Properties<DateTime>().HaveConversion<UtcDateTimeConverter>();
        configuration.Properties<DateTime?>().HaveConversion<UtcDateTimeConverter>();
    }

    private sealed class UtcDateTimeConverter() : ValueConverter<DateTime, DateTime>(
        v => v.Kind == DateTimeKind.Utc ? v : DateTime.SpecifyKind(v.ToUniversalTime(), DateTimeKind.Utc),
        v => DateTime.SpecifyKind(v, DateTimeKind.Utc));

    /// <summary>
    /// WAL is set once on the file; these are per connection (writers leave checkpoints to
    /// <see cref="SqliteCheckpointer"/> unless it falls far behind), and kept by it while it waits in
    /// Microsoft.Data.Sqlite's pool: applied once per physical connection (its native handle), not at
    /// every open (an open per unit of work, two statements parsed and run each time).
    /// </summary>
    private sealed class SqlitePragmas : DbConnectionInterceptor
    {
        public static readonly SqlitePragmas Instance = new();
        private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<object, object> Applied = [];

        public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Apply(connection);

        public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken ct = default)
        {
            Apply(connection);
            return Task.CompletedTask;
        }

        private static void Apply(DbConnection connection)
        {
            var handle = (connection as Microsoft.Data.Sqlite.SqliteConnection)?.Handle;
            if (handle is not null && Applied.TryGetValue(handle, out _)) return;
            using var cmd = connection.CreateCommand();
            cmd.CommandText = $"PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000; PRAGMA wal_autocheckpoint={SqliteCheckpointer.WriterFallbackPages};";
            cmd.ExecuteNonQuery();
            if (handle is not null) Applied.AddOrUpdate(handle, Instance);
        }
    }
}

/// <summary>Design-time factories so `dotnet ef migrations add` can build each provider's context.</summary>
public abstract class SqliteDesignTimeFactory<T> : IDesignTimeDbContextFactory<T> where T : DbContext
{
    public T CreateDbContext(string[] args) =>
        (T)Activator.CreateInstance(typeof(T), new DbContextOptionsBuilder<T>().UseSqlite("Data Source=design.db").UseSnakeCaseNamingConvention().Options)!;
}

public abstract class PostgresDesignTimeFactory<T> : IDesignTimeDbContextFactory<T> where T : DbContext
{
    public T CreateDbContext(string[] args) =>
        (T)Activator.CreateInstance(typeof(T), new DbContextOptionsBuilder<T>().UseNpgsql("Host=localhost;Database=design").UseSnakeCaseNamingConvention().Options)!;
}
