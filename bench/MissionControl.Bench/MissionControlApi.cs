using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace MissionControl.Bench;

/// <summary>Raised when the system cannot be reached (exit code 2).</summary>
internal sealed class UnreachableException(string message) : Exception(message);

/// <summary>Raised when creating the org or the board fails (exit code 3).</summary>
internal sealed class SetupException(string message) : Exception(message);

/// <summary>
/// Owns the pooled HttpClient used for setup and load, and the URIs of the API under test.
/// All traffic goes to <see cref="BaseUri"/>, which the options restrict to loopback.
/// </summary>
internal sealed class MissionControlApi : IDisposable
{
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(15);

    private readonly AuthenticationHeaderValue? _auth;

    public MissionControlApi(Uri baseUri, string? token)
    {
        BaseUri = baseUri;
        _auth = string.IsNullOrEmpty(token) ? null : new AuthenticationHeaderValue("Bearer", token);
        Client = CreateClient(baseUri, _auth, RequestTimeout);
        OrganizationsUri = new Uri(baseUri, "api/v1/organizations");
        BoardsUri = new Uri(baseUri, "api/v1/boards");
        WebhooksUri = new Uri(baseUri, "api/v1/webhooks");
    }

    public Uri WebhooksUri { get; }

    public Uri BaseUri { get; }

    /// <summary>Pooled client for setup and load requests (HTTP/1.1 keep-alive, one connection per concurrent request).</summary>
    public HttpClient Client { get; }

    public Uri OrganizationsUri { get; }

    public Uri BoardsUri { get; }

    public string? BoardId { get; private set; }

    public Uri TasksUri { get; private set; } = null!;

    public Uri TaskListUri { get; private set; } = null!;

    public Uri TaskStreamUri { get; private set; } = null!;

    /// <summary>A separate client for the long-lived SSE stream: infinite timeout, own connection pool, no resilience.</summary>
    public HttpClient CreateStreamClient() => CreateClient(BaseUri, _auth, Timeout.InfiniteTimeSpan);

    /// <summary>
    /// The client of the fanout phase: thousands of long-lived SSE connections through one handler, no
    /// connection limit, small socket buffers (frames are small), and no draining of a stream that is
    /// dropped (its connection is closed at once).
    /// </summary>
    public HttpClient CreateFanoutClient()
    {
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
            MaxConnectionsPerServer = int.MaxValue,
            ConnectTimeout = TimeSpan.FromSeconds(15),
            MaxResponseDrainSize = 0,
            ResponseDrainTimeout = TimeSpan.Zero,
            ActivityHeadersPropagator = null,
            ConnectCallback = static async (context, cancellationToken) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp)
                {
                    NoDelay = true,
                    ReceiveBufferSize = 8 * 1024,
                    SendBufferSize = 4 * 1024,
                };
                try
                {
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        var client = new HttpClient(handler, disposeHandler: true)
        {
            BaseAddress = BaseUri,
            Timeout = Timeout.InfiniteTimeSpan,
            DefaultRequestVersion = HttpVersion.Version11,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        if (_auth is not null)
        {
            client.DefaultRequestHeaders.Authorization = _auth;
        }

        return client;
    }

    private static HttpClient CreateClient(Uri baseUri, AuthenticationHeaderValue? auth, TimeSpan timeout)
    {
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            MaxConnectionsPerServer = int.MaxValue,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            // No W3C trace headers: the bench should not make the system sample or propagate traces.
            ActivityHeadersPropagator = null,
        };
        var client = new HttpClient(handler, disposeHandler: true)
        {
            BaseAddress = baseUri,
            Timeout = timeout,
            DefaultRequestVersion = HttpVersion.Version11,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        if (auth is not null)
        {
            client.DefaultRequestHeaders.Authorization = auth;
        }

        return client;
    }

    /// <summary>
    /// Any HTTP answer from the base URL counts as reachable; a connection failure does not. The edge's
    /// per-IP rate limit (seed 001: 100 requests/min, on by default) must be off: every request of the
    /// bench comes from 127.0.0.1, so it would measure 429s. Returns what to print about it.
    /// </summary>
    public async Task<string> EnsureReachableAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, BaseUri);
            using HttpResponseMessage response = await Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token).ConfigureAwait(false);
            if (response.Headers.TryGetValues("X-RateLimit-Limit", out var limit))
            {
                throw new SetupException(
                    $"the edge at {BaseUri} limits each client IP to {string.Join(",", limit)} requests/min (X-RateLimit-Limit), and every bench " +
                    "request comes from 127.0.0.1. Start the system for the bench with the limits off: " +
                    "RateLimiting__PerMinute=0 RateLimiting__AuthFailuresPerMinute=0 ./scripts/start.sh");
            }
            return "edge rate limit off (no X-RateLimit-Limit: started with RateLimiting__PerMinute=0)";
        }
        catch (HttpRequestException ex)
        {
            string why = ex.InnerException is SocketException se ? se.SocketErrorCode.ToString() : ex.Message;
            throw new UnreachableException($"Mission Control is not reachable at {BaseUri} ({why}). Is the system started? (override the address with --url)");
        }
        catch (OperationCanceledException)
        {
            throw new UnreachableException($"Mission Control at {BaseUri} did not answer within 10 s.");
        }
    }

    /// <summary>Creates a uniquely named organization (retrying on 409) and a board in it.</summary>
    public async Task<(string OrgId, string OrgName, string BoardId)> SetupAsync(string runId)
    {
        string? orgId = null;
        string orgName = "";
        for (int attempt = 0; attempt < 3 && orgId is null; attempt++)
        {
            orgName = string.Create(CultureInfo.InvariantCulture, $"bench-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{runId}{(attempt == 0 ? "" : "-" + attempt)}");
            (HttpStatusCode status, string body) = await PostJsonAsync(OrganizationsUri, Json(("name", orgName))).ConfigureAwait(false);
            if (status == HttpStatusCode.Conflict)
            {
                continue;
            }

            EnsureCreated("create organization", OrganizationsUri, status, body);
            orgId = ReadId("create organization", body);
        }

        if (orgId is null)
        {
            throw new SetupException("setup failed: create organization kept answering 409 Conflict for fresh names");
        }

        (HttpStatusCode bStatus, string bBody) = await PostJsonAsync(
            BoardsUri,
            Json(("name", "bench board " + runId), ("description", "created by MissionControl.Bench for " + orgName))).ConfigureAwait(false);
        EnsureCreated("create board", BoardsUri, bStatus, bBody);
        string boardId = ReadId("create board", bBody);

        BoardId = boardId;
        string escaped = Uri.EscapeDataString(boardId);
        TasksUri = new Uri(BaseUri, $"api/v1/boards/{escaped}/tasks");
        TaskListUri = new Uri(BaseUri, $"api/v1/boards/{escaped}/tasks?limit=50");
        TaskStreamUri = new Uri(BaseUri, $"api/v1/boards/{escaped}/tasks/stream");
        return (orgId, orgName, boardId);
    }

    public async Task<(HttpStatusCode Status, string Body)> PostJsonAsync(Uri uri, byte[] json, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = JsonContent(json, json.Length) };
        try
        {
            using HttpResponseMessage response = await Client.SendAsync(request, cancellationToken).ConfigureAwait(false);
            string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            return (response.StatusCode, body);
        }
        catch (HttpRequestException ex) when (ex.InnerException is SocketException)
        {
            throw new UnreachableException($"lost connection to Mission Control at {BaseUri}: {ex.Message}");
        }
    }

    /// <summary>Sends <paramref name="method"/> to <paramref name="uri"/> (with a JSON body when given) and reads the answer.</summary>
    public async Task<(HttpStatusCode Status, string Body)> SendAsync(HttpMethod method, Uri uri, byte[]? json = null, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(method, uri);
        if (json is not null)
        {
            request.Content = JsonContent(json, json.Length);
        }

        try
        {
            using HttpResponseMessage response = await Client.SendAsync(request, cancellationToken).ConfigureAwait(false);
            string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            return (response.StatusCode, body);
        }
        catch (HttpRequestException ex) when (ex.InnerException is SocketException)
        {
            throw new UnreachableException($"lost connection to Mission Control at {BaseUri}: {ex.Message}");
        }
    }

    public static ByteArrayContent JsonContent(byte[] buffer, int length)
    {
        var content = new ByteArrayContent(buffer, 0, length);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    /// <summary>Serializes string properties into a JSON object.</summary>
    public static byte[] Json(params (string Name, string Value)[] properties)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach ((string name, string value) in properties)
            {
                writer.WriteString(name, value);
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads the top-level "id" of a JSON object, or null.</summary>
    public static string? TryReadId(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("id", out JsonElement id)
                && id.ValueKind == JsonValueKind.String
                ? id.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string ReadId(string what, string body) =>
        TryReadId(body) ?? throw new SetupException($"setup failed: {what} answered without an \"id\": {Trim(body)}");

    private static void EnsureCreated(string what, Uri uri, HttpStatusCode status, string body)
    {
        if ((int)status is >= 200 and < 300)
        {
            return;
        }

        string hint = status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
            ? " — check the admin token (--token, env MC_ADMIN_TOKEN or <repo>/.mc/admin-token)"
            : "";
        throw new SetupException($"setup failed: {what} (POST {uri.AbsolutePath}) answered {(int)status} {status}{hint}: {Trim(body)}");
    }

    public static string Trim(string s)
    {
        s = s.ReplaceLineEndings(" ").Trim();
        return s.Length <= 300 ? (s.Length == 0 ? "<empty body>" : s) : s[..300] + "…";
    }

    public static string Describe(Exception ex)
    {
        var sb = new StringBuilder(ex.GetType().Name).Append(": ").Append(ex.Message);
        if (ex.InnerException is { } inner)
        {
            sb.Append(" (").Append(inner.GetType().Name).Append(": ").Append(inner.Message).Append(')');
        }

        return sb.ToString();
    }

    public void Dispose() => Client.Dispose();
}
