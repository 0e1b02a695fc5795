using System.Text;
using System.Threading.Channels;

namespace MissionControl.EndToEnd.Tests;

public sealed record SseFrame(string? Id, string Event, string Data);

/// <summary>Reads an SSE response into frames (comment lines such as heartbeats are skipped).</summary>
public sealed class SseClient : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly Channel<SseFrame> _frames = Channel.CreateUnbounded<SseFrame>();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reader;

    private SseClient(HttpResponseMessage response)
    {
        _response = response;
        _reader = Task.Run(ReadAsync);
    }

    public static async Task<SseClient> OpenAsync(HttpClient client, string url, string? lastEventId = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (lastEventId is not null) request.Headers.Add("Last-Event-ID", lastEventId);
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return new SseClient(response);
    }

    private async Task ReadAsync()
    {
        try
        {
            using var reader = new StreamReader(await _response.Content.ReadAsStreamAsync(_stop.Token), Encoding.UTF8);
            string? id = null, name = null;
            var data = new StringBuilder();
            while (await reader.ReadLineAsync(_stop.Token) is { } line)
            {
                if (line.Length == 0)
                {
                    if (data.Length > 0) await _frames.Writer.WriteAsync(new SseFrame(id, name ?? "message", data.ToString()));
                    (id, name) = (null, null);
                    data.Clear();
                }
                else if (line.StartsWith("id: ")) id = line[4..];
                else if (line.StartsWith("event: ")) name = line[7..];
                else if (line.StartsWith("data: ")) data.Append(line[6..]);
            }
        }
        catch (OperationCanceledException) { }
        catch (IOException) { }
        finally { _frames.Writer.TryComplete(); }
    }

    /// <summary>The next frame; ChannelClosedException once the stream ended, OperationCanceledException after the timeout.</summary>
    public async Task<SseFrame> NextAsync(TimeSpan? timeout = null, CancellationToken ct = default)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout ?? TimeSpan.FromSeconds(10));
        return await _frames.Reader.ReadAsync(cts.Token);
    }

    /// <summary>True when no frame arrives within <paramref name="quiet"/>.</summary>
    public async Task<bool> IsQuietAsync(TimeSpan quiet)
    {
        using var cts = new CancellationTokenSource(quiet);
        try
        {
            await _frames.Reader.WaitToReadAsync(cts.Token);
            return false;
        }
        catch (OperationCanceledException) { return true; }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _response.Dispose();
        await _reader;
    }
}

/// <summary>
/// An SSE client that outlives its connections, as a browser's EventSource does: when the stream ends, fails
/// or stays silent, it connects again (a new connection, so maybe to another edge) with Last-Event-ID set to
/// the last id it saw. Every frame it got, over all connections, is in <see cref="Frames"/>.
/// </summary>
public sealed class ResumingSseClient : IAsyncDisposable
{
    /// <summary>
    /// Silent this long, the connection is taken for dead and replaced (SseClient skips the edge's 15 s pings,
    /// so a quiet stream is resumed too: harmless, nothing is missed or repeated).
    /// </summary>
    private static readonly TimeSpan Silence = TimeSpan.FromSeconds(40);
    private readonly List<SseFrame> _frames = [];
    private readonly List<string> _drops = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string _baseUrl, _bearer, _path;
    private Task _loop = Task.CompletedTask;
    private int _connections;

    private ResumingSseClient(string baseUrl, string bearer, string path) => (_baseUrl, _bearer, _path) = (baseUrl, bearer, path);

    /// <summary>Starts reading; <see cref="Connected"/> completes once the first connection answered.</summary>
    public static ResumingSseClient Start(string baseUrl, string bearer, string path)
    {
        var client = new ResumingSseClient(baseUrl, bearer, path);
        client._loop = Task.Run(client.RunAsync);
        return client;
    }

    public Task Connected => _connected.Task;
    public int Connections => Volatile.Read(ref _connections);

    public IReadOnlyList<SseFrame> Frames
    {
        get { lock (_frames) return [.. _frames]; }
    }

    /// <summary>Why each connection ended or failed, with the time.</summary>
    public IReadOnlyList<string> Drops
    {
        get { lock (_drops) return [.. _drops]; }
    }

    private async Task RunAsync()
    {
        string? lastId = null;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!_stop.IsCancellationRequested)
        {
            // Its own connection each time: a pooled one could be to the edge that just died.
            using var http = new HttpClient { BaseAddress = new Uri(_baseUrl), Timeout = TimeSpan.FromSeconds(15) };
            http.DefaultRequestHeaders.Authorization = new("Bearer", _bearer);
            try
            {
                await using var stream = await SseClient.OpenAsync(http, _path, lastId).WaitAsync(_stop.Token);
                Interlocked.Increment(ref _connections);
                _connected.TrySetResult();
                while (true)
                {
                    var frame = await stream.NextAsync(Silence, _stop.Token);
                    lock (_frames) _frames.Add(frame);
                    if (frame.Id is not null) lastId = frame.Id;
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested) { return; }
            catch (Exception e)
            {
                lock (_drops) _drops.Add($"{clock.Elapsed.TotalSeconds:0.0} s: {e.GetType().Name} {e.Message} (resuming after id {lastId ?? "none"})");
                try { await Task.Delay(250, _stop.Token); } catch (OperationCanceledException) { return; }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
    }
}
