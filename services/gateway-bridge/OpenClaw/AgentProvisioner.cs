using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace MissionControl.GatewayBridge.OpenClaw;

/// <summary>What a provisioning run did, with its timings in milliseconds.</summary>
/// <param name="FilesWritten">Files set on the gateway by this run.</param>
/// <param name="FilesSkipped">Files the gateway does not accept (e.g. TOOLS.md on 2026.9.6); see <see cref="SkipReasons"/>.</param>
/// <param name="CreateMs">agents.create (or its "already exists" answer).</param>
/// <param name="VisibleAfterMs">From create's answer until the agent answered (the "not found" window after create).</param>
/// <param name="FilesMs">Reading and writing the files.</param>
public sealed record ProvisionResult(
    IReadOnlyList<string> FilesWritten, IReadOnlyList<string> FilesSkipped, double CreateMs, double VisibleAfterMs, double FilesMs, double TotalMs)
{
    /// <summary>The agent existed already (a repeated run): the files were read first and written with expectedHash.</summary>
    public bool AgentExisted { get; init; }

    /// <summary>Files in preserveIfPresent that the gateway already had, left alone.</summary>
    public IReadOnlyList<string> FilesPreserved { get; init; } = [];

    /// <summary>Files whose content on the gateway was already the wanted one (not written again).</summary>
    public IReadOnlyList<string> FilesUnchanged { get; init; } = [];

    /// <summary>Why each skipped file was skipped: the gateway's message.</summary>
    public IReadOnlyDictionary<string, string> SkipReasons { get; init; } = new Dictionary<string, string>();

    /// <summary>How many "agent not found" answers were retried while the gateway reloaded its config.</summary>
    public int NotFoundRetries { get; init; }
}

/// <summary>
/// Creates, fills and deletes agents on an OpenClaw gateway (2026.9.x): <c>agents.create</c>, then the
/// workspace files with <c>agents.files.set</c>, then <c>agents.delete</c>. Every step may be repeated:
/// a provisioning run that failed half-way is simply run again.
/// </summary>
public static partial class AgentProvisioner
{
    /// <summary>
    /// How long to retry "agent not found" after create. agents.create answers before the gateway has
    /// reloaded its config; the new agent is unknown for a few hundred ms (200–370 ms measured).
    /// </summary>
    public static TimeSpan VisibilityTimeout { get; set; } = TimeSpan.FromSeconds(8);

    // The gateway's canonical agent id; anything else is silently rewritten from the name, so we refuse it.
    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,63}$")]
    private static partial Regex ValidAgentId();

    /// <summary>
    /// <c>agents.create {name: gatewayAgentId, workspace}</c> (there is no id parameter: the gateway derives
    /// the id from the name; "already exists" means a repeated run), waits until the agent is visible,
    /// then sets each file. Unsupported file names are skipped and reported, never fatal. When the agent
    /// already existed, each file is read first: files in <paramref name="preserveIfPresent"/> that exist
    /// are left alone (e.g. MEMORY.md the agent keeps), identical ones are not rewritten, and the others are
    /// written with the read hash as expectedHash. A fresh agent's files are all written (what it has then
    /// are the gateway's templates).
    /// </summary>
    public static async Task<ProvisionResult> ProvisionAsync(IGatewayRpc rpc, string gatewayAgentId, string workspacePath,
        IReadOnlyDictionary<string, string> files, IReadOnlyCollection<string> preserveIfPresent, CancellationToken ct)
    {
        if (!ValidAgentId().IsMatch(gatewayAgentId))
        {
            throw new ArgumentException($"'{gatewayAgentId}' is not a canonical OpenClaw agent id (^[a-z0-9][a-z0-9_-]{{0,63}}$).", nameof(gatewayAgentId));
        }
        var total = Stopwatch.StartNew();
        var existed = false;
        try
        {
            var created = await rpc.RequestAsync("agents.create", new { name = gatewayAgentId, workspace = workspacePath }, ct);
            if (created.ValueKind == JsonValueKind.Object && created.TryGetProperty("agentId", out var id) && id.GetString() != gatewayAgentId)
            {
                throw new GatewayException("INVALID_REQUEST", $"The gateway created agent '{id.GetString()}' instead of '{gatewayAgentId}'.");
            }
        }
        catch (GatewayException e) when (IsAlreadyExists(e))
        {
            existed = true;
        }
        var createMs = total.Elapsed.TotalMilliseconds;

        var retries = 0;
        var visible = Stopwatch.StartNew();
        retries += await UntilVisibleAsync(() => rpc.RequestAsync("agents.files.list", new { agentId = gatewayAgentId }, ct), ct);
        var visibleAfterMs = visible.Elapsed.TotalMilliseconds;

        var filesClock = Stopwatch.StartNew();
        var written = new List<string>();
        var skipped = new List<string>();
        var preserved = new List<string>();
        var unchanged = new List<string>();
        var reasons = new Dictionary<string, string>(StringComparer.Ordinal);
        var preserve = preserveIfPresent.ToHashSet(StringComparer.Ordinal);
        foreach (var (name, content) in files)
        {
            try
            {
                string? expectedHash = null;
                if (existed)
                {
                    var current = await ReadAsync(rpc, gatewayAgentId, name, ct);
                    if (current is not null && preserve.Contains(name))
                    {
                        preserved.Add(name);
                        continue;
                    }
                    if (current?.Hash is { } hash && string.Equals(hash, Sha256Hex(content), StringComparison.OrdinalIgnoreCase))
                    {
                        unchanged.Add(name);
                        continue;
                    }
                    expectedHash = current?.Hash;
                }
                try
                {
                    await SetAsync(rpc, gatewayAgentId, name, content, expectedHash, ct);
                }
                catch (GatewayException e) when (IsConflict(e))
                {
                    // Changed between our read and our write (the agent itself writes its files).
                    var now = await ReadAsync(rpc, gatewayAgentId, name, ct);
                    if (now is not null && preserve.Contains(name))
                    {
                        preserved.Add(name);
                        continue;
                    }
                    await SetAsync(rpc, gatewayAgentId, name, content, now?.Hash, ct);
                }
                written.Add(name);
            }
            catch (GatewayException e) when (IsUnsupportedFile(e))
            {
                skipped.Add(name);
                reasons[name] = e.Message;
            }
        }
        return new ProvisionResult(written, skipped, createMs, visibleAfterMs, filesClock.Elapsed.TotalMilliseconds, total.Elapsed.TotalMilliseconds)
        {
            AgentExisted = existed,
            FilesPreserved = preserved,
            FilesUnchanged = unchanged,
            SkipReasons = reasons,
            NotFoundRetries = retries,
        };
    }

    /// <summary>
    /// Removes the agent with its files (moved to the gateway host's trash) and, when the gateway allows
    /// it, its session, and waits (up to <see cref="VisibilityTimeout"/>) until agents.list no longer shows
    /// it. An agent or session that does not exist is a success: the delete is being repeated.
    /// </summary>
    public static async Task DeleteAsync(IGatewayRpc rpc, string gatewayAgentId, string sessionKey, CancellationToken ct)
    {
        try
        {
            await rpc.RequestAsync("sessions.delete", new { key = sessionKey }, ct);
        }
        catch (GatewayException e) when (e.Code == "INVALID_REQUEST")
        {
            // Unknown session or agent, or a main session (which the gateway never deletes on its own:
            // agents.delete trashes the agent's whole sessions folder below).
        }
        try
        {
            await rpc.RequestAsync("agents.delete", new { agentId = gatewayAgentId, deleteFiles = true }, ct);
        }
        catch (GatewayException e) when (IsNotFound(e))
        {
            return;
        }
        // Like create, delete answers before the config reload: wait until the agent is really gone,
        // so that what follows (a new agent with the same id, a listing) sees the gateway as it will be.
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < VisibilityTimeout && await IsListedAsync(rpc, gatewayAgentId, ct))
        {
            await Task.Delay(50, ct);
        }
    }

    private static async Task<bool> IsListedAsync(IGatewayRpc rpc, string agentId, CancellationToken ct)
    {
        var list = await rpc.RequestAsync("agents.list", null, ct);
        return list.TryGetProperty("agents", out var agents) && agents.ValueKind == JsonValueKind.Array
            && agents.EnumerateArray().Any(a => a.TryGetProperty("id", out var id) && id.GetString() == agentId);
    }

    private sealed record FileState(string? Hash, string? Content);

    /// <summary>The file as the gateway has it, or null when it is missing.</summary>
    private static async Task<FileState?> ReadAsync(IGatewayRpc rpc, string agentId, string name, CancellationToken ct)
    {
        JsonElement payload = default;
        await UntilVisibleAsync(async () => payload = await rpc.RequestAsync("agents.files.get", new { agentId, name }, ct), ct);
        if (!payload.TryGetProperty("file", out var file) || file.TryGetProperty("missing", out var missing) && missing.ValueKind == JsonValueKind.True)
        {
            return null;
        }
        string? Str(string p) => file.TryGetProperty(p, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        var content = Str("content");
        return new FileState(Str("hash") ?? (content is null ? null : Sha256Hex(content)), content);
    }

    private static Task<int> SetAsync(IGatewayRpc rpc, string agentId, string name, string content, string? expectedHash, CancellationToken ct) =>
        UntilVisibleAsync(() => rpc.RequestAsync("agents.files.set", new { agentId, name, content, expectedHash }, ct), ct);

    /// <summary>Runs <paramref name="call"/>, retrying "agent not found" (50 ms, then 75, then 100 ms steps); returns the retries.</summary>
    private static async Task<int> UntilVisibleAsync(Func<Task<JsonElement>> call, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var step = 50;
        for (var retries = 0; ; retries++)
        {
            try
            {
                await call();
                return retries;
            }
            catch (GatewayException e) when (IsNotFound(e) && clock.Elapsed < VisibilityTimeout)
            {
                await Task.Delay(step, ct);
                step = Math.Min(100, step + 25);
            }
        }
    }

    // These answers carry no details.code on 2026.9.6, only INVALID_REQUEST and a message, so the
    // message is all there is to go on (pinned gateway version; older ones said "unknown agent id").
    internal static bool IsNotFound(GatewayException e) =>
        e.Code == "INVALID_REQUEST" && (e.Message.Contains("not found", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("unknown agent", StringComparison.OrdinalIgnoreCase));

    internal static bool IsAlreadyExists(GatewayException e) =>
        e.Code == "INVALID_REQUEST" && e.Message.Contains("already exists", StringComparison.OrdinalIgnoreCase);

    internal static bool IsUnsupportedFile(GatewayException e) =>
        e.Code == "INVALID_REQUEST" && e.Message.Contains("unsupported file", StringComparison.OrdinalIgnoreCase);

    internal static bool IsConflict(GatewayException e) =>
        e.Details is { ValueKind: JsonValueKind.Object } d && d.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String && t.GetString() == "agent_file_conflict";

    /// <summary>SHA-256 hex of the UTF-8 bytes: the gateway's file <c>hash</c>.</summary>
    public static string Sha256Hex(string content) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(content)));
}
