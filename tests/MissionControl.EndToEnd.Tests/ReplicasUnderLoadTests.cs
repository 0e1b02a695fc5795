using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit.Abstractions;

namespace MissionControl.EndToEnd.Tests;

/// <summary>
/// The real AppHost with two instances of every service and of the edge (--replicas 2, on PostgreSQL and
/// Redis). Under a steady write load through the public port, one instance of each service and one edge
/// are killed with SIGKILL: no accepted write is lost, a request fails only when it was in flight on a killed
/// process, an SSE client (resuming with Last-Event-ID) gets no event twice, and a webhook gets no event twice
/// except the one delivery a killed metrics instance may have had in flight (sent again with the same delivery id).
/// </summary>
[Collection(AppHostCollection.Collection)]
public sealed class ReplicasUnderLoadTests(ITestOutputHelper output)
{
    private const int Writers = 8;
    /// <summary>
    /// Between a writer's requests: keeps the load steady (about 80 writes/s at most) so that on two cores
    /// the killed processes still come back in seconds and one webhook, delivered in log order, keeps up.
    /// </summary>
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(100);
    private static readonly string[] Killed = ["tasks-1", "orgs-1", "agents-1", "gateway-bridge-1", "metrics-1", "edge-1"];
    private static readonly string[] Resources =
    [
        "rabbitmq", "postgres", "redis", "orgs-1", "orgs-2", "tasks-1", "tasks-2", "agents-1", "agents-2",
        "gateway-bridge-1", "gateway-bridge-2", "metrics-1", "metrics-2", "edge-1", "edge-2",
    ];

    private sealed record Delivery(Guid EventId, string? Event, Guid? Task, string DeliveryId, TimeSpan At);

    [Fact]
    public async Task Killing_one_instance_of_each_service_and_one_edge_under_load_loses_no_write_and_repeats_no_event()
    {
        await using var host = await AppHostRun.StartAsync(output, ["--postgres", "--redis", "--replicas", "2"], new Dictionary<string, string?>
        {
            ["MC_REPLICAS"] = null,
            ["ConnectionStrings__redis"] = null, // its own Redis
            ["Webhooks__AllowedHosts"] = "127.0.0.1",
            ["Webhooks__LeaseDuration"] = "10s",
            ["Webhooks__RetrySchedule"] = "1s,1s,2s,5s,10s",
        }, resources: Resources.Length, startup: TimeSpan.FromSeconds(180)); // 13 processes on 2 cores, Debug
        var clock = Stopwatch.StartNew(); // every time printed is on it: since the system was up
        var deliveries = new ConcurrentQueue<Delivery>();
        await using var receiver = await LoopbackReceiver.StartAsync((request, body) =>
        {
            var json = JsonDocument.Parse(body).RootElement;
            deliveries.Enqueue(new Delivery(json.GetProperty("id").GetGuid(), json.GetProperty("event").GetString(),
                TaskOf(json.GetProperty("data")), request.Headers["X-MC-Delivery"].ToString(), clock.Elapsed));
        });
        try
        {
            Assert.All(Resources, name => Assert.Equal("running", host.Resource(name).State));
            using var admin = new HttpClient { BaseAddress = new Uri(host.Edge), Timeout = TimeSpan.FromSeconds(30) };
            admin.DefaultRequestHeaders.Authorization = new("Bearer", host.AdminToken);
            var board = await EdgeSystem.BoardAsync(admin);
            var hook = await admin.PostAsJsonAsync("/api/v1/webhooks",
                new { url = receiver.Urls.Single().TrimEnd('/') + "/hook", events = new[] { "task.*" }, description = "replicas under load" });
            Assert.True(hook.StatusCode == HttpStatusCode.Created, $"{(int)hook.StatusCode} {await hook.Content.ReadAsStringAsync()}");

            var tasksPath = $"/api/v1/boards/{board}/tasks";
            await using var sse = ResumingSseClient.Start(host.Edge, host.AdminToken, $"{tasksPath}/stream");
            await sse.Connected.WaitAsync(TimeSpan.FromSeconds(30));

            // Both paths work before anything is killed (and the SSE client has an id to resume from).
            var first = await EdgeSystem.CreateAsync(admin, tasksPath, new { title = "before the load" });
            await UntilAsync(() => CreatedFrames(sse).ContainsKey(first) && deliveries.Any(d => d.Task == first),
                TimeSpan.FromSeconds(30), "the first task's task.created on the SSE stream and at the webhook");

            // The load: every writer on its own connections, each kept 1 s, so that they spread over both edges.
            var accepted = new ConcurrentQueue<(Guid Id, TimeSpan At)>();
            var failures = new ConcurrentQueue<(TimeSpan At, string What)>();
            using var stop = new CancellationTokenSource();
            var loadStart = clock.Elapsed;
            var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
            {
                using var client = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromSeconds(1) })
                {
                    BaseAddress = new Uri(host.Edge),
                    Timeout = TimeSpan.FromSeconds(30),
                };
                client.DefaultRequestHeaders.Authorization = new("Bearer", host.AdminToken);
                for (var i = 0; !stop.IsCancellationRequested; i++)
                {
                    try
                    {
                        // Not cancelled by stop: a request in flight finishes and counts.
                        using var response = await client.PostAsJsonAsync(tasksPath, new { title = $"w{w} #{i}" });
                        if (response.StatusCode == HttpStatusCode.Created)
                            accepted.Enqueue(((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid(), clock.Elapsed));
                        else failures.Enqueue((clock.Elapsed, $"{(int)response.StatusCode} {Truncate(await response.Content.ReadAsStringAsync())}"));
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or IOException)
                    {
                        failures.Enqueue((clock.Elapsed, $"{e.GetType().Name}: {Truncate(e.Message)}"));
                    }
                    await Task.Delay(Pause);
                }
            })).ToArray();

            // The kills, 1.5 s apart from 3 s into the load on; each waits for its own comeback without holding up the next.
            List<(string Name, int Pid, TimeSpan At, TimeSpan Comeback)> kills;
            try
            {
                kills = [.. await Task.WhenAll(Killed.Select(async (name, i) =>
                {
                    await Task.Delay(TimeSpan.FromSeconds(3 + 1.5 * i));
                    var pid = host.Resource(name).Pid;
                    var at = clock.Elapsed;
                    var comeback = await host.KillAndWaitAsync(name, pid);
                    return (name, pid, at, comeback);
                }))];
                await Task.Delay(TimeSpan.FromSeconds(3));
            }
            finally
            {
                await stop.CancelAsync();
                await Task.WhenAll(writers);
            }
            var loadEnd = clock.Elapsed;
            var duration = loadEnd - loadStart;
            output.WriteLine($"times below are seconds since the system was up; the load ran from {loadStart.TotalSeconds:0.0} s to {loadEnd.TotalSeconds:0.0} s");
            foreach (var (name, pid, at, comeback) in kills)
            {
                var during = failures.Count(f => f.At >= at && f.At <= at + comeback);
                output.WriteLine($"{name} (pid {pid}) killed at {at.TotalSeconds:0.0} s: running again (restarts {host.Resource(name).Restarts}) " +
                    $"in {comeback.TotalSeconds:0.0} s; {during} requests failed meanwhile (from any kill)");
            }
            var acceptedIds = accepted.Select(a => a.Id).Append(first).ToHashSet();
            var times = accepted.Select(a => a.At).Order().ToList();
            var longestGap = times.Prepend(loadStart).Zip(times.Append(loadEnd), (from, to) => to - from).Max();
            output.WriteLine($"load: {Writers} writers for {duration.TotalSeconds:0.0} s: {accepted.Count} accepted ({accepted.Count / duration.TotalSeconds:0} writes/s), " +
                $"{failures.Count} failed{(failures.IsEmpty ? "" : $" from {failures.Min(f => f.At).TotalSeconds:0.00} s to {failures.Max(f => f.At).TotalSeconds:0.00} s")}; " +
                $"longest time without an accepted write {longestGap.TotalSeconds:0.00} s");
            foreach (var (at, what) in failures.OrderBy(f => f.At).Take(60)) output.WriteLine($"  failed at {at.TotalSeconds:0.00} s: {what}");
            output.WriteLine($"SSE client: {sse.Connections} connections; drops: {(sse.Drops.Count == 0 ? "none" : string.Join("; ", sse.Drops))}");

            // a. No accepted write lost; a row nobody got a 201 for comes only from a request that failed.
            var listed = await ListAsync(admin, tasksPath);
            var lost = acceptedIds.Except(listed).ToList();
            Assert.True(lost.Count == 0, $"{lost.Count} accepted tasks not listed: {string.Join(", ", lost.Take(10))}");
            Assert.True(listed.Count - acceptedIds.Count <= failures.Count,
                $"{listed.Count} tasks listed, {acceptedIds.Count} accepted, only {failures.Count} requests failed");

            // b. The SSE client: every accepted task's task.created once, over all its connections, and no frame twice.
            await UntilAsync(() => acceptedIds.IsSubsetOf(CreatedFrames(sse).Keys), TimeSpan.FromSeconds(30),
                "every accepted task's task.created on the SSE stream", () => Missing(acceptedIds, CreatedFrames(sse).Keys), () => sse.Frames.Count);
            var frames = sse.Frames;
            var repeatedFrames = frames.GroupBy(f => f.Id).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
            Assert.True(repeatedFrames.Count == 0, $"SSE frames received twice: ids {string.Join(", ", repeatedFrames.Take(20))}");
            Assert.All(frames, f => Assert.NotNull(f.Id));
            var created = CreatedFrames(sse);
            Assert.All(created, c => Assert.True(c.Value == 1, $"task {c.Key}: {c.Value} task.created frames"));
            Assert.Subset(listed, created.Keys.ToHashSet()); // no event of a task that does not exist
            output.WriteLine($"SSE: {frames.Count} frames, {created.Count} task.created, all in by {clock.Elapsed.TotalSeconds:0.0} s");

            // c. The webhook: every accepted task's task.created, and no event twice (a dead instance's lease keeps the other off it).
            var deliveredTasks = () => deliveries.Where(d => d.Event == "task.created").Select(d => d.Task!.Value);
            await UntilAsync(() => acceptedIds.IsSubsetOf(deliveredTasks()), TimeSpan.FromSeconds(30),
                "every accepted task's task.created at the webhook", () => Missing(acceptedIds, deliveredTasks()), () => deliveries.Count);
            await Task.Delay(TimeSpan.FromSeconds(2)); // a late repeat would come now
            var received = deliveries.ToList();
            // A metrics instance killed between sending a delivery and recording its answer leaves it unfinished;
            // the other instance sends it again once the lease expires: the same delivery (X-MC-Delivery) with the
            // same event id, which a receiver drops. That is the only repeat allowed: at most one (the dispatcher
            // sends one delivery at a time per webhook), and only for a delivery sent around metrics-1's kill.
            var metricsKill = kills.Single(k => k.Name == "metrics-1").At;
            var repeated = received.GroupBy(d => d.EventId).Where(g => g.Count() > 1).ToList();
            var inFlightAtKill = repeated.Where(g => g.Count() == 2 && g.Select(d => d.DeliveryId).Distinct().Count() == 1
                && g.Min(d => d.At) >= metricsKill - TimeSpan.FromSeconds(1) && g.Min(d => d.At) <= metricsKill + TimeSpan.FromSeconds(2)).ToList();
            var describe = (IEnumerable<IGrouping<Guid, Delivery>> groups) => string.Join("\n", groups.Take(10).Select(g =>
                $"{g.Key} {g.First().Event}: " + string.Join(", ", g.Select(d => $"delivery {d.DeliveryId} at {d.At.TotalSeconds:0.00} s"))));
            Assert.True(repeated.Count == inFlightAtKill.Count && inFlightAtKill.Count <= 1,
                $"{repeated.Count} events delivered more than once (metrics-1 killed at {metricsKill.TotalSeconds:0.0} s):\n{describe(repeated)}");
            if (inFlightAtKill.Count > 0) output.WriteLine($"sent again after metrics-1's kill (same delivery id): {describe(inFlightAtKill)}");
            var createdEvents = received.Where(d => d.Event == "task.created").GroupBy(d => d.Task!.Value).ToList();
            // One event per task, not the same task under two event ids.
            Assert.All(createdEvents, g => Assert.Single(g.Select(d => d.EventId).Distinct()));
            Assert.Subset(listed, createdEvents.Select(g => g.Key).ToHashSet());
            output.WriteLine($"webhook: {received.Count} deliveries, {createdEvents.Count} task.created, the last at {received.Max(d => d.At).TotalSeconds:0.0} s");

            // d. Requests fail only while in flight on a killed process: at most one per writer per kill.
            Assert.True(failures.Count <= Writers * Killed.Length, $"{failures.Count} requests failed (at most {Writers * Killed.Length} could have been in flight on a killed process)");
            Assert.True(accepted.Any(a => a.At > loadEnd - TimeSpan.FromSeconds(3)), "writes accepted after every instance came back");
            // Nothing is sent to an instance already gone: the edge and the services' clients retry a refused connection on another.
            foreach (var line in host.LogLines("edge-", "Forwarding")) output.WriteLine($"  {line}");
            Assert.DoesNotContain(failures, f => f.What.Contains("Connection refused"));

            Assert.Empty(await host.StopAsync());
        }
        catch
        {
            output.WriteLine(host.Tail(120));
            throw;
        }
    }

    /// <summary>
    /// Polls every 0.5 s (the checks parse every frame so far). Fails when <paramref name="condition"/> stays
    /// false for <paramref name="stalled"/> with no progress: on a loaded machine a backlog may take long to
    /// drain, and only a stall (or a lost event) is a failure.
    /// </summary>
    private static async Task UntilAsync(Func<bool> condition, TimeSpan stalled, string what, Func<string>? missing = null, Func<int>? progress = null)
    {
        var last = progress?.Invoke() ?? 0;
        var deadline = DateTime.UtcNow + stalled;
        while (!condition())
        {
            if (progress?.Invoke() is { } now && now != last)
            {
                last = now;
                deadline = DateTime.UtcNow + stalled;
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{what}: no progress for {stalled.TotalSeconds:0} s{(missing is null ? "" : "; " + missing())}");
            await Task.Delay(500);
        }
    }

    /// <summary>task.created frames per task id, over every connection the client had.</summary>
    private static Dictionary<Guid, int> CreatedFrames(ResumingSseClient sse) =>
        sse.Frames.Select(f => JsonDocument.Parse(f.Data).RootElement)
            .Where(d => d.TryGetProperty("type", out var type) && type.GetString() == "task.created")
            .GroupBy(d => TaskOf(d)!.Value).ToDictionary(g => g.Key, g => g.Count());

    /// <summary>The task an event's data is about (SSE frame data and webhook body data have the same shape).</summary>
    private static Guid? TaskOf(JsonElement data) =>
        data.TryGetProperty("task", out var task) && task.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetGuid() : null;

    /// <summary>
    /// Every task of the board, page by page. The list is ordered by creation time only, so a page boundary
    /// between equal times may skip a row: read again until as many ids as the total were seen.
    /// </summary>
    private static async Task<HashSet<Guid>> ListAsync(HttpClient client, string tasksPath)
    {
        var ids = new HashSet<Guid>();
        for (var pass = 0; pass < 5; pass++)
        {
            int total;
            var offset = 0;
            do
            {
                var page = await client.GetFromJsonAsync<JsonElement>($"{tasksPath}?limit=200&offset={offset}");
                total = page.GetProperty("total").GetInt32();
                var items = page.GetProperty("items").EnumerateArray().Select(t => t.GetProperty("id").GetGuid()).ToList();
                ids.UnionWith(items);
                offset += 200;
                if (items.Count == 0) break;
            } while (offset < total);
            if (ids.Count >= total) return ids;
        }
        return ids;
    }

    private static string Missing(HashSet<Guid> expected, IEnumerable<Guid> got)
    {
        var missing = expected.Except(got).ToList();
        return $"{missing.Count} of {expected.Count} missing: {string.Join(", ", missing.Take(10))}";
    }

    private static string Truncate(string text) => text.Length <= 200 ? text : text[..200] + "…";
}
