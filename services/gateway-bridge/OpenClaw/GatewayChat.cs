using System.Text;
using System.Text.Json;

namespace MissionControl.GatewayBridge.OpenClaw;

/// <summary>A <c>chat</c> event of one run.</summary>
/// <param name="State">status, delta, final, aborted or error.</param>
/// <param name="Text">The assistant text: the full reply on final, the cumulative snapshot on delta.</param>
public sealed record ChatEvent(string RunId, string SessionKey, string? AgentId, string State, string? Text, string? ErrorMessage)
{
    /// <summary>What a delta added (<c>deltaText</c>).</summary>
    public string? DeltaText { get; init; }

    /// <summary>On status: preparing_workspace, preparing_context, starting_model, …</summary>
    public string? Phase { get; init; }

    public string? StopReason { get; init; }

    /// <summary>On error: refusal, timeout, rate_limit, context_length, unknown.</summary>
    public string? ErrorKind { get; init; }

    public long? Seq { get; init; }

    public bool IsTerminal => State is "final" or "aborted" or "error";
}

/// <summary>Token usage of a run.</summary>
public sealed record ChatUsage(string RunId, string SessionKey, string? Model, long InputTokens, long OutputTokens)
{
    /// <summary>
    /// From the live <c>agent</c> usage stream, which on 2026.9.6 carries only the run's output tokens so
    /// far (InputTokens is 0 then); <see cref="GatewayChat.GetRunUsageAsync"/> has the full numbers.
    /// </summary>
    public bool IsPartial { get; init; }

    public string? Provider { get; init; }
    public string? AgentId { get; init; }
    public long? TotalTokens { get; init; }
    public long? CacheReadTokens { get; init; }
    public long? CacheWriteTokens { get; init; }
}

/// <summary>Sending chat messages to agent sessions and reading the <c>chat</c>/<c>agent</c> events that answer.</summary>
public static class GatewayChat
{
    /// <summary>The session of an agent: <c>agent:&lt;agentId&gt;:&lt;name&gt;</c>.</summary>
    public static string SessionKey(string agentId, string name = "main") => $"agent:{agentId}:{name}";

    /// <summary>
    /// <c>chat.send</c>: the gateway acknowledges at once (<c>{runId, status:"started"}</c>, runId ==
    /// idempotencyKey) and the reply arrives as <c>chat</c> events. Resending the same idempotencyKey does
    /// not start a second run.
    /// </summary>
    /// <param name="deliver">Also deliver the reply to the session's outside channel (2026.9.6 accepts it).</param>
    public static async Task SendAsync(IGatewayRpc rpc, string sessionKey, string message, string idempotencyKey, bool deliver, CancellationToken ct) =>
        await StartAsync(rpc, sessionKey, message, idempotencyKey, deliver, ct);

    /// <summary><see cref="SendAsync"/> returning the run id the gateway acknowledged.</summary>
    public static async Task<string> StartAsync(IGatewayRpc rpc, string sessionKey, string message, string idempotencyKey, bool deliver, CancellationToken ct)
    {
        // followup: a message that arrives while the agent is busy gets a turn (and a run id) of its own
        // after the current one, instead of being steered into it, so its reply can be told apart.
        var ack = await rpc.RequestAsync("chat.send", new ChatSendParams(sessionKey, message, idempotencyKey, deliver ? true : null, "followup"), ct);
        return ack.ValueKind == JsonValueKind.Object && ack.TryGetProperty("runId", out var runId) && runId.ValueKind == JsonValueKind.String
            ? runId.GetString()! : idempotencyKey;
    }

    private sealed record ChatSendParams(string SessionKey, string Message, string IdempotencyKey, bool? Deliver, string QueueMode);

    public static bool TryParse(GatewayEvent e, out ChatEvent chat)
    {
        chat = null!;
        var p = e.Payload;
        if (e.Name != "chat" || p.ValueKind != JsonValueKind.Object || Str(p, "runId") is not { } runId || Str(p, "state") is not { } state)
        {
            return false;
        }
        var message = p.TryGetProperty("message", out var m) ? m : default;
        chat = new ChatEvent(runId, Str(p, "sessionKey") ?? "", Str(p, "agentId"), state, MessageText(message), Str(p, "errorMessage"))
        {
            DeltaText = Str(p, "deltaText"),
            Phase = Str(p, "phase"),
            StopReason = Str(p, "stopReason"),
            ErrorKind = Str(p, "errorKind"),
            Seq = Long(p, "seq"),
        };
        return true;
    }

    /// <summary>
    /// Usage from an <c>agent</c> event with <c>stream:"usage"</c> (2026.9.6 sends <c>data:{outputTokens}</c>
    /// only, the run's total so far: the result is <see cref="ChatUsage.IsPartial"/>), or from a final
    /// <c>chat</c> event whose message carries <c>usage</c> (not seen on 2026.9.6, where the full usage is
    /// in chat.history: <see cref="GetRunUsageAsync"/>).
    /// </summary>
    public static bool TryParseUsage(GatewayEvent e, out ChatUsage usage)
    {
        usage = null!;
        var p = e.Payload;
        if (p.ValueKind != JsonValueKind.Object || Str(p, "runId") is not { } runId)
        {
            return false;
        }
        JsonElement source;
        JsonElement owner;
        if (e.Name == "agent" && Str(p, "stream") == "usage" && p.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object)
        {
            owner = data;
            source = data.TryGetProperty("usage", out var inner) && inner.ValueKind == JsonValueKind.Object ? inner : data;
        }
        else if (e.Name == "chat" && Str(p, "state") == "final" && p.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.Object
                 && message.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object)
        {
            owner = message;
            source = u;
        }
        else
        {
            return false;
        }
        var input = Long(source, "inputTokens", "input", "promptTokens", "prompt_tokens", "input_tokens");
        var output = Long(source, "outputTokens", "output", "completionTokens", "completion_tokens", "output_tokens");
        if (input is null && output is null)
        {
            return false;
        }
        usage = new ChatUsage(runId, Str(p, "sessionKey") ?? "", Str(owner, "model") ?? Str(source, "model"), input ?? 0, output ?? 0)
        {
            IsPartial = input is null,
            Provider = Str(owner, "provider") ?? Str(source, "provider"),
            AgentId = Str(p, "agentId"),
            TotalTokens = Long(source, "totalTokens", "total", "total_tokens"),
            CacheReadTokens = Long(source, "cacheRead", "cacheReadTokens"),
            CacheWriteTokens = Long(source, "cacheWrite", "cacheWriteTokens"),
        };
        return true;
    }

    /// <summary>
    /// The full usage of a finished run, from the session transcript (<c>chat.history</c>): the sum over the
    /// run's assistant messages of <c>usage {input, output, totalTokens, cacheRead, cacheWrite}</c>, with the
    /// provider and model of the last one. Null when the transcript has no assistant message of that run
    /// (yet, or any more among the last <paramref name="limit"/> messages).
    /// </summary>
    public static async Task<ChatUsage?> GetRunUsageAsync(IGatewayRpc rpc, string sessionKey, string runId, CancellationToken ct, int limit = 50)
    {
        var history = await rpc.RequestAsync("chat.history", new { sessionKey, limit }, ct);
        if (!history.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array)
        {
            return null;
        }
        ChatUsage? total = null;
        foreach (var message in messages.EnumerateArray())
        {
            if (Str(message, "role") != "assistant"
                || !message.TryGetProperty("__openclaw", out var meta) || Str(meta, "runId") != runId
                || !message.TryGetProperty("usage", out var u) || u.ValueKind != JsonValueKind.Object)
            {
                continue;
            }
            var input = Long(u, "input", "inputTokens") ?? 0;
            var output = Long(u, "output", "outputTokens") ?? 0;
            total = new ChatUsage(runId, sessionKey, Str(message, "model"), (total?.InputTokens ?? 0) + input, (total?.OutputTokens ?? 0) + output)
            {
                AgentId = sessionKey.Split(':') is ["agent", var agentId, ..] ? agentId : null,
                Provider = Str(message, "provider"),
                TotalTokens = (total?.TotalTokens ?? 0) + (Long(u, "totalTokens", "total") ?? input + output),
                CacheReadTokens = (total?.CacheReadTokens ?? 0) + (Long(u, "cacheRead") ?? 0),
                CacheWriteTokens = (total?.CacheWriteTokens ?? 0) + (Long(u, "cacheWrite") ?? 0),
            };
        }
        return total;
    }

    /// <summary>The text parts of a message <c>{role, content:[{type:"text", text}]}</c> (or a plain string content).</summary>
    private static string? MessageText(JsonElement message)
    {
        if (message.ValueKind == JsonValueKind.String)
        {
            return message.GetString();
        }
        if (message.ValueKind != JsonValueKind.Object || !message.TryGetProperty("content", out var content))
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
            if (part.ValueKind == JsonValueKind.Object && Str(part, "type") is "text" or null && Str(part, "text") is { } t)
            {
                text.Append(t);
            }
        }
        return text.ToString();
    }

    private static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static long? Long(JsonElement e, params string[] names)
    {
        foreach (var name in names)
        {
            if (e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number)
            {
                return v.TryGetInt64(out var l) ? l : (long)v.GetDouble();
            }
        }
        return null;
    }
}
