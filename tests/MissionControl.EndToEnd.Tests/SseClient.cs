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

    public async Task<SseFrame> NextAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
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
