namespace MissionControl.Tasks.Tests;

public sealed class MigrationsTests
{
    [Fact]
    public void The_migrations_of_both_providers_describe_the_model() =>
        MissionControl.Testing.MigrationChecks.AssertMigrationsCoverTheModel(typeof(MissionControl.Tasks.Data.TasksDbContext).Assembly);
}
