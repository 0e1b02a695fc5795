using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MissionControl.Testing;

/// <summary>One <c>/v1/chat/completions</c> call the fake model received, and what it answered.</summary>
public sealed record FakeModelRequest(
    JsonElement Body, string? Model, string? SystemPrompt, string? LastUserMessage, bool Stream, string Reply, int PromptTokens, int CompletionTokens)
{
    public int TotalTokens => PromptTokens + CompletionTokens;
}

/// <summary>
/// A tiny OpenAI-compatible model on 127.0.0.1 (Kestrel, random port) for gateways under test. It
/// answers every chat completion with <see cref="ReplyFor"/> of the last user message, streamed as
/// <c>chat.completion.chunk</c> SSE frames with a final usage chunk and <c>[DONE]</c>, and records what
/// it was sent (the system prompt shows which workspace files the agent was given).
/// </summary>
public sealed class FakeModelServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<FakeModelRequest> _requests = new();

    private FakeModelServer(WebApplication app) => _app = app;

    /// <summary><c>http://127.0.0.1:&lt;port&gt;</c>.</summary>
    public string Url { get; private set; } = "";

    /// <summary>The API root a provider config wants: <c>http://127.0.0.1:&lt;port&gt;/v1</c>.</summary>
    public string BaseUrl => Url + "/v1";

    /// <summary>Waited before the first frame of every reply (to test aborts and timeouts).</summary>
    public TimeSpan Delay { get; set; }

    public IReadOnlyList<FakeModelRequest> Requests => [.. _requests];

    /// <summary>Raised after a request has been answered.</summary>
    public event Action<FakeModelRequest>? RequestCompleted;

    private const string InternalContextMarker = "<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>";

    /// <summary>
    /// The deterministic answer to a user message: <c>"Ack: "</c> and the first 80 characters of what the
    /// user wrote. OpenClaw wraps that text as <c>[Mon 2026-11-30 04:13 UTC] text</c> followed by a blank
    /// line and <c>Runtime: …</c>; the envelope is left out, so the reply to "hello" is "Ack: hello".
    /// </summary>
    public static string ReplyFor(string? lastUserMessage) => "Ack: " + Truncate(UserText(lastUserMessage), 80);

    /// <summary>What the user wrote, without OpenClaw's timestamp prefix and runtime trailer.</summary>
    public static string UserText(string? message)
    {
        var text = (message ?? "").Trim();
        if (text.StartsWith('[') && text.IndexOf("] ", StringComparison.Ordinal) is > 0 and var close)
        {
            text = text[(close + 2)..];
        }
        var trailer = text.IndexOf("\n\nRuntime: ", StringComparison.Ordinal);
        return (trailer >= 0 ? text[..trailer] : text).Trim();
    }

    private static string Truncate(string text, int length) => text.Length > length ? text[..length] : text;

    public static async Task<FakeModelServer> StartAsync(CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new FakeModelServer(app);
        app.MapPost("/v1/chat/completions", server.CompletionsAsync);
        app.MapGet("/v1/models", () => Results.Json(new { @object = "list", data = new[] { new { id = "fake-model", @object = "model", owned_by = "fake" } } }));
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Url = address.Replace("[::1]", "127.0.0.1", StringComparison.Ordinal).TrimEnd('/');
        return server;
    }

    private async Task CompletionsAsync(HttpContext context)
    {
        var ct = context.RequestAborted;
        using var document = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: ct);
        var body = document.RootElement.Clone();
        var messages = body.TryGetProperty("messages", out var m) && m.ValueKind == JsonValueKind.Array ? m.EnumerateArray().ToList() : [];
        string? Last(params string[] roles) =>
            messages.LastOrDefault(x => roles.Contains(x.TryGetProperty("role", out var r) ? r.GetString() : null)) is { ValueKind: JsonValueKind.Object } found
                ? ContentText(found) : null;
        var system = Last("system", "developer");
        // OpenClaw sends the operator's message, then a user-role block of its own internal context.
        var user = messages
            .Where(x => x.TryGetProperty("role", out var r) && r.GetString() == "user")
            .Select(ContentText)
            .LastOrDefault(text => text is not null && !text.StartsWith(InternalContextMarker, StringComparison.Ordinal));
        var model = body.TryGetProperty("model", out var mm) ? mm.GetString() : null;
        var stream = body.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
        var reply = ReplyFor(user);
        // Rough but deterministic counts: 4 characters a token in, a word a token out.
        var request = new FakeModelRequest(body, model, system, user, stream, reply,
            PromptTokens: Math.Max(1, body.GetRawText().Length / 4), CompletionTokens: reply.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
        _requests.Enqueue(request);

        if (Delay > TimeSpan.Zero)
        {
            await Task.Delay(Delay, ct);
        }
        var id = "chatcmpl-" + Guid.NewGuid().ToString("N")[..12];
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var usage = new JsonObject
        {
            ["prompt_tokens"] = request.PromptTokens,
            ["completion_tokens"] = request.CompletionTokens,
            ["total_tokens"] = request.TotalTokens,
        };
        if (!stream)
        {
            await context.Response.WriteAsJsonAsync(new JsonObject
            {
                ["id"] = id, ["object"] = "chat.completion", ["created"] = created, ["model"] = model,
                ["choices"] = new JsonArray(new JsonObject
                {
                    ["index"] = 0,
                    ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = reply },
                    ["finish_reason"] = "stop",
                }),
                ["usage"] = usage,
            }, ct);
            RequestCompleted?.Invoke(request);
            return;
        }

        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        JsonObject Chunk(JsonObject? delta, string? finish) => new()
        {
            ["id"] = id, ["object"] = "chat.completion.chunk", ["created"] = created, ["model"] = model,
            ["choices"] = delta is null && finish is null ? new JsonArray()
                : new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta ?? new JsonObject(), ["finish_reason"] = finish }),
        };
        async Task SendAsync(string data)
        {
            await context.Response.WriteAsync("data: " + data + "\n\n", Encoding.UTF8, ct);
            await context.Response.Body.FlushAsync(ct);
        }

        await SendAsync(Chunk(new JsonObject { ["role"] = "assistant", ["content"] = "" }, null).ToJsonString());
        // The reply in a few pieces, so clients see several deltas.
        foreach (var piece in Pieces(reply, 3))
        {
            await SendAsync(Chunk(new JsonObject { ["content"] = piece }, null).ToJsonString());
        }
        await SendAsync(Chunk(null, "stop").ToJsonString());
        var last = Chunk(null, null);
        last["usage"] = usage;
        await SendAsync(last.ToJsonString());
        await SendAsync("[DONE]");
        RequestCompleted?.Invoke(request);
    }

    /// <summary>Text of a message whose content is a string or an array of parts.</summary>
    private static string? ContentText(JsonElement message)
    {
        if (!message.TryGetProperty("content", out var content))
        {
            return null;
        }
        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString();
        }
        if (content.ValueKind != JsonValueKind.Array)
        {
            return null;
        }
        var text = new StringBuilder();
        foreach (var part in content.EnumerateArray())
        {
            if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String)
            {
                text.Append(t.GetString());
            }
        }
        return text.ToString();
    }

    private static IEnumerable<string> Pieces(string text, int count)
    {
        var size = Math.Max(1, (text.Length + count - 1) / count);
        for (var i = 0; i < text.Length; i += size)
        {
            yield return text.Substring(i, Math.Min(size, text.Length - i));
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
    }
}
