using Microsoft.AspNetCore.Builder;
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
}
