using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using MissionControl.LocalServers;
using MissionControl.ProcessMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
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
        Assert.True(HostingLoggerOn(app), "requests get an Activity to export");
    }

    [Fact]
    public async Task Without_an_endpoint_nothing_is_instrumented()
    {
        await using var app = Build(null);

        Assert.Null(app.Services.GetService<TracerProvider>());
        Assert.Null(app.Services.GetService<MeterProvider>());
        // ASP.NET Core starts an Activity and a log scope per request whenever this logger is on at any level.
        Assert.False(HostingLoggerOn(app), "requests would get an Activity and traceparent headers nobody reads");
    }

    private static bool HostingLoggerOn(WebApplication app) =>
        app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(ServiceDefaultsExtensions.HostingDiagnosticsCategory).IsEnabled(LogLevel.Critical);

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

    [Fact]
    public void Trimming_the_native_heap_returns_its_freed_pages_to_the_system()
    {
        // 48 MB of small blocks (malloc keeps them in its heap, not in separate mappings), all written,
        // then freed except the last, which pins the heap's top so that free() alone cannot shrink it.
        const int Block = 16 * 1024, Count = 3072;
        var blocks = new nint[Count];
        var ones = Enumerable.Repeat((byte)1, Block).ToArray();
        for (var i = 0; i < Count; i++)
        {
            blocks[i] = Marshal.AllocHGlobal(Block);
            Marshal.Copy(ones, 0, blocks[i], Block);
        }
        for (var i = 0; i < Count - 1; i++) Marshal.FreeHGlobal(blocks[i]);
        try
        {
            var before = ResidentKb();
            Assert.True(IdleMemory.TrimNativeHeap());
            var after = ResidentKb();
            Assert.True(before - after > 32 * 1024, $"resident {before} kB before the trim, {after} kB after");
        }
        finally
        {
            Marshal.FreeHGlobal(blocks[^1]);
        }
    }

    [Fact]
    public void Releasing_startup_memory_decommits_what_the_managed_heap_no_longer_uses()
    {
        // 64 MB that lives long enough to reach the oldest generation, then is dropped: no collection
        // would run again in an idle process, so the heap would stay committed.
        var kept = Enumerable.Range(0, 64).Select(_ => new byte[1 << 20]).ToList();
        GC.Collect();
        GC.Collect();
        kept.Clear();
        var before = GC.GetGCMemoryInfo(GCKind.Any).TotalCommittedBytes;

        Assert.True(IdleMemory.ReleaseStartupMemory());

        var after = GC.GetGCMemoryInfo(GCKind.Any).TotalCommittedBytes;
        Assert.True(before - after > 48L << 20, $"committed {before >> 20} MB before, {after >> 20} MB after");
    }

    [Fact]
    public void An_idle_process_is_collected_once_its_small_allocations_add_up_to_a_megabyte()
    {
        const long Kb = 1024;
        const long Heap = 5_000 * Kb; // an idle service's
        var watch = new QuietWatch(allocatedNow: 10_000 * Kb);

        Assert.False(watch.ShouldCollect(10_400 * Kb, Heap)); // 400 KB: too little to be worth a pause
        Assert.False(watch.ShouldCollect(10_800 * Kb, Heap));
        Assert.True(watch.ShouldCollect(11_100 * Kb, Heap)); // 1.1 MB since the start: collect
        Assert.False(watch.ShouldCollect(11_300 * Kb, Heap)); // counted again from that collection
    }

    [Fact]
    public void A_busy_process_is_left_to_the_garbage_collector_and_collected_once_the_load_ends()
    {
        const long Mb = 1L << 20;
        const long Heap = 20 * Mb;
        var watch = new QuietWatch(allocatedNow: 0);

        Assert.False(watch.ShouldCollect(200 * Mb, Heap)); // under load: the GC collects often by itself
        Assert.False(watch.ShouldCollect(208 * Mb, Heap)); // exactly the busy mark: still busy
        Assert.True(watch.ShouldCollect(208 * Mb + Mb / 4, Heap)); // quiet now: what the load touched is given back
        Assert.False(watch.ShouldCollect(208 * Mb + Mb / 2, Heap)); // then only once a megabyte adds up again
        Assert.True(watch.ShouldCollect(209 * Mb + Mb / 2, Heap));
    }

    [Fact]
    public void A_large_heap_is_not_collected_even_when_quiet()
    {
        const long Mb = 1L << 20;
        var watch = new QuietWatch(allocatedNow: 0);

        Assert.False(watch.ShouldCollect(3 * Mb, 300 * Mb)); // e.g. an edge holding thousands of quiet streams
        Assert.False(watch.ShouldCollect(6 * Mb, 300 * Mb));
        Assert.True(watch.ShouldCollect(6 * Mb + Mb / 2, 40 * Mb)); // small again, with 6.5 MB of garbage
    }

    private static long ResidentKb() =>
        long.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:")).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
}

public sealed class ParameterErrorsTests
{
    public enum Shade { Light, Dark }

    [Fact]
    public async Task A_query_or_route_value_that_does_not_parse_is_a_422_naming_the_parameter_and_the_value()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddServiceDefaults();
        await using var app = builder.Build();
        app.UseServiceDefaults();
        app.MapGet("/items/{id}", (Guid id, int? limit, bool? open, Shade? shade, DateTimeOffset? since, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "agent_id")] Guid? agentId) =>
            Results.Ok(new { id, limit }));
        await app.StartAsync();
        using var client = new HttpClient { BaseAddress = new Uri(app.Urls.Single()) };
        var good = Guid.NewGuid();

        var ok = await client.GetAsync($"/items/{good}?limit=5&open=true&shade=Dark&since=2026-01-01T00:00:00Z&agent_id={good}");
        Assert.True(ok.IsSuccessStatusCode, await ok.Content.ReadAsStringAsync());
        foreach (var (url, name, value) in new[]
                 {
                     ($"/items/{good}?limit=abc", "limit", "abc"), ($"/items/{good}?open=maybe", "open", "maybe"),
                     ($"/items/{good}?shade=blue", "shade", "blue"), ($"/items/{good}?since=yesterday", "since", "yesterday"),
                     ($"/items/{good}?agent_id=zzz", "agent_id", "zzz"), ("/items/not-a-uuid", "id", "not-a-uuid"),
                 })
        {
            var response = await client.GetAsync(url);
            Assert.True(response.StatusCode == System.Net.HttpStatusCode.UnprocessableEntity, $"{url}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            var problem = await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<System.Text.Json.JsonElement>(response.Content);
            var error = Assert.Single(problem.GetProperty("errors").EnumerateObject());
            Assert.Equal(name, error.Name);
            Assert.Contains($"\"{value}\"", error.Value[0].GetString());
        }
        // Other empty error statuses keep their problem details.
        var missing = await client.GetAsync("/nothing-here");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
    }
}
