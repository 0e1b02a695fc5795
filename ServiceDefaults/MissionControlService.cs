using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MissionControl.InternalAuth;
using MissionControl.Messaging;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The standard shape of a Mission Control service: defaults, internal-token auth, its own database
/// with the outbox and inbox, the bus, and migrations at start-up.
/// </summary>
public static class MissionControlService
{
    public static WebApplicationBuilder AddMissionControlService<TContext, TSqlite, TPostgres>(
        this WebApplicationBuilder builder, string serviceName, Action<IBusRegistrationConfigurator>? consumers = null)
        where TContext : DbContext where TSqlite : TContext where TPostgres : TContext
    {
        builder.AddServiceDefaults();
        builder.AddInternalTokenAuth();
        builder.AddServiceDatabase<TContext, TSqlite, TPostgres>(serviceName.Replace("-", "") + "db");
        builder.AddMissionControlBus(serviceName, bus =>
        {
            consumers?.Invoke(bus);
            bus.AddConsumer<EventsLoggedConsumer>();
        });
        builder.AddOutboxRelay<TContext>(serviceName);
        builder.Services.AddSingleton(TimeProvider.System);
        return builder;
    }

    /// <summary>Builds the app with the middleware every service has; migrations run before it serves.</summary>
    public static async Task<WebApplication> BuildMissionControlServiceAsync<TContext>(this WebApplicationBuilder builder)
        where TContext : DbContext
    {
        var app = builder.Build();
        app.UseServiceDefaults();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapDefaultEndpoints();
        await app.MigrateDatabaseAsync<TContext>();
        if (ServiceDatabase.IsMigrationProcess(app.Configuration))
        {
            // The migration process of ServiceDatabase.MigrateInChildProcessKey: its work is done (disposing flushes the logs).
            await app.DisposeAsync();
            Environment.Exit(0);
        }
        return app;
    }
}
