using Microsoft.EntityFrameworkCore.Infrastructure;

namespace MissionControl.Messaging;

/// <summary>
/// Which provider a context runs on, by name: this library references neither provider package
/// (the services do), so EF's own IsSqlite()/IsNpgsql() are not available here.
/// </summary>
internal static class DatabaseProvider
{
    public static bool IsSqlite(this DatabaseFacade database) => database.ProviderName == "Microsoft.EntityFrameworkCore.Sqlite";

    public static bool IsPostgres(this DatabaseFacade database) => database.ProviderName == "Npgsql.EntityFrameworkCore.PostgreSQL";
}
