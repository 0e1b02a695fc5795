namespace MissionControl.Orgs.Tests.Infrastructure;

public static class Databases
{
    public static string NewSqlite(string prefix = "orgs") =>
        $"Data Source={Path.Combine(Path.GetTempPath(), $"mc-{prefix}-test-{Guid.NewGuid():N}.db")}";
}
