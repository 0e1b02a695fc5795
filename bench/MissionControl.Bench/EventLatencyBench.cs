using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;

namespace MissionControl.Bench;

internal sealed record EventResult(
    int Requested,
    int Sent,
    int Received,
    int Late,
    double[] LatenciesMs,
    int PostFailures,
    string? FirstError,
    IReadOnlyList<string> MissingSamples,
    long Heartbeats,
    long Duplicates,
    long Unmatched,
    string? Aborted,
    double? StreamOpenMs,
    double? ProbeMs,
    double[] AnsweredMs,
    EventStages? Stages = null)
{
    public int Missing => Sent - Received;

    /// <summary>Nearest-rank percentile of the received events, in ms.</summary>
    public double Percentile(double p) => Percentiles.Of(LatenciesMs, p);

    public double Max => LatenciesMs.Length == 0 ? double.NaN : LatenciesMs[^1];

    /// <summary>Nearest-rank percentile of the time the request itself took (start to its answer read), in ms: the rest of the latency is the event's way to the stream.</summary>
    public double AnsweredPercentile(double p) => Percentiles.Of(AnsweredMs, p);

    public static EventResult Failed(int requested, string why) =>
        new(requested, 0, 0, 0, [], 0, why, [], 0, 0, 0, why, null, null, []);
}

/// <summary>
/// Where the measured events' time went, from the stamps the system itself puts on each event (read back from
/// /api/v1/events after the run; every process runs on this machine, so on one clock): tasks stamps the event while it
/// builds it, before the commit (occurred_at); metrics when it starts the batch that logs it (logged_at). Sorted, in ms.
/// </summary>
internal sealed record EventStages(double[] ToStampedMs, double[] StampedToLoggedMs, double[] LoggedToFrameMs);

/// <summary>What makes the events: new tasks (task.created), or PATCHes of one task's status (task.status_changed).</summary>
internal enum EventSource
{
    Create,
    StatusChange,
}

/// <summary>
/// Event latency: keeps one SSE connection to the board's task stream open and creates tasks one at a time.
/// Each task's title carries a marker (run id + sequence number); the latency of an event is the time from
/// just before its POST is sent to the moment its frame is parsed off the stream. The frame may arrive
/// before the POST's response; matching by the marker in the title (or, failing that, by the task id the
/// POST returns) handles both orders.
/// </summary>
internal sealed class EventLatencyBench
{
    private const int ProbeAttempts = 3;
    private const int MaxConsecutiveMisses = 20;
    private const int MaxConsecutiveMissesWithoutProbe = 3;
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan EventTimeout = TimeSpan.FromSeconds(5);

    private readonly MissionControlApi _api;
    private readonly string _titlePrefix;
    private readonly long[] _start;
    private readonly long[] _answered;
    private readonly long[] _received;
    private readonly string?[] _taskIds;
    private readonly bool[] _posted;
    private readonly TaskCompletionSource?[] _signals;
    private readonly Dictionary<string, int> _seqById = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _unclaimedById = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _streamEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly int _events;
    private readonly int _warmup;
    private readonly EventSource _source;
    private readonly string _eventType;
    private Uri? _subject;
    private long _duplicates;
    private long _unmatched;
    private string? _streamEndReason;
    // One instant on both clocks: the events' stamps are wall-clock UTC, the bench times with the Stopwatch.
    private readonly DateTime _wallAtBase = DateTime.UtcNow;
    private readonly long _timestampAtBase = Stopwatch.GetTimestamp();

    private readonly int _gapMs;

    public EventLatencyBench(MissionControlApi api, string runId, int events, int warmup, EventSource source, int gapMs = 0)
    {
        _gapMs = gapMs;
        _api = api;
        _source = source;
        _eventType = source == EventSource.Create ? "task.created" : "task.status_changed";
        _events = events;
        _warmup = warmup;
        _titlePrefix = source == EventSource.Create ? $"bench-evt-{runId}-" : $"bench-status-{runId}-";
        int capacity = ProbeAttempts + warmup + events;
        _start = new long[capacity];
        _answered = new long[capacity];
        _received = new long[capacity];
        _taskIds = new string?[capacity];
        _posted = new bool[capacity];
        _signals = new TaskCompletionSource?[capacity];
    }

    public async Task<EventResult> RunAsync()
    {
        if (_source == EventSource.StatusChange)
        {
            // One task, PATCHed over and over: its title carries the marker of each change.
            byte[] json = MissionControlApi.Json(("title", _titlePrefix + "subject"), ("description", "status change latency probe"));
            (HttpStatusCode status, string body) = await _api.PostJsonAsync(_api.TasksUri, json).ConfigureAwait(false);
            if ((int)status is < 200 or >= 300 || MissionControlApi.TryReadId(body) is not { } id)
            {
                return EventResult.Failed(_events, $"could not create the task to PATCH: {(int)status} {MissionControlApi.Trim(body)}");
            }

            _subject = new Uri(_api.TasksUri + "/" + id);
        }

        using HttpClient streamClient = _api.CreateStreamClient();
        using var phaseCts = new CancellationTokenSource();
        using var request = new HttpRequestMessage(HttpMethod.Get, _api.TaskStreamUri);
        request.Headers.Accept.ParseAdd("text/event-stream");
        request.Headers.CacheControl = new System.Net.Http.Headers.CacheControlHeaderValue { NoCache = true };

        HttpResponseMessage response;
        long connectStart = Stopwatch.GetTimestamp();
        try
        {
            using var connectCts = CancellationTokenSource.CreateLinkedTokenSource(phaseCts.Token);
            connectCts.CancelAfter(TimeSpan.FromSeconds(10));
            response = await streamClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, connectCts.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            return EventResult.Failed(_events, $"could not open the SSE stream {_api.TaskStreamUri.AbsolutePath}: {MissionControlApi.Describe(ex)}");
        }

        double streamOpenMs = Stopwatch.GetElapsedTime(connectStart).TotalMilliseconds;
        using (response)
        {
            if (response.StatusCode != HttpStatusCode.OK)
            {
                string body = await ReadBoundedAsync(response).ConfigureAwait(false);
                return EventResult.Failed(_events, $"SSE stream {_api.TaskStreamUri.AbsolutePath} answered {(int)response.StatusCode} {response.StatusCode}: {body}");
            }

            string? mediaType = response.Content.Headers.ContentType?.MediaType;
            if (!string.Equals(mediaType, "text/event-stream", StringComparison.OrdinalIgnoreCase))
            {
                Console.WriteLine($"  warning: SSE stream content type is '{mediaType ?? "<none>"}', expected text/event-stream");
            }

            Stream stream = await response.Content.ReadAsStreamAsync(phaseCts.Token).ConfigureAwait(false);
            var parser = new SseParser(OnEvent);
            Task reader = ReadLoopAsync(stream, parser, phaseCts.Token);
            try
            {
                Console.WriteLine($"  stream open after {streamOpenMs:0.0} ms");
                return await SendAllAsync(parser, streamOpenMs).ConfigureAwait(false);
            }
            finally
            {
                phaseCts.Cancel();
                try
                {
                    await reader.ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is OperationCanceledException or IOException or HttpRequestException or ObjectDisposedException)
                {
                    // The stream is torn down on purpose.
                }
            }
        }
    }

    private async Task<EventResult> SendAllAsync(SseParser parser, double streamOpenMs)
    {
        int next = 0;
        int postFailures = 0;
        string? firstError = null;

        // 1. Probe: prove the subscription is live end to end before measuring anything.
        double? probeMs = null;
        for (int attempt = 0; attempt < ProbeAttempts && probeMs is null && !_streamEnded.Task.IsCompleted; attempt++)
        {
            int seq = next++;
            (bool posted, string? error) = await SendOneAsync(seq, ProbeTimeout).ConfigureAwait(false);
            firstError ??= error;
            if (posted && ReceivedWithin(seq, ProbeTimeout) is { } ms)
            {
                probeMs = ms;
            }
        }

        Console.WriteLine(probeMs is { } p
            ? $"  probe event arrived after {p:0.00} ms; {_warmup} warm-up events, then {_events} measured{(_gapMs > 0 ? $", each after a {_gapMs} ms pause" : "")}"
            : $"  warning: no probe event arrived within {ProbeTimeout.TotalSeconds:0} s ({ProbeAttempts} tries); skipping warm-up, measuring anyway");

        // 2. Warm-up events (not measured): JIT and caches along the event path. Skipped when the probe saw nothing.
        for (int i = 0; probeMs is not null && i < _warmup && !_streamEnded.Task.IsCompleted; i++)
        {
            (_, string? error) = await SendOneAsync(next++, EventTimeout).ConfigureAwait(false);
            firstError ??= error;
        }

        // 3. Measured events, strictly one after the other.
        int measuredFrom = next;
        int sent = 0, consecutiveMisses = 0;
        int maxConsecutiveMisses = probeMs is null ? MaxConsecutiveMissesWithoutProbe : MaxConsecutiveMisses;
        string? aborted = null;
        for (int i = 0; i < _events; i++)
        {
            if (_streamEnded.Task.IsCompleted)
            {
                aborted = $"the SSE stream ended ({_streamEndReason}) after {i} of {_events} events";
                break;
            }

            if (_gapMs > 0) await Task.Delay(_gapMs).ConfigureAwait(false);
            int seq = next++;
            (bool posted, string? error) = await SendOneAsync(seq, EventTimeout).ConfigureAwait(false);
            if (!posted)
            {
                postFailures++;
                firstError ??= error;
            }
            else
            {
                sent++;
            }

            consecutiveMisses = posted && ReceivedWithin(seq, EventTimeout) is not null ? 0 : consecutiveMisses + 1;
            if (consecutiveMisses >= maxConsecutiveMisses)
            {
                aborted = $"{maxConsecutiveMisses} events in a row failed or went unseen; stopped after {i + 1} of {_events}";
                break;
            }
        }

        var latencies = new List<double>(sent);
        var answered = new List<double>(sent);
        var missing = new List<string>();
        int late = 0;
        for (int seq = measuredFrom; seq < next; seq++)
        {
            if (!_posted[seq])
            {
                continue;
            }

            answered.Add(Stopwatch.GetElapsedTime(_start[seq], _answered[seq]).TotalMilliseconds);
            if (ReceivedWithin(seq, EventTimeout) is { } ms)
            {
                latencies.Add(ms);
                continue;
            }

            bool arrivedLate = Volatile.Read(ref _received[seq]) != 0;
            if (arrivedLate)
            {
                late++;
            }

            if (missing.Count < 10)
            {
                missing.Add($"#{seq - measuredFrom} (task {_taskIds[seq] ?? "?"}){(arrivedLate ? " arrived late" : "")}");
            }
        }

        latencies.Sort();
        answered.Sort();
        EventStages? stages = latencies.Count > 0 ? await ReadStagesAsync(measuredFrom, next).ConfigureAwait(false) : null;
        return new EventResult(
            _events,
            sent,
            latencies.Count,
            late,
            [.. latencies],
            postFailures,
            firstError,
            missing,
            parser.Heartbeats,
            Interlocked.Read(ref _duplicates),
            Interlocked.Read(ref _unmatched) + UnclaimedCount(),
            aborted,
            streamOpenMs,
            probeMs,
            [.. answered],
            stages);
    }

    /// <summary>The sequence number a title carries after this run's marker (the stream's frames and the log's events alike).</summary>
    private bool TrySeqOf(string? title, out int seq)
    {
        seq = -1;
        return title is not null && title.StartsWith(_titlePrefix, StringComparison.Ordinal)
            && int.TryParse(title.AsSpan(_titlePrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out seq);
    }

    private DateTime WallClock(long timestamp) => _wallAtBase + Stopwatch.GetElapsedTime(_timestampAtBase, timestamp);

    /// <summary>
    /// Reads the measured events back from the log (matched by the title marker, which a PATCH also sets) and splits
    /// each one's latency at its two stamps; null when the log cannot be read.
    /// </summary>
    private async Task<EventStages?> ReadStagesAsync(int from, int to)
    {
        var stamps = new Dictionary<int, (DateTime Occurred, DateTime Logged)>();
        string since = Uri.EscapeDataString((WallClock(_start[from]) - TimeSpan.FromSeconds(1)).ToString("O", CultureInfo.InvariantCulture));
        string? after = null;
        for (int page = 0; page < 100; page++)
        {
            var uri = new Uri(_api.BaseUri, $"api/v1/events?type={_eventType}&limit=200&" + (after is null ? $"since={since}" : $"after={after}"));
            (HttpStatusCode status, string body) = await _api.SendAsync(HttpMethod.Get, uri).ConfigureAwait(false);
            if (status != HttpStatusCode.OK)
            {
                return null;
            }

            using var doc = JsonDocument.Parse(body);
            foreach (JsonElement item in doc.RootElement.GetProperty("items").EnumerateArray())
            {
                JsonElement data = item.GetProperty("data");
                JsonElement task = data.TryGetProperty("task", out var t) ? t : data;
                string? title = task.TryGetProperty("title", out var v) ? v.GetString() : null;
                if (TrySeqOf(title, out int seq))
                {
                    stamps.TryAdd(seq, (item.GetProperty("occurred_at").GetDateTime().ToUniversalTime(), item.GetProperty("logged_at").GetDateTime().ToUniversalTime()));
                }
            }

            if (!doc.RootElement.GetProperty("has_more").GetBoolean())
            {
                break;
            }

            after = doc.RootElement.GetProperty("next_after").GetRawText();
        }

        var toStamped = new List<double>();
        var toLogged = new List<double>();
        var toFrame = new List<double>();
        for (int seq = from; seq < to; seq++)
        {
            // The events the latency figures count: posted, and received within the timeout.
            long received = Volatile.Read(ref _received[seq]);
            if (!_posted[seq] || ReceivedWithin(seq, EventTimeout) is null || !stamps.TryGetValue(seq, out var stamp))
            {
                continue;
            }

            toStamped.Add((stamp.Occurred - WallClock(_start[seq])).TotalMilliseconds);
            toLogged.Add((stamp.Logged - stamp.Occurred).TotalMilliseconds);
            toFrame.Add((WallClock(received) - stamp.Logged).TotalMilliseconds);
        }

        if (toStamped.Count == 0)
        {
            return null;
        }

        toStamped.Sort();
        toLogged.Sort();
        toFrame.Sort();
        return new EventStages([.. toStamped], [.. toLogged], [.. toFrame]);
    }

    /// <summary>Creates task <paramref name="seq"/> and waits (bounded) for its event. Returns whether the POST succeeded.</summary>
    private async Task<(bool Posted, string? Error)> SendOneAsync(int seq, TimeSpan timeout)
    {
        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _signals[seq], signal);
        string title = _titlePrefix + seq.ToString(CultureInfo.InvariantCulture);
        byte[] json = _subject is null
            ? MissionControlApi.Json(("title", title), ("description", "event latency probe"), ("priority", "medium"))
            : MissionControlApi.Json(("title", title), ("status", (seq & 1) == 0 ? "in_progress" : "inbox"));
        using var request = _subject is null
            ? new HttpRequestMessage(HttpMethod.Post, _api.TasksUri) { Content = MissionControlApi.JsonContent(json, json.Length) }
            : new HttpRequestMessage(HttpMethod.Patch, _subject) { Content = MissionControlApi.JsonContent(json, json.Length) };

        long t0 = Stopwatch.GetTimestamp();
        Volatile.Write(ref _start[seq], t0);
        string body;
        HttpStatusCode status;
        try
        {
            using HttpResponseMessage response = await _api.Client.SendAsync(request, HttpCompletionOption.ResponseContentRead).ConfigureAwait(false);
            status = response.StatusCode;
            body = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
            _answered[seq] = Stopwatch.GetTimestamp();
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
        {
            return (false, $"POST {_api.TasksUri.AbsolutePath}: {MissionControlApi.Describe(ex)}");
        }

        if ((int)status is < 200 or >= 300)
        {
            return (false, $"HTTP {(int)status} {status} on POST {_api.TasksUri.AbsolutePath}: {MissionControlApi.Trim(body)}");
        }

        _posted[seq] = true;

        // Every PATCH names the same task: only the marker in the title tells the events apart.
        if (_subject is null && MissionControlApi.TryReadId(body) is { } id)
        {
            _taskIds[seq] = id;
            long unclaimed = 0;
            lock (_seqById)
            {
                _seqById[id] = seq;
                if (_unclaimedById.Remove(id, out long ts))
                {
                    unclaimed = ts;
                }
            }

            if (unclaimed != 0)
            {
                Record(seq, unclaimed);
            }
        }

        TimeSpan remaining = timeout - Stopwatch.GetElapsedTime(t0);
        if (Volatile.Read(ref _received[seq]) == 0 && remaining > TimeSpan.Zero)
        {
            try
            {
                await Task.WhenAny(signal.Task, _streamEnded.Task).WaitAsync(remaining).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Reported as missing.
            }
        }

        return (true, null);
    }

    private int UnclaimedCount()
    {
        lock (_seqById)
        {
            return _unclaimedById.Count;
        }
    }

    private double? ReceivedWithin(int seq, TimeSpan timeout)
    {
        long received = Volatile.Read(ref _received[seq]);
        long start = Volatile.Read(ref _start[seq]);
        if (received == 0 || start == 0)
        {
            return null;
        }

        TimeSpan elapsed = Stopwatch.GetElapsedTime(start, received);
        return elapsed <= timeout ? elapsed.TotalMilliseconds : null;
    }

    private async Task ReadLoopAsync(Stream stream, SseParser parser, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                int read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    _streamEndReason = "closed by the server";
                    break;
                }

                parser.Feed(buffer.AsSpan(0, read));
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _streamEndReason = "closed by the bench";
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            _streamEndReason = MissionControlApi.Describe(ex);
        }
        finally
        {
            _streamEnded.TrySetResult();
        }
    }

    /// <summary>Runs on the reader for every dispatched frame; the timestamp is taken first.</summary>
    private void OnEvent(ReadOnlySpan<byte> eventName, ReadOnlySpan<byte> id, ReadOnlySpan<byte> data)
    {
        long now = Stopwatch.GetTimestamp();
        if (!eventName.IsEmpty && !eventName.SequenceEqual("task"u8))
        {
            return;
        }

        string? type, taskId, title;
        try
        {
            ExtractTask(data, out type, out taskId, out title);
        }
        catch (JsonException)
        {
            Interlocked.Increment(ref _unmatched);
            return;
        }

        if (type is not null && type != _eventType)
        {
            return;
        }

        if (TrySeqOf(title, out int seq)
            && seq >= 0 && seq < _received.Length)
        {
            Record(seq, now);
            return;
        }

        if (taskId is not null && _subject is null)
        {
            int found = -1;
            lock (_seqById)
            {
                if (_seqById.TryGetValue(taskId, out int s))
                {
                    found = s;
                }
                else if (_unclaimedById.Count < 100_000)
                {
                    // The event may have beaten its POST's response: keep it until the POST returns the id.
                    // Entries never claimed are counted as unmatched at the end.
                    _unclaimedById.TryAdd(taskId, now);
                    return;
                }
            }

            if (found >= 0)
            {
                Record(found, now);
                return;
            }
        }

        Interlocked.Increment(ref _unmatched);
    }

    private void Record(int seq, long timestamp)
    {
        if (Interlocked.CompareExchange(ref _received[seq], timestamp, 0) == 0)
        {
            Volatile.Read(ref _signals[seq])?.TrySetResult();
        }
        else
        {
            Interlocked.Increment(ref _duplicates);
        }
    }

    /// <summary>
    /// Reads "type" and the task's "id" and "title" from <c>{"type":"task.created","task":{"id":..,"title":..}}</c>;
    /// falls back to a bare task object at the root.
    /// </summary>
    internal static void ExtractTask(ReadOnlySpan<byte> json, out string? type, out string? id, out string? title)
    {
        type = null;
        string? taskId = null, taskTitle = null, rootId = null, rootTitle = null;
        bool sawTask = false;
        var reader = new Utf8JsonReader(json);
        while (reader.Read())
        {
            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                continue;
            }

            if (reader.CurrentDepth == 1)
            {
                if (reader.ValueTextEquals("task"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject)
                    {
                        sawTask = true;
                        ReadTaskObject(ref reader, out taskId, out taskTitle);
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
                else if (reader.ValueTextEquals("type"u8))
                {
                    type = ReadStringOrSkip(ref reader);
                }
                else if (reader.ValueTextEquals("id"u8))
                {
                    rootId = ReadStringOrSkip(ref reader);
                }
                else if (reader.ValueTextEquals("title"u8))
                {
                    rootTitle = ReadStringOrSkip(ref reader);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }

        id = sawTask ? taskId : rootId;
        title = sawTask ? taskTitle : rootTitle;
    }

    private static void ReadTaskObject(ref Utf8JsonReader reader, out string? id, out string? title)
    {
        id = null;
        title = null;
        int depth = reader.CurrentDepth;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
        {
            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                continue;
            }

            if (reader.ValueTextEquals("id"u8))
            {
                id = ReadStringOrSkip(ref reader);
            }
            else if (reader.ValueTextEquals("title"u8))
            {
                title = ReadStringOrSkip(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    private static string? ReadStringOrSkip(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.String)
        {
            return reader.GetString();
        }

        reader.Skip();
        return null;
    }

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
