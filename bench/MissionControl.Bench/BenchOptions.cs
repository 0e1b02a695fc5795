using System.Globalization;
using System.Net;

namespace MissionControl.Bench;

/// <summary>Command line options of the bench.</summary>
internal sealed class BenchOptions
{
    public const string DefaultUrl = "http://localhost:4000";
    public const string TokenEnvVar = "MC_ADMIN_TOKEN";
    public const string PidsEnvVar = "MC_BENCH_PIDS";

    /// <summary>Every phase, in the order they run.</summary>
    public static readonly string[] AllPhases = ["create", "list", "status", "events", "status-events", "fanout", "webhooks", "memory"];

    /// <summary>What runs without --only. "webhooks" runs only when named (it needs the webhook API and a system started
    /// with Webhooks__AllowedHosts=127.0.0.1).</summary>
    private static readonly string[] DefaultPhases = ["create", "list", "status", "events", "status-events", "fanout", "memory"];

    public const int DefaultWebhookEvents = 200;

    public Uri BaseUri { get; private set; } = new(DefaultUrl + "/");
    public string? Token { get; private set; }
    public string TokenSource { get; private set; } = "none";
    public int DurationSeconds { get; private set; } = 10;
    public int Events { get; private set; } = 500;
    /// <summary>Whether --events was given (the webhooks phase defaults to <see cref="DefaultWebhookEvents"/> otherwise).</summary>
    public bool EventsGiven { get; private set; }
    public int WebhookEvents => EventsGiven ? Events : DefaultWebhookEvents;
    public int Clients { get; private set; } = 1000;
    public int FanoutEvents { get; private set; } = 50;
    public int ConnectBatch { get; private set; } = 100;
    public int? EdgePid { get; private set; }
    public int EventWarmup { get; private set; } = 10;
    /// <summary>A pause before each measured event (ms): writes after a quiet moment rather than back to back.</summary>
    public int EventGapMs { get; private set; }
    // Long enough for tiered JIT to reach optimized code in every process on a 2-core box: the figures are steady state.
    public double WarmupSeconds { get; private set; } = 20;
    public string? Pids { get; private set; }
    public string PidsSource { get; private set; } = "scan of /proc";
    /// <summary>Where each load step writes one line per request (its start and its latency), for looking at when the slow ones happened.</summary>
    public string? TraceDir { get; private set; }
    public HashSet<string> Phases { get; } = new(DefaultPhases, StringComparer.Ordinal);
    public bool ShowHelp { get; private set; }

    public bool Runs(string phase) => Phases.Contains(phase);

    public bool NeedsBoard => Runs("create") || Runs("list") || Runs("status") || Runs("events") || Runs("status-events") || Runs("fanout") || Runs("webhooks");

    public static string Usage =>
        """
        Usage: bench/run.sh [options]
           or: dotnet run --project bench/MissionControl.Bench -c Release -- [options]

        Measures a running Mission Control system through its edge.

        Options:
          --url URL            edge base URL, loopback only (default http://localhost:4000)
          --token TOKEN        admin bearer token (default: env MC_ADMIN_TOKEN, then
                               <repo>/.mc/admin-token found by walking up to MissionControl.sln)
          --duration SECONDS   duration of each load step (default 10)
          --events N           events to measure in the event-latency phases (default 500)
                               and in the webhooks phase (default 200 there)
          --event-warmup N     unmeasured events sent before measuring (default 10; in
                               fanout at most 20)
          --event-gap MS       event-latency phases: a pause before each measured event, so
                               each write comes after a quiet moment (default 0: back to back)
          --warmup SECONDS     mixed warm-up before the load phases (default 20, 0 = none); it goes
                               on 5 s at a time, up to 120 s in all, while the services' JIT
                               (tiered compilation) still used over 0.15 s of CPU in the last 5 s
          --only LIST          comma separated subset of: create,list,status,events,
                               status-events,fanout,webhooks,memory (default: all but webhooks)
          --clients N          fanout: SSE clients on one board's task stream (default 1000)
          --fanout-events N    fanout: tasks created, about 5 a second (default 50)
          --connect-batch N    fanout: clients connecting at once while ramping up (default 100)
          --edge-pid PID       fanout: the edge process to measure (default: the MissionControl.Edge
                               process listening on the --url port)
          --pids FILE|LIST     processes to measure: a file of pids (one per line) or a
                               comma separated list; default env MC_BENCH_PIDS, else a /proc scan
          --trace DIR          load steps: write DIR/<step>-c<concurrency>.csv, one line per
                               answered request (start ms from the step's start, latency ms,
                               status), to see whether the slow requests come together in time
          -h, --help           this text

        Exit code: 0 when measured (even if targets are missed), 1 bad arguments,
        2 system unreachable, 3 setup failed (also: the webhook API is missing, or refuses
        the bench's loopback receiver).
        """;

    /// <summary>Parses <paramref name="args"/>; returns null and sets <paramref name="error"/> when invalid.</summary>
    public static BenchOptions? Parse(string[] args, out string? error)
    {
        var o = new BenchOptions();
        error = null;
        string? url = null;
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            string name = arg;
            string? inlineValue = null;
            int eq = arg.IndexOf('=', StringComparison.Ordinal);
            if (arg.StartsWith("--", StringComparison.Ordinal) && eq > 0)
            {
                name = arg[..eq];
                inlineValue = arg[(eq + 1)..];
            }

            if (name is "-h" or "--help")
            {
                o.ShowHelp = true;
                continue;
            }

            string? value = inlineValue;
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
                case "--duration":
                    if (!TryPositiveInt(value, 3600, out int d))
                    {
                        error = "--duration must be an integer between 1 and 3600";
                        return null;
                    }

                    o.DurationSeconds = d;
                    break;
                case "--events":
                    if (!TryPositiveInt(value, 100_000, out int e))
                    {
                        error = "--events must be an integer between 1 and 100000";
                        return null;
                    }

                    o.Events = e;
                    o.EventsGiven = true;
                    break;
                case "--clients":
                    if (!TryPositiveInt(value, 100_000, out int clients))
                    {
                        error = "--clients must be an integer between 1 and 100000";
                        return null;
                    }

                    o.Clients = clients;
                    break;
                case "--fanout-events":
                    if (!TryPositiveInt(value, 10_000, out int fe))
                    {
                        error = "--fanout-events must be an integer between 1 and 10000";
                        return null;
                    }

                    o.FanoutEvents = fe;
                    break;
                case "--connect-batch":
                    if (!TryPositiveInt(value, 10_000, out int cb))
                    {
                        error = "--connect-batch must be an integer between 1 and 10000";
                        return null;
                    }

                    o.ConnectBatch = cb;
                    break;
                case "--edge-pid":
                    if (!TryPositiveInt(value, int.MaxValue, out int edgePid))
                    {
                        error = "--edge-pid must be a process id";
                        return null;
                    }

                    o.EdgePid = edgePid;
                    break;
                case "--event-warmup":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int ew) || ew > 1000)
                    {
                        error = "--event-warmup must be an integer between 0 and 1000";
                        return null;
                    }

                    o.EventWarmup = ew;
                    break;
                case "--event-gap":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int gap) || gap > 10_000)
                    {
                        error = "--event-gap must be a number of milliseconds between 0 and 10000";
                        return null;
                    }

                    o.EventGapMs = gap;
                    break;
                case "--warmup":
                    if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double w) || w < 0 || w > 600)
                    {
                        error = "--warmup must be a number of seconds between 0 and 600";
                        return null;
                    }

                    o.WarmupSeconds = w;
                    break;
                case "--only":
                    o.Phases.Clear();
                    foreach (string part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    {
                        string p = part.ToLowerInvariant();
                        if (Array.IndexOf(AllPhases, p) < 0)
                        {
                            error = $"--only: unknown phase '{part}' (known: {string.Join(',', AllPhases)})";
                            return null;
                        }

                        o.Phases.Add(p);
                    }

                    if (o.Phases.Count == 0)
                    {
                        error = "--only needs at least one phase";
                        return null;
                    }

                    break;
                case "--pids":
                    o.Pids = value;
                    o.PidsSource = "--pids";
                    break;
                case "--trace":
                    // Made now: a directory that cannot be written is an error before the run, not after its first step.
                    try
                    {
                        o.TraceDir = Directory.CreateDirectory(value).FullName;
                    }
                    catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
                    {
                        error = $"--trace: cannot create the directory '{value}': {ex.Message}";
                        return null;
                    }
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

        if ((long)o.Clients * (o.FanoutEvents + 21) > 20_000_000)
        {
            error = "--clients × --fanout-events is too large (at most 20,000,000 deliveries are tracked)";
            return null;
        }

        if (!TryParseLoopbackUrl(url ?? DefaultUrl, out Uri? baseUri, out error))
        {
            return null;
        }

        o.BaseUri = baseUri!;

        if (o.Token is null)
        {
            string? env = Environment.GetEnvironmentVariable(TokenEnvVar);
            if (!string.IsNullOrWhiteSpace(env))
            {
                o.Token = env.Trim();
                o.TokenSource = "env " + TokenEnvVar;
            }
            else if (FindTokenFile() is { } file)
            {
                o.Token = File.ReadAllText(file).Trim();
                o.TokenSource = file;
            }
        }

        if (o.Pids is null && Environment.GetEnvironmentVariable(PidsEnvVar) is { Length: > 0 } pidsEnv)
        {
            o.Pids = pidsEnv;
            o.PidsSource = "env " + PidsEnvVar;
        }

        return o;
    }

    private static bool TryPositiveInt(string s, int max, out int value) =>
        int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= 1 && value <= max;

    /// <summary>Accepts only http(s) URLs whose host is localhost or a loopback IP literal.</summary>
    internal static bool TryParseLoopbackUrl(string url, out Uri? uri, out string? error)
    {
        uri = null;
        error = null;
        if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? parsed) || (parsed.Scheme != Uri.UriSchemeHttp && parsed.Scheme != Uri.UriSchemeHttps))
        {
            error = $"--url '{url}' is not an absolute http(s) URL";
            return false;
        }

        string host = parsed.IdnHost;
        bool loopback = string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host.Trim('[', ']'), out IPAddress? ip) && IPAddress.IsLoopback(ip));
        if (!loopback)
        {
            error = $"refusing to send load to '{parsed.Host}': the bench only targets loopback addresses (localhost, 127.0.0.0/8, ::1)";
            return false;
        }

        if (!string.IsNullOrEmpty(parsed.Query) || !string.IsNullOrEmpty(parsed.Fragment))
        {
            error = $"--url '{url}' must not carry a query or fragment";
            return false;
        }

        var builder = new UriBuilder(parsed);
        if (!builder.Path.EndsWith('/'))
        {
            builder.Path += "/";
        }

        uri = builder.Uri;
        return true;
    }

    /// <summary>The repo's .mc/admin-token if present (see <see cref="FindRepo"/>).</summary>
    internal static string? FindTokenFile() =>
        FindRepo() is { } repo && Path.Combine(repo, ".mc", "admin-token") is var token && File.Exists(token) ? token : null;

    /// <summary>Walks up from the working directory (then from the binary's directory) to the folder of
    /// MissionControl.sln.</summary>
    internal static string? FindRepo()
    {
        foreach (string start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (DirectoryInfo? dir = new(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "MissionControl.sln"))
                    || File.Exists(Path.Combine(dir.FullName, "MissionControl.slnx")))
                {
                    return dir.FullName;
                }
            }
        }

        return null;
    }
}
