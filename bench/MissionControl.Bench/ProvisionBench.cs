extern alias bridge;

using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using bridge::MissionControl.GatewayBridge.OpenClaw;

namespace MissionControl.Bench;

/// <summary>An agent did not get ready, or a step on the gateway failed (exit code 5).</summary>
internal sealed class ProvisionFailedException(string message) : Exception(message);

/// <summary>
/// Agent provisioning on a real OpenClaw gateway: N agents through Mission Control (POST /api/v1/agents,
/// then GET until ready), then the same gateway work done directly with the gateway-bridge's own client
/// (agents.create, agents.files.list until visible, agents.files.set of the five files), one agent at a
/// time on each side, and what Mission Control adds per agent.
/// </summary>
internal static partial class ProvisionBench
{
    /// <summary>What openclaw 2026.9.6 accepts of Mission Control's workspace files (it refuses TOOLS.md).</summary>
    private static readonly string[] FileNames = ["AGENTS.md", "SOUL.md", "IDENTITY.md", "USER.md", "MEMORY.md"];
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);
    private const string GatewayName = "bench";

    private sealed record ApiAgent(string Id, string Name, string? GatewayAgentId, double Ms, int Polls);

    private sealed record DirectAgent(string Id, double Ms, ProvisionResult Result);

    [GeneratedRegex(@"mca_[A-Za-z0-9_\-]+")]
    private static partial Regex AgentToken();

    public static async Task<int> RunAsync(string[] args)
    {
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

        ProvisionOptions? options = ProvisionOptions.Parse(args, out string? error);
        if (options is null)
        {
            Console.Error.WriteLine($"bench provision: {error} (see --help)");
            return 1;
        }

        if (options.ShowHelp)
        {
            Console.WriteLine(ProvisionOptions.Usage);
            return 0;
        }

        string runId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
        string loadAtStart = LoadAverage();
        Console.WriteLine("Mission Control provisioning bench");
        Console.WriteLine($"  target    {options.BaseUri}");
        Console.WriteLine($"  gateway   {options.GatewayUrl}  workspace root {options.WorkspaceRoot}  ({options.GatewaySource})");
        Console.WriteLine($"  agents    {options.Agents} on each side, one after another, after {options.Warmup} unmeasured");
        Console.WriteLine($"  token     {(options.Token is null ? "none found (requests go without Authorization)" : "from " + options.TokenSource)}");
        Console.WriteLine($"  run id    {runId}  (bench pid {Environment.ProcessId}, {Environment.ProcessorCount} cores, load average {loadAtStart})");

        using var api = new MissionControlApi(options.BaseUri, options.Token);
        var total = Stopwatch.StartNew();
        var throughApi = new List<ApiAgent>();
        var direct = new List<DirectAgent>();
        var apiLeft = new List<ApiAgent>();
        var directLeft = new List<string>();
        List<double> apiDeleteSeconds = [];
        int apiLeftBehind = 0;
        double directDeleteMeanMs = double.NaN;
        GatewayClient? gateway = null;
        try
        {
            Progress("checking that the system answers");
            string rateLimit = await api.EnsureReachableAsync().ConfigureAwait(false);
            Console.WriteLine($"  {options.BaseUri} answers; {rateLimit}");

            Progress($"connecting to the gateway directly (client gateway-client, mode backend, protocol 4)");
            gateway = await ConnectAsync(options).ConfigureAwait(false);
            Console.WriteLine($"  OpenClaw {gateway.Hello.ServerVersion}, protocol {gateway.Hello.Protocol}, scopes {string.Join(",", gateway.Hello.Scopes)}");

            Progress($"setup: the gateway's registration in the admin's organization (\"{GatewayName}\", or one with its url), and a board on it");
            (string gatewayId, string workspaceRoot) = await EnsureGatewayAsync(api, options).ConfigureAwait(false);
            string boardId = await CreateBoardAsync(api, gatewayId, runId).ConfigureAwait(false);
            Console.WriteLine($"  board        {boardId}");

            Progress($"through Mission Control: POST /api/v1/agents, then GET /api/v1/agents/{{id}} every {PollInterval.TotalMilliseconds:0} ms until ready");
            for (int i = 1; i <= options.Warmup + options.Agents; i++)
            {
                bool warm = i <= options.Warmup;
                string name = warm ? $"bench-{runId}-warmup-{i}" : $"bench-{runId}-{i - options.Warmup:00}";
                ApiAgent agent = await ProvisionThroughApiAsync(api, boardId, name, apiLeft).ConfigureAwait(false);
                if (!warm)
                {
                    throughApi.Add(agent);
                }

                Console.WriteLine($"  {(warm ? "warm-up" : $"{i - options.Warmup,3}/{options.Agents}")}  {name,-24} ready in {agent.Ms,7:0} ms  ({agent.GatewayAgentId})");
            }

            Progress("reading back the files Mission Control wrote (the direct run writes the same ones)");
            IReadOnlyDictionary<string, string> files = await ReadFilesAsync(gateway, apiLeft[^1].GatewayAgentId!).ConfigureAwait(false);
            Console.WriteLine($"  {string.Join(", ", files.Select(f => $"{f.Key} {f.Value.Length:N0} chars"))}");

            // Both sides start from the same gateway: the API's agents are gone before the direct run.
            Progress($"deleting the {apiLeft.Count} agents through the API, one at a time, each until the gateway no longer lists it");
            (apiDeleteSeconds, List<string> leftBehind) = await DeleteThroughApiAsync(api, gateway, apiLeft).ConfigureAwait(false);
            Console.WriteLine($"  each gone from the gateway after mean {apiDeleteSeconds.Average():0.0} s, max {apiDeleteSeconds.Max():0.0} s");
            if (leftBehind.Count > 0)
            {
                apiLeftBehind = leftBehind.Count;
                Console.WriteLine($"  {leftBehind.Count} left on the gateway by Mission Control: deleting them there directly");
                await DeleteDirectAsync(gateway, leftBehind).ConfigureAwait(false);
            }

            Progress("the gateway alone: agents.create, agents.files.list until visible, agents.files.set x 5" + (options.DirectWake ? ", chat.send of the wake message" : ""));
            for (int i = 1; i <= options.Warmup + options.Agents; i++)
            {
                bool warm = i <= options.Warmup;
                DirectAgent agent = await ProvisionDirectAsync(gateway, workspaceRoot, files, options.DirectWake, directLeft).ConfigureAwait(false);
                if (!warm)
                {
                    direct.Add(agent);
                }

                ProvisionResult r = agent.Result;
                Console.WriteLine(
                    $"  {(warm ? "warm-up" : $"{i - options.Warmup,3}/{options.Agents}")}  {agent.Id,-42} {agent.Ms,7:0} ms  " +
                    $"(create {r.CreateMs:0}, visible after {r.VisibleAfterMs:0}, files {r.FilesMs:0}; {r.FilesWritten.Count} written" +
                    (r.FilesSkipped.Count > 0 ? $", skipped {string.Join(",", r.FilesSkipped)}" : "") + ")");
            }

            Progress($"deleting the {directLeft.Count} agents on the gateway: agents.delete");
            directDeleteMeanMs = await DeleteDirectAsync(gateway, directLeft).ConfigureAwait(false);
            Console.WriteLine($"  agents.delete mean {directDeleteMeanMs:0} ms");
        }
        catch (UnreachableException ex)
        {
            Console.Error.WriteLine($"bench provision: ERROR: {ex.Message}");
            return 2;
        }
        catch (SetupException ex)
        {
            Console.Error.WriteLine($"bench provision: ERROR: {ex.Message}");
            return 3;
        }
        catch (ProvisionFailedException ex)
        {
            Console.Error.WriteLine($"bench provision: ERROR: {ex.Message}");
            return 5;
        }
        finally
        {
            await CleanUpAsync(api, gateway, apiLeft, directLeft).ConfigureAwait(false);
            if (gateway is not null)
            {
                await gateway.DisposeAsync().ConfigureAwait(false);
            }
        }

        PrintSummary(options, throughApi, direct, apiDeleteSeconds, apiLeftBehind, directDeleteMeanMs, loadAtStart, total.Elapsed);
        return 0;
    }

    private static async Task<GatewayClient> ConnectAsync(ProvisionOptions options)
    {
        try
        {
            // The defaults are the bridge's: gateway-client, backend, operator.admin/read/write, protocol 4, token in auth.token.
            return await GatewayClient.ConnectAsync(new GatewayConnectOptions(options.GatewayUrl!, options.GatewayToken), CancellationToken.None).ConfigureAwait(false);
        }
        catch (GatewayException e)
        {
            throw new UnreachableException($"cannot connect to the gateway at {options.GatewayUrl}: {e.Code} {e.Message}");
        }
    }

    /// <summary>
    /// Reuses the gateway named "bench" (brought up to date: url, token, workspace root), else a
    /// registration of the same URL as it is (one gateway registered twice would have two live sessions,
    /// each reporting its agents' replies), else registers it. Returns its id and workspace root.
    /// </summary>
    private static async Task<(string Id, string WorkspaceRoot)> EnsureGatewayAsync(MissionControlApi api, ProvisionOptions options)
    {
        (HttpStatusCode status, string body) = await SendAsync(api, HttpMethod.Get, "api/v1/gateways?limit=200").ConfigureAwait(false);
        if (status != HttpStatusCode.OK)
        {
            throw new SetupException($"GET /api/v1/gateways answered {(int)status}: {MissionControlApi.Trim(body)} (the token must be an organization admin's)");
        }

        string url = options.GatewayUrl!.ToString().TrimEnd('/');
        JsonElement? named = null;
        JsonElement? sameUrl = null;
        using (var doc = JsonDocument.Parse(body))
        {
            foreach (JsonElement g in doc.RootElement.GetProperty("items").EnumerateArray())
            {
                if (g.GetProperty("name").GetString() == GatewayName)
                {
                    named ??= g.Clone();
                }
                else if (g.GetProperty("url").GetString()?.TrimEnd('/') == url)
                {
                    sameUrl ??= g.Clone();
                }
            }
        }

        string how;
        if (named is null && sameUrl is { } registered)
        {
            how = $"reused \"{registered.GetProperty("name").GetString()}\", registered with the same url";
            body = registered.GetRawText();
        }
        else
        {
            var fields = new Dictionary<string, string?> { ["url"] = url, ["workspace_root"] = options.WorkspaceRoot, ["token"] = options.GatewayToken };
            string call;
            if (named is { } reused)
            {
                call = $"PATCH /api/v1/gateways/{reused.GetProperty("id").GetString()}";
                how = "reused";
                (status, body) = await SendAsync(api, HttpMethod.Patch, $"api/v1/gateways/{reused.GetProperty("id").GetString()}", fields).ConfigureAwait(false);
            }
            else
            {
                call = "POST /api/v1/gateways";
                how = "registered";
                fields["name"] = GatewayName;
                (status, body) = await SendAsync(api, HttpMethod.Post, "api/v1/gateways", fields).ConfigureAwait(false);
            }

            if ((int)status is < 200 or > 299)
            {
                throw new SetupException($"{call} answered {(int)status}: {MissionControlApi.Trim(body)}");
            }
        }

        using var answer = JsonDocument.Parse(body);
        string id = answer.RootElement.GetProperty("id").GetString()!;
        string root = answer.RootElement.GetProperty("workspace_root").GetString()!;
        string state = answer.RootElement.GetProperty("connection").GetProperty("state").GetString() ?? "?";
        Console.WriteLine($"  gateway      {id}  ({how}, {state}; workspace root {root})");
        return (id, root);
    }

    private static async Task<string> CreateBoardAsync(MissionControlApi api, string gatewayId, string runId)
    {
        (HttpStatusCode status, string body) = await SendAsync(api, HttpMethod.Post, "api/v1/boards", new Dictionary<string, string?>
        {
            ["name"] = $"provisioning bench {runId}", ["description"] = "agents made by bench/provision.sh", ["gateway_id"] = gatewayId,
        }).ConfigureAwait(false);
        if (status != HttpStatusCode.Created)
        {
            throw new SetupException($"POST /api/v1/boards answered {(int)status}: {MissionControlApi.Trim(body)}");
        }

        return MissionControlApi.TryReadId(body) ?? throw new SetupException($"POST /api/v1/boards answered without an id: {MissionControlApi.Trim(body)}");
    }

    /// <summary>POST, then GET until ready; the time runs from just before the POST to the GET that says ready.</summary>
    private static async Task<ApiAgent> ProvisionThroughApiAsync(MissionControlApi api, string boardId, string name, List<ApiAgent> created)
    {
        var fields = new Dictionary<string, string?> { ["board_id"] = boardId, ["name"] = name };
        var copiesDeadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            var clock = Stopwatch.StartNew();
            (HttpStatusCode status, string body) = await SendAsync(api, HttpMethod.Post, "api/v1/agents", fields).ConfigureAwait(false);
            if (status is HttpStatusCode.NotFound or HttpStatusCode.UnprocessableEntity && DateTime.UtcNow < copiesDeadline)
            {
                // The agents service learns of a new board and gateway from events: moments after creating them it may not know them yet.
                await Task.Delay(200).ConfigureAwait(false);
                continue;
            }

            if (status != HttpStatusCode.Created)
            {
                throw new ProvisionFailedException($"POST /api/v1/agents ({name}) answered {(int)status}: {MissionControlApi.Trim(body)}");
            }

            string id = MissionControlApi.TryReadId(body)!;
            var agent = new ApiAgent(id, name, null, 0, 0);
            created.Add(agent);
            for (int polls = 1; ; polls++)
            {
                (status, body) = await SendAsync(api, HttpMethod.Get, $"api/v1/agents/{id}").ConfigureAwait(false);
                if (status != HttpStatusCode.OK)
                {
                    throw new ProvisionFailedException($"GET /api/v1/agents/{id} ({name}) answered {(int)status}: {MissionControlApi.Trim(body)}");
                }

                using var doc = JsonDocument.Parse(body);
                string agentStatus = doc.RootElement.GetProperty("status").GetString() ?? "";
                string? lastError = doc.RootElement.TryGetProperty("last_provision_error", out JsonElement e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;
                if (agentStatus is "ready" or "online")
                {
                    double ms = clock.Elapsed.TotalMilliseconds;
                    string? gatewayAgentId = doc.RootElement.GetProperty("gateway_agent_id").GetString();
                    var ready = agent with { GatewayAgentId = gatewayAgentId, Ms = ms, Polls = polls };
                    created[^1] = ready;
                    return ready;
                }

                if (agentStatus == "provision_failed")
                {
                    throw new ProvisionFailedException($"agent {name} ({id}) is provision_failed after {clock.Elapsed.TotalSeconds:0.0} s: {lastError ?? "(no last_provision_error)"}");
                }

                if (clock.Elapsed > ReadyTimeout)
                {
                    throw new ProvisionFailedException(
                        $"agent {name} ({id}) is still {agentStatus} after {ReadyTimeout.TotalSeconds:0} s (last_provision_error: {lastError ?? "none"})");
                }

                await Task.Delay(PollInterval).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The five files as Mission Control wrote them for one agent, its token blanked out.</summary>
    private static async Task<IReadOnlyDictionary<string, string>> ReadFilesAsync(GatewayClient gateway, string gatewayAgentId)
    {
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string name in FileNames)
        {
            JsonElement answer = await Rpc(gateway, "agents.files.get", new { agentId = gatewayAgentId, name }).ConfigureAwait(false);
            string content = answer.GetProperty("file").TryGetProperty("content", out JsonElement c) ? c.GetString() ?? "" : "";
            files[name] = AgentToken().Replace(content, m => "mca_" + new string('x', m.Length - 4));
        }

        return files;
    }

    /// <summary>
    /// One at a time: DELETE, then wait (up to 60 s) until the gateway no longer lists the agent. Returns the
    /// time of each, and the gateway agent ids Mission Control left on the gateway.
    /// </summary>
    private static async Task<(List<double> Seconds, List<string> LeftBehind)> DeleteThroughApiAsync(
        MissionControlApi api, GatewayClient gateway, List<ApiAgent> agents)
    {
        var seconds = new List<double>();
        var leftBehind = new List<string>();
        foreach (ApiAgent agent in agents.ToList())
        {
            var clock = Stopwatch.StartNew();
            (HttpStatusCode status, string body) = await SendAsync(api, HttpMethod.Delete, $"api/v1/agents/{agent.Id}").ConfigureAwait(false);
            if ((int)status is < 200 or > 299)
            {
                throw new ProvisionFailedException($"DELETE /api/v1/agents/{agent.Id} answered {(int)status}: {MissionControlApi.Trim(body)}");
            }

            agents.Remove(agent);
            if (agent.GatewayAgentId is not { } id)
            {
                continue;
            }

            while (await IsListedAsync(gateway, id).ConfigureAwait(false))
            {
                if (clock.Elapsed > TimeSpan.FromSeconds(60))
                {
                    Console.WriteLine($"  {agent.Name}: still on the gateway 60 s after its DELETE");
                    leftBehind.Add(id);
                    break;
                }

                await Task.Delay(100).ConfigureAwait(false);
            }

            seconds.Add(clock.Elapsed.TotalSeconds);
        }

        return (seconds, leftBehind);
    }

    private static async Task<bool> IsListedAsync(GatewayClient gateway, string agentId)
    {
        JsonElement list = await Rpc(gateway, "agents.list", null).ConfigureAwait(false);
        return list.GetProperty("agents").EnumerateArray().Any(a => a.GetProperty("id").GetString() == agentId);
    }

    /// <summary>The bridge's own provisioning steps for a fresh agent, straight on the gateway.</summary>
    private static async Task<DirectAgent> ProvisionDirectAsync(
        GatewayClient gateway, string workspaceRoot, IReadOnlyDictionary<string, string> files, bool wake, List<string> created)
    {
        string id = "mc-" + Guid.NewGuid();
        created.Add(id);
        // The workspace the bridge would give it: <root>/workspace-<gateway agent id>.
        string workspace = $"{workspaceRoot}/workspace-{id}";
        var clock = Stopwatch.StartNew();
        try
        {
            ProvisionResult result = await AgentProvisioner.ProvisionAsync(gateway, id, workspace, files, [], CancellationToken.None).ConfigureAwait(false);
            if (wake)
            {
                // What the bridge sends after the files (its text is the agents service's); the turn it starts is not waited for.
                string message = "Hello bench. Your workspace has been provisioned.\n\nStart the agent. If BOOTSTRAP.md exists, read it first, " +
                                 "then read AGENTS.md. Begin heartbeats after startup.";
                await GatewayChat.SendAsync(gateway, GatewayChat.SessionKey(id), message, $"wake-{id}", deliver: false, CancellationToken.None).ConfigureAwait(false);
            }

            return new DirectAgent(id, clock.Elapsed.TotalMilliseconds, result);
        }
        catch (GatewayException e)
        {
            throw new ProvisionFailedException($"provisioning {id} on the gateway failed after {clock.Elapsed.TotalMilliseconds:0} ms: {e.Code} {e.Message}");
        }
    }

    /// <summary>agents.delete each one (files trashed); returns the mean time of a delete in ms.</summary>
    private static async Task<double> DeleteDirectAsync(GatewayClient gateway, List<string> agents)
    {
        var times = new List<double>();
        foreach (string id in agents.ToList())
        {
            var clock = Stopwatch.StartNew();
            try
            {
                await gateway.RequestAsync("agents.delete", new { agentId = id, deleteFiles = true }, CancellationToken.None).ConfigureAwait(false);
            }
            catch (GatewayException e) when (e.Message.Contains("not found", StringComparison.OrdinalIgnoreCase))
            {
            }

            times.Add(clock.Elapsed.TotalMilliseconds);
            agents.Remove(id);
        }

        return times.Count == 0 ? double.NaN : times.Average();
    }

    /// <summary>After a failure: whatever this run made and did not delete yet, best effort.</summary>
    private static async Task CleanUpAsync(MissionControlApi api, GatewayClient? gateway, List<ApiAgent> apiLeft, List<string> directLeft)
    {
        if (apiLeft.Count == 0 && directLeft.Count == 0)
        {
            return;
        }

        Progress($"cleaning up: {apiLeft.Count} agents through the API, {directLeft.Count} on the gateway");
        foreach (ApiAgent agent in apiLeft.ToList())
        {
            try
            {
                (HttpStatusCode status, _) = await SendAsync(api, HttpMethod.Delete, $"api/v1/agents/{agent.Id}").ConfigureAwait(false);
                Console.WriteLine($"  DELETE /api/v1/agents/{agent.Id}: {(int)status}");
            }
            catch (Exception e) when (e is HttpRequestException or UnreachableException or TaskCanceledException)
            {
                Console.WriteLine($"  DELETE /api/v1/agents/{agent.Id} failed: {e.Message}");
            }
        }

        if (gateway is { IsOpen: true })
        {
            foreach (string id in directLeft.ToList())
            {
                try
                {
                    await gateway.RequestAsync("agents.delete", new { agentId = id, deleteFiles = true }, CancellationToken.None).ConfigureAwait(false);
                    Console.WriteLine($"  agents.delete {id}: ok");
                }
                catch (GatewayException e)
                {
                    Console.WriteLine($"  agents.delete {id}: {e.Code} {e.Message}");
                }
            }
        }
    }

    private static async Task<JsonElement> Rpc(GatewayClient gateway, string method, object? parameters)
    {
        try
        {
            return await gateway.RequestAsync(method, parameters, CancellationToken.None).ConfigureAwait(false);
        }
        catch (GatewayException e)
        {
            throw new ProvisionFailedException($"{method} on the gateway failed: {e.Code} {e.Message}");
        }
    }

    private static async Task<(HttpStatusCode Status, string Body)> SendAsync(
        MissionControlApi api, HttpMethod method, string path, Dictionary<string, string?>? fields = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(api.BaseUri, path));
        if (fields is not null)
        {
            byte[] json = JsonSerializer.SerializeToUtf8Bytes(fields);
            request.Content = MissionControlApi.JsonContent(json, json.Length);
        }

        try
        {
            using HttpResponseMessage response = await api.Client.SendAsync(request).ConfigureAwait(false);
            return (response.StatusCode, await response.Content.ReadAsStringAsync().ConfigureAwait(false));
        }
        catch (HttpRequestException ex)
        {
            throw new UnreachableException($"{method} {path}: lost connection to Mission Control at {api.BaseUri}: {ex.Message}");
        }
    }

    private static void PrintSummary(
        ProvisionOptions options, List<ApiAgent> throughApi, List<DirectAgent> direct, List<double> apiDeleteSeconds, int apiLeftBehind,
        double directDeleteMeanMs, string loadAtStart, TimeSpan elapsed)
    {
        double[] a = [.. throughApi.Select(x => x.Ms)];
        double[] d = [.. direct.Select(x => x.Ms)];
        Console.WriteLine();
        Console.WriteLine($"==================== Summary (run took {elapsed.TotalSeconds:0} s) ====================");
        Console.WriteLine($"Per agent, {options.Agents} agents one after another on {options.GatewayUrl} (ms):");
        Console.WriteLine($"  {"",-56}{"p50",8}{"mean",8}{"max",8}");
        Console.WriteLine($"  {"Mission Control: POST /api/v1/agents -> GET ready",-56}{Median(a),8:0}{a.Average(),8:0}{a.Max(),8:0}");
        string directWhat = options.DirectWake ? "gateway alone: create + visible + 5 files.set + wake" : "gateway alone: create + visible + 5 files.set";
        Console.WriteLine($"  {directWhat,-56}{Median(d),8:0}{d.Average(),8:0}{d.Max(),8:0}");
        Console.WriteLine($"  {"Mission Control's overhead per agent",-56}{Median(a) - Median(d),8:+0;-0}{a.Average() - d.Average(),8:+0;-0}");
        Console.WriteLine(
            $"gateway alone, mean per step: agents.create {direct.Average(x => x.Result.CreateMs):0} ms, " +
            $"until visible {direct.Average(x => x.Result.VisibleAfterMs):0} ms ({direct.Average(x => x.Result.NotFoundRetries):0.0} retries), " +
            $"5 x agents.files.set {direct.Average(x => x.Result.FilesMs):0} ms");
        Console.WriteLine(
            $"Mission Control's time includes the bus hops (agents -> bridge -> agents), the bridge's wake message to the new agent " +
            $"(chat.send) and up to {PollInterval.TotalMilliseconds:0} ms of polling ({throughApi.Average(x => x.Polls):0} GETs per agent on average).");
        Console.WriteLine(
            $"Deleting, one at a time: through the API, DELETE until the gateway no longer lists the agent mean {apiDeleteSeconds.Average() * 1000:0} ms, " +
            $"max {apiDeleteSeconds.Max() * 1000:0} ms" + (apiLeftBehind > 0 ? $" ({apiLeftBehind} still listed after 60 s, deleted directly)" : "") +
            $"; agents.delete directly mean {directDeleteMeanMs:0} ms.");
        Console.WriteLine($"Load average (1, 5, 15 min): {loadAtStart} at the start, {LoadAverage()} at the end ({Environment.ProcessorCount} cores).");
    }

    /// <summary>The median, interpolated between the two middle values of an even count.</summary>
    private static double Median(double[] values)
    {
        double[] sorted = [.. values.Order()];
        int n = sorted.Length;
        return n == 0 ? double.NaN : n % 2 == 1 ? sorted[n / 2] : (sorted[(n / 2) - 1] + sorted[n / 2]) / 2;
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "n/a";
        }
    }

    private static void Progress(string message) =>
        Console.WriteLine($"{Environment.NewLine}[{DateTime.Now:HH:mm:ss}] {message}");
}
