using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace MissionControl.Bench;

/// <summary>The edge's memory at one moment of the fanout phase.</summary>
internal sealed record EdgeMemoryPoint(string Label, long RssKb, long PssKb);

internal sealed record FanoutResult(
    int ClientsRequested,
    int Connected,
    int ConnectFailures,
    string? FirstConnectError,
    double ConnectSeconds,
    double ConnectP50Ms,
    double ConnectP99Ms,
    double ConnectMaxMs,
    int EventsRequested,
    int EventsPosted,
    int PostFailures,
    string? FirstPostError,
    long Expected,
    long Delivered,
    long Late,
    long Duplicates,
    long Unmatched,
    int Dropped,
    string? FirstDropReason,
    double[] LatenciesMs,
    double[] AllClientsMs,
    double? ProbeMs,
    int ProbeReached,
    double EventSeconds,
    double? BenchCpuPercent,
    double? EdgeCpuPercent,
    double BenchRssMb,
    int? EdgePid,
    string EdgeNote,
    IReadOnlyList<EdgeMemoryPoint> Memory,
    string? Aborted)
{
    public long Missing => Expected - Delivered;

    public double Percentile(double p) => Percentiles.Of(LatenciesMs, p);

    public double Max => LatenciesMs.Length == 0 ? double.NaN : LatenciesMs[^1];
}

internal static class Percentiles
{
    /// <summary>Nearest-rank percentile of sorted values.</summary>
    public static double Of(double[] sorted, double p)
    {
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        int rank = (int)Math.Clamp(Math.Ceiling(p / 100.0 * sorted.Length), 1, sorted.Length);
        return sorted[rank - 1];
    }
}

/// <summary>
/// SSE fanout: many clients on one board's task stream at one edge. The clients connect in batches (each waits for
/// the edge's ": connected" comment), then tasks are created one at a time at about 5 a second. For every client and
/// task, the latency runs from just before the POST is sent to the moment that client parsed the task.created frame
/// of that task (matched by a marker in the title). One reader loop per connection; frames are matched without
/// allocating; the arrival times go into one preallocated array of clients × events.
/// </summary>
internal sealed class FanoutBench
{
    private const double EventsPerSecond = 5;
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(30);
    /// <summary>A delivery later than this after its POST started counts as late (missing).</summary>
    private static readonly TimeSpan DeliveryWindow = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan SettleAfterDisconnect = TimeSpan.FromSeconds(3);

    private readonly MissionControlApi _api;
    private readonly BenchOptions _options;
    private readonly int _clients;
    private readonly int _events;
    private readonly int _warmup;
    private readonly int _first;           // the first measured slot: slot 0 is the probe, 1.._warmup the warm-up tasks
    private readonly int _slots;
    private readonly byte[] _marker;       // UTF-8 title prefix: "bench-fan-<run id>-"
    private readonly string _titlePrefix;
    private readonly long[] _start;        // per slot: Stopwatch timestamp just before the POST
    private readonly long[] _received;     // per client × slot: Stopwatch timestamp of the parsed frame, 0 = not yet
    private long _delivered;
    private long _probeReached;
    private long _warmupReached;
    private long _duplicates;
    private long _unmatched;
    private int _dropped;
    private string? _firstDropReason;
    private int _connectFailures;
    private string? _firstConnectError;

    public FanoutBench(MissionControlApi api, BenchOptions options, string runId)
    {
        _api = api;
        _options = options;
        _clients = options.Clients;
        _events = options.FanoutEvents;
        _warmup = Math.Min(options.EventWarmup, 20);
        _first = 1 + _warmup;
        _slots = _first + _events;
        _titlePrefix = $"bench-fan-{runId}-";
        _marker = Encoding.UTF8.GetBytes(_titlePrefix);
        _start = new long[_slots];
        _received = new long[(long)_clients * _slots];
    }

    private sealed class Client(int index)
    {
        public readonly int Index = index;
        public readonly TaskCompletionSource<bool> Ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public SseParser Parser = null!;
        /// <summary>Stopwatch ticks from the request to the ": connected" comment; 0 until then.</summary>
        public long ConnectTicks;
        public Task Run = Task.CompletedTask;
    }

    public async Task<FanoutResult> RunAsync()
    {
        var memory = new List<EdgeMemoryPoint>();
        int? edgePid = ProcessMemory.FindEdge(_options.BaseUri.Port, _options.EdgePid, out string edgeNote);
        Console.WriteLine(edgePid is { } ep ? $"  edge process {ep} ({edgeNote})" : $"  edge memory not measured: {edgeNote}");
        long? fileLimit = ProcessMemory.OpenFileLimit();
        Console.WriteLine($"  open-file limit of the bench: {fileLimit?.ToString(CultureInfo.InvariantCulture) ?? "unknown"}");
        if (fileLimit is { } limit && limit < _clients + 200)
        {
            Console.WriteLine($"  warning: {_clients} clients need about {_clients + 200} file descriptors; raise `ulimit -n` (bench/run.sh tries 65536)");
        }

        Measure(memory, edgePid, "before connecting");

        using HttpClient http = _api.CreateFanoutClient();
        using var stop = new CancellationTokenSource();
        var clients = new Client[_clients];
        for (int i = 0; i < clients.Length; i++)
        {
            clients[i] = new Client(i);
        }

        try
        {
            // 1. Ramp: batches of --connect-batch connecting at once, each batch waiting for its ": connected" comments.
            long rampStart = Stopwatch.GetTimestamp();
            long lastReport = rampStart;
            int batch = _options.ConnectBatch;
            int connected = 0;
            for (int from = 0; from < clients.Length; from += batch)
            {
                int to = Math.Min(from + batch, clients.Length);
                var ready = new Task<bool>[to - from];
                for (int i = from; i < to; i++)
                {
                    Client c = clients[i];
                    c.Run = RunClientAsync(http, c, stop.Token);
                    ready[i - from] = c.Ready.Task;
                }

                foreach (bool ok in await Task.WhenAll(ready).ConfigureAwait(false))
                {
                    connected += ok ? 1 : 0;
                }

                bool last = to == clients.Length;
                if (last || Stopwatch.GetElapsedTime(lastReport) >= TimeSpan.FromSeconds(2))
                {
                    lastReport = Stopwatch.GetTimestamp();
                    Console.WriteLine($"  {connected,6} of {clients.Length} connected ({Volatile.Read(ref _connectFailures)} failed) after {Stopwatch.GetElapsedTime(rampStart).TotalSeconds:0.0} s");
                }

                if (from == 0 && connected == 0)
                {
                    break; // the first batch failed entirely: the rest would too
                }
            }

            double connectSeconds = Stopwatch.GetElapsedTime(rampStart).TotalSeconds;
            double[] connectMs = clients.Where(c => c.ConnectTicks > 0).Select(c => c.ConnectTicks * 1000.0 / Stopwatch.Frequency).Order().ToArray();
            double benchRssMb = (ReadSelfRssKb() ?? 0) / 1024.0;
            Measure(memory, edgePid, $"{connected} clients connected");

            if (connected == 0)
            {
                return Result(connected, connectSeconds, connectMs, 0, 0, null, 0, [], [], null, 0, null, null, null, benchRssMb, edgePid, edgeNote, memory,
                    "no client could connect");
            }

            // 2. Probe (not measured): one task, until every connected client has it; warms the whole path.
            double? probeMs = null;
            (bool probePosted, string? probeError) = await PostAsync(0).ConfigureAwait(false);
            if (probePosted)
            {
                await WaitUntilAsync(() => Interlocked.Read(ref _probeReached) >= connected - Volatile.Read(ref _dropped), Stopwatch.GetTimestamp() + (long)(ProbeTimeout.TotalSeconds * Stopwatch.Frequency)).ConfigureAwait(false);
                long reached = Interlocked.Read(ref _probeReached);
                if (reached > 0)
                {
                    long lastArrival = 0;
                    for (int i = 0; i < _clients; i++)
                    {
                        lastArrival = Math.Max(lastArrival, Volatile.Read(ref _received[(long)i * _slots]));
                    }

                    probeMs = Stopwatch.GetElapsedTime(_start[0], lastArrival).TotalMilliseconds;
                }

                Console.WriteLine($"  probe task reached {reached} of {connected} clients{(probeMs is { } pm ? $", the last after {pm:0.0} ms" : "")}; " +
                    $"then {_warmup} warm-up and {_events} measured tasks at {EventsPerSecond:0.#}/s");
            }
            else
            {
                Console.WriteLine($"  probe task could not be created: {probeError}");
            }

            // 3. Warm-up tasks (not measured, as in the events phase), paced like the measured ones: the JIT has
            //    compiled the hot paths of the bench and the edge before measuring.
            long interval = (long)(Stopwatch.Frequency / EventsPerSecond);
            string? firstPostError = probePosted ? null : probeError;
            int warmupPosted = 0;
            long warmupStart = Stopwatch.GetTimestamp();
            for (int w = 0; probePosted && w < _warmup; w++)
            {
                TimeSpan due = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), warmupStart + (w * interval));
                if (due > TimeSpan.Zero)
                {
                    await Task.Delay(due).ConfigureAwait(false);
                }

                (bool ok, string? error) = await PostAsync(1 + w).ConfigureAwait(false);
                warmupPosted += ok ? 1 : 0;
                firstPostError ??= error;
            }

            if (warmupPosted > 0)
            {
                await WaitUntilAsync(
                    () => Interlocked.Read(ref _warmupReached) >= ((long)connected - Volatile.Read(ref _dropped)) * warmupPosted,
                    Stopwatch.GetTimestamp() + (5 * Stopwatch.Frequency)).ConfigureAwait(false);
            }

            // 4. The measured tasks, one at a time, paced from one loop.
            int posted = 0, postFailures = 0;
            var postedSlot = new bool[_slots];
            using Process self = Process.GetCurrentProcess();
            double benchCpu0 = self.TotalProcessorTime.TotalSeconds;
            double? edgeCpu0 = edgePid is { } pe0 ? ProcessMemory.ReadCpuSeconds(pe0) : null;
            long eventsStart = Stopwatch.GetTimestamp();
            string? aborted = null;
            for (int k = 0; k < _events; k++)
            {
                int seq = _first + k;
                if (Volatile.Read(ref _dropped) >= connected)
                {
                    aborted = $"every client's stream ended ({_firstDropReason}) after {k} of {_events} tasks";
                    break;
                }

                TimeSpan wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), eventsStart + (k * interval));
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait).ConfigureAwait(false);
                }

                (bool ok, string? error) = await PostAsync(seq).ConfigureAwait(false);
                if (ok)
                {
                    posted++;
                    postedSlot[seq] = true;
                }
                else
                {
                    postFailures++;
                    firstPostError ??= error;
                }
            }

            // 5. Until every delivery is in, or the window of the last task has passed.
            long expected = (long)connected * posted;
            long lastStart = Volatile.Read(ref _start[_slots - 1]);
            long deadline = Math.Max(lastStart, Stopwatch.GetTimestamp()) + (long)(DeliveryWindow.TotalSeconds * Stopwatch.Frequency);
            await WaitUntilAsync(() => Interlocked.Read(ref _delivered) >= expected || Volatile.Read(ref _dropped) >= connected, deadline).ConfigureAwait(false);
            double eventSeconds = Stopwatch.GetElapsedTime(eventsStart).TotalSeconds;
            self.Refresh();
            double benchCpu = self.TotalProcessorTime.TotalSeconds - benchCpu0;

            double? edgeCpu = edgePid is { } pe1 && edgeCpu0 is { } e0 && ProcessMemory.ReadCpuSeconds(pe1) is { } e1 ? e1 - e0 : null;
            Measure(memory, edgePid, $"{connected} connected, after the tasks");

            // 6. Latencies: every client × posted task, within the window.
            long windowTicks = (long)(DeliveryWindow.TotalSeconds * Stopwatch.Frequency);
            var latencies = new double[expected];
            var allClients = new List<double>(posted);
            int n = 0;
            long late = 0;
            for (int seq = _first; seq < _slots; seq++)
            {
                if (!postedSlot[seq])
                {
                    continue;
                }

                long start = _start[seq];
                long slowest = 0;
                int got = 0;
                for (int i = 0; i < _clients; i++)
                {
                    long r = Volatile.Read(ref _received[((long)i * _slots) + seq]);
                    if (r == 0)
                    {
                        continue;
                    }

                    long ticks = r - start;
                    if (ticks > windowTicks)
                    {
                        late++;
                        continue;
                    }

                    if (n < latencies.Length)
                    {
                        latencies[n++] = ticks * 1000.0 / Stopwatch.Frequency;
                    }

                    got++;
                    slowest = Math.Max(slowest, ticks);
                }

                if (got >= connected)
                {
                    allClients.Add(slowest * 1000.0 / Stopwatch.Frequency);
                }
            }

            Array.Resize(ref latencies, n);
            Array.Sort(latencies);
            allClients.Sort();

            return Result(connected, connectSeconds, connectMs, posted, postFailures, firstPostError, late, latencies, [.. allClients],
                probeMs, (int)Interlocked.Read(ref _probeReached), eventSeconds, benchCpu, edgeCpu, benchRssMb, edgePid, edgeNote, memory, aborted);
        }
        finally
        {
            // 7. Disconnect everyone, let the edge notice, measure it once more.
            await stop.CancelAsync().ConfigureAwait(false);
            Task all = Task.WhenAll(clients.Select(c => c.Run));
            try
            {
                await all.WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                Console.WriteLine("  warning: some client loops had not ended 30 s after the disconnect");
            }

            await Task.Delay(SettleAfterDisconnect).ConfigureAwait(false);
            Measure(memory, edgePid, $"{SettleAfterDisconnect.TotalSeconds:0} s after disconnecting");
        }
    }

    private FanoutResult Result(int connected, double connectSeconds, double[] connectMs, int posted, int postFailures, string? firstPostError,
        long late, double[] latencies, double[] allClients, double? probeMs, int probeReached, double? eventSeconds,
        double? benchCpu, double? edgeCpu, double benchRssMb, int? edgePid, string edgeNote, List<EdgeMemoryPoint> memory, string? aborted)
    {
        double seconds = eventSeconds ?? 0;
        return new FanoutResult(
            _clients,
            connected,
            Volatile.Read(ref _connectFailures),
            _firstConnectError,
            connectSeconds,
            Percentiles.Of(connectMs, 50),
            Percentiles.Of(connectMs, 99),
            connectMs.Length == 0 ? double.NaN : connectMs[^1],
            _events,
            posted,
            postFailures,
            firstPostError,
            (long)connected * posted,
            latencies.Length,
            late,
            Interlocked.Read(ref _duplicates),
            Interlocked.Read(ref _unmatched),
            Volatile.Read(ref _dropped),
            _firstDropReason,
            latencies,
            allClients,
            probeMs,
            probeReached,
            seconds,
            seconds > 0 && benchCpu is { } b ? b / seconds * 100 : null,
            seconds > 0 && edgeCpu is { } e ? e / seconds * 100 : null,
            benchRssMb,
            edgePid,
            edgeNote,
            memory,
            aborted);
    }

    /// <summary>Connects one client and reads its stream until the bench stops it (or the edge drops it).</summary>
    private async Task RunClientAsync(HttpClient http, Client c, CancellationToken stop)
    {
        // Until ": connected" arrives the client's token carries the connect timeout; the comment disarms it.
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(stop);
        cts.CancelAfter(ConnectTimeout);
        long opened = Stopwatch.GetTimestamp();
        // Task frames are ~1 KB: the buffers start small and grow once to the largest frame.
        c.Parser = new SseParser(
            (name, _, data) => OnFrame(c, name, data),
            text =>
            {
                if (!c.Ready.Task.IsCompleted && text.SequenceEqual("connected"u8))
                {
                    cts.CancelAfter(Timeout.InfiniteTimeSpan);
                    c.ConnectTicks = Stopwatch.GetTimestamp() - opened;
                    c.Ready.TrySetResult(true);
                }
            },
            lineCapacity: 256,
            dataCapacity: 256);

        HttpResponseMessage? response = null;
        try
        {
            using (var request = new HttpRequestMessage(HttpMethod.Get, _api.TaskStreamUri))
            {
                request.Headers.Accept.ParseAdd("text/event-stream");
                request.Headers.CacheControl = new System.Net.Http.Headers.CacheControlHeaderValue { NoCache = true };
                response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token).ConfigureAwait(false);
            }

            if (response.StatusCode != HttpStatusCode.OK)
            {
                ConnectFailed($"HTTP {(int)response.StatusCode} {response.StatusCode}: {await ReadBoundedAsync(response).ConfigureAwait(false)}");
                return;
            }

            Stream stream = await response.Content.ReadAsStreamAsync(cts.Token).ConfigureAwait(false);
            while (true)
            {
                // A zero-byte read waits for data without holding a buffer; one is rented only to take what arrived.
                await stream.ReadAsync(Memory<byte>.Empty, cts.Token).ConfigureAwait(false);
                byte[] buffer = ArrayPool<byte>.Shared.Rent(4096);
                int read;
                try
                {
                    read = await stream.ReadAsync(buffer, cts.Token).ConfigureAwait(false);
                    c.Parser.Feed(buffer.AsSpan(0, read));
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }

                if (read == 0)
                {
                    Ended(c, "closed by the edge");
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The bench is done with it.
        }
        catch (OperationCanceledException) when (!IsConnected(c))
        {
            Ended(c, $"no ': connected' within {ConnectTimeout.TotalSeconds:0} s");
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            Ended(c, MissionControlApi.Describe(ex));
        }
        finally
        {
            c.Ready.TrySetResult(false);
            response?.Dispose();
        }
    }

    private static bool IsConnected(Client c) => c.Ready.Task.IsCompletedSuccessfully && c.Ready.Task.Result;

    /// <summary>A stream that ended before the bench closed it: a failed connect, or a dropped client.</summary>
    private void Ended(Client c, string why)
    {
        if (IsConnected(c))
        {
            Dropped(why);
        }
        else
        {
            ConnectFailed(why);
        }
    }

    private void ConnectFailed(string why)
    {
        if (Interlocked.Increment(ref _connectFailures) == 1)
        {
            _firstConnectError = why;
        }
    }

    private void Dropped(string? why)
    {
        if (Interlocked.Increment(ref _dropped) == 1)
        {
            _firstDropReason = why;
        }
    }

    /// <summary>On the client's reader: the timestamp first, then the task's slot from the marker in its title.</summary>
    private void OnFrame(Client c, ReadOnlySpan<byte> eventName, ReadOnlySpan<byte> data)
    {
        long now = Stopwatch.GetTimestamp();
        if (!eventName.IsEmpty && !eventName.SequenceEqual("task"u8))
        {
            return;
        }

        int seq = MatchCreated(data);
        if (seq == -1)
        {
            return; // not a task.created frame
        }

        if (seq < 0 || seq >= _slots)
        {
            Interlocked.Increment(ref _unmatched);
            return;
        }

        ref long slot = ref _received[((long)c.Index * _slots) + seq];
        if (slot != 0)
        {
            Interlocked.Increment(ref _duplicates);
            return;
        }

        Volatile.Write(ref slot, now);
        Interlocked.Increment(ref seq == 0 ? ref _probeReached : ref seq < _first ? ref _warmupReached : ref _delivered);
    }

    /// <summary>
    /// The slot of a task.created frame whose task title carries this run's marker; -1 for other event types,
    /// -2 for a task.created frame that is not ours (or unreadable). Reads <c>{"type":..,"task":{"title":..}}</c>
    /// without allocating.
    /// </summary>
    private int MatchCreated(ReadOnlySpan<byte> json)
    {
        bool created = false;
        int seq = -2;
        try
        {
            var reader = new Utf8JsonReader(json);
            while (reader.Read())
            {
                if (reader.TokenType != JsonTokenType.PropertyName || reader.CurrentDepth != 1)
                {
                    continue;
                }

                if (reader.ValueTextEquals("type"u8))
                {
                    reader.Read();
                    created = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("task.created"u8);
                }
                else if (reader.ValueTextEquals("task"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        reader.Skip();
                        continue;
                    }

                    while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
                    {
                        bool title = reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals("title"u8);
                        reader.Read();
                        if (title && reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped)
                        {
                            ReadOnlySpan<byte> value = reader.ValueSpan;
                            if (value.StartsWith(_marker) && Utf8Parser.TryParse(value[_marker.Length..], out int s, out int consumed)
                                && consumed == value.Length - _marker.Length)
                            {
                                seq = s;
                            }
                        }
                        else
                        {
                            reader.Skip();
                        }
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            return -2;
        }

        return created ? seq : -1;
    }

    /// <summary>Creates the task of slot <paramref name="seq"/>; its start time is taken just before the request is sent.</summary>
    private async Task<(bool Posted, string? Error)> PostAsync(int seq)
    {
        byte[] json = MissionControlApi.Json(("title", _titlePrefix + seq.ToString(CultureInfo.InvariantCulture)), ("description", "fanout probe"), ("priority", "medium"));
        Volatile.Write(ref _start[seq], Stopwatch.GetTimestamp());
        try
        {
            (HttpStatusCode status, string body) = await _api.SendAsync(HttpMethod.Post, _api.TasksUri, json).ConfigureAwait(false);
            return (int)status is >= 200 and < 300
                ? (true, null)
                : (false, $"HTTP {(int)status} {status} on POST {_api.TasksUri.AbsolutePath}: {MissionControlApi.Trim(body)}");
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
        {
            return (false, $"POST {_api.TasksUri.AbsolutePath}: {MissionControlApi.Describe(ex)}");
        }
    }

    /// <summary>Polls <paramref name="done"/> every 50 ms until it holds or <paramref name="deadline"/> (a Stopwatch timestamp) passes.</summary>
    private static async Task WaitUntilAsync(Func<bool> done, long deadline)
    {
        while (!done() && Stopwatch.GetTimestamp() < deadline)
        {
            await Task.Delay(50).ConfigureAwait(false);
        }
    }

    private static void Measure(List<EdgeMemoryPoint> memory, int? edgePid, string label)
    {
        if (edgePid is { } pid && ProcessMemory.ReadRollupKb(pid) is { } kb)
        {
            memory.Add(new EdgeMemoryPoint(label, kb.RssKb, kb.PssKb));
        }
    }

    private static long? ReadSelfRssKb() => ProcessMemory.ReadRollupKb(Environment.ProcessId)?.RssKb;

    private static async Task<string> ReadBoundedAsync(HttpResponseMessage response)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            return MissionControlApi.Trim(await response.Content.ReadAsStringAsync(cts.Token).ConfigureAwait(false));
        }
        catch (Exception ex) when (ex is OperationCanceledException or HttpRequestException or IOException)
        {
            return "<no body>";
        }
    }
}
