using System.Globalization;
using System.Net;
using System.Text.Json;

namespace MissionControl.Bench;

/// <summary>Command line options of the provisioning bench (<c>bench/provision.sh</c>).</summary>
internal sealed class ProvisionOptions
{
    public Uri BaseUri { get; private set; } = new(BenchOptions.DefaultUrl + "/");
    public string? Token { get; private set; }
    public string TokenSource { get; private set; } = "none";
    public int Agents { get; private set; } = 20;
    public int Warmup { get; private set; } = 1;
    public Uri? GatewayUrl { get; private set; }
    public string? GatewayToken { get; private set; }
    public string? WorkspaceRoot { get; private set; }
    public string GatewaySource { get; private set; } = "";
    public bool DirectWake { get; private set; }
    public bool ShowHelp { get; private set; }

    public static string Usage =>
        """
        Usage: bench/provision.sh [options]
           or: dotnet run --project bench/MissionControl.Bench -c Release -- provision [options]

        Provisions agents on a real OpenClaw gateway through Mission Control (POST /api/v1/agents until
        GET says ready), then does the same work on the gateway directly, and prints both per agent.
        Needs a system started with ./scripts/start.sh --openclaw (or the --gateway-* options).

        Options:
          --url URL              edge base URL, loopback only (default http://localhost:4000)
          --token TOKEN          admin bearer token (default: env MC_ADMIN_TOKEN, then <repo>/.mc/admin-token)
          --agents N             agents to provision on each side, one after another (default 20)
          --warmup N             unmeasured agents first on each side (default 1)
          --gateway-url URL      the gateway, ws://, loopback only (default: the port in
                                 <repo>/.mc/servers/openclaw/state/openclaw.json)
          --gateway-token TOKEN  its token (default: <repo>/.mc/openclaw-token)
          --workspace-root DIR   its workspace root (default: <repo>/.mc/servers/openclaw/workspaces)
          --direct-wake          on the direct side, also send each new agent the wake message the
                                 bridge sends (chat.send), to see what its turn costs the gateway
          -h, --help             this text

        Exit code: 0 measured, 1 bad arguments, 2 system or gateway unreachable, 3 setup failed
        (gateway registration, board), 5 an agent did not get ready.
        """;

    public static ProvisionOptions? Parse(string[] args, out string? error)
    {
        var o = new ProvisionOptions();
        error = null;
        string? url = null;
        string? gatewayUrl = null;
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            string name = arg;
            string? value = null;
            int eq = arg.IndexOf('=', StringComparison.Ordinal);
            if (arg.StartsWith("--", StringComparison.Ordinal) && eq > 0)
            {
                name = arg[..eq];
                value = arg[(eq + 1)..];
            }

            if (name is "-h" or "--help")
            {
                o.ShowHelp = true;
                continue;
            }

            if (name == "--direct-wake")
            {
                o.DirectWake = true;
                continue;
            }

            if (value is null)
            {
                if (i + 1 >= args.Length)
                {
                    error = $"missing value for {name}";
                    return null;
                }

                value = args[++i];
            }

            switch (name)
            {
                case "--url":
                    url = value;
                    break;
                case "--token":
                    o.Token = value.Trim();
                    o.TokenSource = "--token";
                    break;
                case "--agents":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < 1 || n > 500)
                    {
                        error = "--agents must be an integer between 1 and 500";
                        return null;
                    }

                    o.Agents = n;
                    break;
                case "--warmup":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int w) || w > 20)
                    {
                        error = "--warmup must be an integer between 0 and 20";
                        return null;
                    }

                    o.Warmup = w;
                    break;
                case "--gateway-url":
                    gatewayUrl = value.Trim();
                    break;
                case "--gateway-token":
                    o.GatewayToken = value.Trim();
                    break;
                case "--workspace-root":
                    o.WorkspaceRoot = value.Trim().TrimEnd('/');
                    break;
                default:
                    error = $"unknown option '{arg}'";
                    return null;
            }
        }

        if (o.ShowHelp)
        {
            return o;
        }

        if (!BenchOptions.TryParseLoopbackUrl(url ?? BenchOptions.DefaultUrl, out Uri? baseUri, out error))
        {
            return null;
        }

        o.BaseUri = baseUri!;
        if (o.Token is null)
        {
            if (Environment.GetEnvironmentVariable(BenchOptions.TokenEnvVar) is { } env && !string.IsNullOrWhiteSpace(env))
            {
                o.Token = env.Trim();
                o.TokenSource = "env " + BenchOptions.TokenEnvVar;
            }
            else if (BenchOptions.FindTokenFile() is { } file)
            {
                o.Token = File.ReadAllText(file).Trim();
                o.TokenSource = file;
            }
        }

        // The gateway the AppHost started with --openclaw: its state under <repo>/.mc.
        string? repo = BenchOptions.FindRepo();
        string? openClawDir = repo is null ? null : Path.Combine(repo, ".mc", "servers", "openclaw");
        var from = new List<string>();
        if (gatewayUrl is null && openClawDir is not null && ConfiguredPort(Path.Combine(openClawDir, "state", "openclaw.json")) is { } port)
        {
            gatewayUrl = $"ws://127.0.0.1:{port}";
            from.Add("url from .mc/servers/openclaw/state/openclaw.json");
        }

        if (o.GatewayToken is null && repo is not null && Path.Combine(repo, ".mc", "openclaw-token") is var tokenFile && File.Exists(tokenFile))
        {
            o.GatewayToken = File.ReadAllText(tokenFile).Trim();
            from.Add("token from .mc/openclaw-token");
        }

        if (o.WorkspaceRoot is null && openClawDir is not null && Directory.Exists(openClawDir))
        {
            o.WorkspaceRoot = Path.Combine(openClawDir, "workspaces");
            from.Add("workspace root from .mc/servers/openclaw");
        }

        if (gatewayUrl is null || o.GatewayToken is null || o.WorkspaceRoot is null)
        {
            error = "no OpenClaw gateway found: start the system with ./scripts/start.sh --openclaw, or give --gateway-url, --gateway-token and --workspace-root";
            return null;
        }

        if (!Uri.TryCreate(gatewayUrl, UriKind.Absolute, out Uri? gateway) || gateway.Scheme is not ("ws" or "wss")
            || !(gateway.IsLoopback || (IPAddress.TryParse(gateway.Host.Trim('[', ']'), out IPAddress? ip) && IPAddress.IsLoopback(ip))))
        {
            error = $"--gateway-url '{gatewayUrl}' must be a ws:// URL on a loopback address";
            return null;
        }

        if (!o.WorkspaceRoot.StartsWith('/'))
        {
            error = "--workspace-root must be an absolute path";
            return null;
        }

        o.GatewayUrl = gateway;
        o.GatewaySource = from.Count == 0 ? "options" : string.Join(", ", from);
        return o;
    }

    private static int? ConfiguredPort(string configPath)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(configPath), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            return doc.RootElement.TryGetProperty("gateway", out JsonElement g) && g.TryGetProperty("port", out JsonElement p) && p.TryGetInt32(out int port)
                ? port
                : null;
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException or InvalidOperationException)
        {
            return null;
        }
    }
}
