using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using MissionControl.LocalServers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace MissionControl.UnitTests;

public sealed class ServiceDefaultsTests
{
    private static WebApplication Build(string? otlpEndpoint)
    {
        var builder = WebApplication.CreateSlimBuilder();
        if (otlpEndpoint is not null) builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlpEndpoint;
        builder.AddServiceDefaults();
        return builder.Build();
    }

    [Fact]
    public async Task Traces_and_metrics_are_collected_and_exported_when_an_OTLP_endpoint_is_set()
    {
        await using var app = Build("http://127.0.0.1:4317");

        Assert.NotNull(app.Services.GetService<TracerProvider>());
        Assert.NotNull(app.Services.GetService<MeterProvider>());
    }

    [Fact]
    public async Task Without_an_endpoint_nothing_is_instrumented()
    {
        await using var app = Build(null);

        Assert.Null(app.Services.GetService<TracerProvider>());
        Assert.Null(app.Services.GetService<MeterProvider>());
    }

    [Fact]
    public async Task A_quick_retry_goes_to_another_instance_when_the_first_refuses_the_connection()
    {
        var live = WebApplication.CreateSlimBuilder();
        live.WebHost.UseUrls("http://127.0.0.1:0");
        await using var instance = live.Build();
        instance.MapGet("/ping", () => "pong");
        await instance.StartAsync();

        var builder = WebApplication.CreateSlimBuilder();
        // Two instances of orgs: the first has nothing listening (a stopped one), the second answers.
        builder.Configuration["services:orgs:http:0"] = $"http://127.0.0.1:{FreePort.Next()}";
        builder.Configuration["services:orgs:http:1"] = instance.Urls.Single();
        builder.AddServiceDefaults();
        builder.Services.AddHttpClient("orgs", c => c.BaseAddress = new Uri("http://orgs")).WithQuickRetries();
        await using var app = builder.Build();
        var client = app.Services.GetRequiredService<IHttpClientFactory>().CreateClient("orgs");

        // Round robin starts half of these on the stopped instance: each must end on the live one.
        for (var i = 0; i < 6; i++)
            Assert.Equal("pong", await client.GetStringAsync("/ping"));
    }
}
