using System.Reflection;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Xunit;

namespace MissionControl.Testing;

/// <summary>
/// A service applies its migrations at start only when some are pending (ServiceDatabase), so the
/// check that EF's Migrate makes every time (that the migrations describe today's model) is made here.
/// </summary>
public static class MigrationChecks
{
    /// <summary>Every provider's context of the service (its design-time factories): no model change lacks a migration.</summary>
    public static void AssertMigrationsCoverTheModel(Assembly service)
    {
        var factories = service.GetTypes()
            .Where(t => !t.IsAbstract && t.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IDesignTimeDbContextFactory<>)))
            .ToList();
        Assert.Equal(2, factories.Count); // SQLite and PostgreSQL
        foreach (var factory in factories)
        {
            var create = factory.GetMethod(nameof(IDesignTimeDbContextFactory<DbContext>.CreateDbContext))!;
            using var db = (DbContext)create.Invoke(Activator.CreateInstance(factory, nonPublic: true), [Array.Empty<string>()])!;
            Assert.True(db.Database.GetMigrations().Any(), $"{db.GetType().Name} has no migrations");
            Assert.False(db.Database.HasPendingModelChanges(),
                $"{db.GetType().Name}: the model has changes no migration describes (dotnet ef migrations add … --context {db.GetType().Name})");
        }
    }
}
