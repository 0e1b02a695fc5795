using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Secrets a service must read back in clear (inbound webhook secrets, gateway tokens) are encrypted at
/// rest with ASP.NET Core Data Protection; the key ring lives outside the database.
/// </summary>
public static class SecretsAtRest
{
    public static WebApplicationBuilder AddSecretsAtRest(this WebApplicationBuilder builder, string serviceName)
    {
        builder.Services.AddDataProtection()
            .SetApplicationName("mission-control-" + serviceName)
            .PersistKeysToFileSystem(new DirectoryInfo(KeysPath(builder.Configuration, builder.Environment, serviceName)));
        return builder;
    }

    /// <summary>
    /// Where the key ring lives: DataProtection:KeysPath; else beside the SQLite database; else (PostgreSQL,
    /// where several instances must share it: configure the path) under the user's local data folder.
    /// </summary>
    public static string KeysPath(IConfiguration configuration, IHostEnvironment environment, string serviceName)
    {
        if (configuration["DataProtection:KeysPath"] is { Length: > 0 } configured) return configured;
        var database = serviceName.Replace("-", "") + "db";
        var cs = configuration.GetConnectionString(database);
        if (string.IsNullOrWhiteSpace(cs) || !ServiceDatabase.IsPostgres(cs))
        {
            var file = string.IsNullOrWhiteSpace(cs) ? Path.Combine(environment.ContentRootPath, database + ".db") : new SqliteConnectionStringBuilder(cs).DataSource;
            return Path.Combine(Path.GetDirectoryName(Path.GetFullPath(file))!, serviceName + "-keys");
        }
        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create),
            "mission-control", serviceName + "-keys");
    }
}
