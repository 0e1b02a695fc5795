using Microsoft.AspNetCore.DataProtection;
using Microsoft.Data.Sqlite;

namespace MissionControl.Tasks.Operations;

/// <summary>
/// Inbound webhook secrets are needed in clear to check signatures, so they are encrypted at rest with
/// ASP.NET Core Data Protection (not hashed) and never returned by the API.
/// </summary>
public sealed class WebhookSecrets(IDataProtectionProvider provider)
{
    private readonly IDataProtector _protector = provider.CreateProtector("MissionControl.Tasks.WebhookSecrets.v1");

    public string Protect(string secret) => _protector.Protect(secret);

    public string Unprotect(string protectedSecret) => _protector.Unprotect(protectedSecret);

    /// <summary>
    /// Where the key ring lives: DataProtection:KeysPath; else beside the SQLite database; else (PostgreSQL,
    /// where several instances must share it: configure the path) under the user's local data folder.
    /// </summary>
    public static string KeysPath(IConfiguration configuration, IHostEnvironment environment)
    {
        if (configuration["DataProtection:KeysPath"] is { Length: > 0 } configured) return configured;
        var cs = configuration.GetConnectionString("tasksdb");
        if (string.IsNullOrWhiteSpace(cs) || !ServiceDatabase.IsPostgres(cs))
        {
            var file = string.IsNullOrWhiteSpace(cs) ? Path.Combine(environment.ContentRootPath, "tasksdb.db") : new SqliteConnectionStringBuilder(cs).DataSource;
            return Path.Combine(Path.GetDirectoryName(Path.GetFullPath(file))!, "tasks-keys");
        }
        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create),
            "mission-control", "tasks-keys");
    }
}
