using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using MissionControl.Edge.Proxy;
using MissionControl.InternalAuth;
using MissionControl.Testing;

namespace MissionControl.UnitTests;

/// <summary>
/// The real edge (its Program, middleware and YARP routes) in this process on Kestrel at 127.0.0.1, in
/// front of a fake orgs/tasks that resolves credentials and answers every proxied path; the clock is
/// frozen so no test straddles a rate-limit window. The bus and the event feed are left out.
/// </summary>
public sealed class EdgeProtectionPipelineTests : IAsyncLifetime
{
    private const string AdminToken = "edge-protection-admin-token";
    private const string GoodKey = "mc_good_key_for_edge_protection";
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 10, 0, 5, TimeSpan.Zero);
    private static readonly long NextMinute = new DateTimeOffset(2026, 12, 3, 10, 1, 0, TimeSpan.Zero).ToUnixTimeSeconds();
    private FakeServices _services = null!;
    private readonly List<IAsyncDisposable> _edges = [];

    public async Task InitializeAsync() => _services = await FakeServices.StartAsync();

    public async Task DisposeAsync()
    {
        foreach (var edge in _edges) await edge.DisposeAsync();
        await _services.DisposeAsync();
    }

    /// <param name="tasks">Where the edge sends the tasks service's paths; the fake services unless a test says.</param>
    private HttpClient Edge(Dictionary<string, string?> settings, string? tasks = null)
    {
        var edge = new EdgeHost(new Dictionary<string, string?>(settings)
        {
            ["InternalAuth:SigningKey"] = TestTokens.SigningKey,
            ["MC_ADMIN_TOKEN"] = AdminToken,
            // Never connected (the bus's hosted service is removed), but the edge refuses to start without one.
            ["ConnectionStrings:messaging"] = "amqp://guest:guest@127.0.0.1:1/",
            ["services:orgs:http:0"] = _services.Url,
            ["services:tasks:http:0"] = tasks ?? _services.Url,
            ["services:metrics:http:0"] = _services.Url,
        });
        _edges.Add(edge);
        return new HttpClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = new Uri(edge.Start()) };
    }

    private static HttpRequestMessage Get(string path, string? bearer = AdminToken, string? forwardedFor = null, string? host = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        if (forwardedFor is not null) request.Headers.TryAddWithoutValidation("X-Forwarded-For", forwardedFor);
        if (host is not null) request.Headers.Host = host;
        return request;
    }

    private static async Task<string?> CodeOf(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((int)response.StatusCode, problem.GetProperty("status").GetInt32());
        Assert.Equal(response.Headers.GetValues("X-Request-Id").Single(), problem.GetProperty("request_id").GetString());
        return problem.TryGetProperty("code", out var code) ? code.GetString() : null;
    }

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : "";

    private static void AssertSecurityHeaders(HttpResponseMessage response, bool csp = true)
    {
        Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
        Assert.Equal("DENY", Header(response, "X-Frame-Options"));
        Assert.Equal("no-referrer", Header(response, "Referrer-Policy"));
        Assert.Equal(csp ? "default-src 'none'; frame-ancestors 'none'" : "", Header(response, "Content-Security-Policy"));
        Assert.Equal("", Header(response, "Strict-Transport-Security"));
        Assert.NotEqual("", Header(response, "X-Request-Id"));
    }

    [Fact]
    public async Task Requests_over_the_limit_get_429_with_the_rate_limit_headers_and_a_spoofed_forwarded_for_does_not_escape()
    {
        var client = Edge(new() { ["RateLimiting:PerMinute"] = "5" });

        for (var i = 1; i <= 5; i++)
        {
            // A different made-up X-Forwarded-For each time: the peer (127.0.0.1) is not a trusted proxy.
            using var ok = await client.SendAsync(Get("/api/v1/organizations", forwardedFor: $"203.0.113.{i}"));
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("5", Header(ok, "X-RateLimit-Limit"));
            Assert.Equal((5 - i).ToString(), Header(ok, "X-RateLimit-Remaining"));
            Assert.Equal(NextMinute.ToString(), Header(ok, "X-RateLimit-Reset"));
            AssertSecurityHeaders(ok);
        }

        using var refused = await client.SendAsync(Get("/api/v1/organizations", forwardedFor: "198.51.100.77"));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("55", Header(refused, "Retry-After"));
        Assert.Equal("5", Header(refused, "X-RateLimit-Limit"));
        Assert.Equal("0", Header(refused, "X-RateLimit-Remaining"));
        Assert.Equal(NextMinute.ToString(), Header(refused, "X-RateLimit-Reset"));
        AssertSecurityHeaders(refused);
        Assert.Equal("rate_limited", await CodeOf(refused));
        // Refused before anything else: no credential needed to be refused, and nothing reached the services.
        var calls = _services.Calls.Count;
        using var anonymous = await client.SendAsync(Get("/api/v1/boards", bearer: null));
        Assert.Equal(HttpStatusCode.TooManyRequests, anonymous.StatusCode);
        Assert.Equal(calls, _services.Calls.Count);

        // The probes are exempt.
        using var alive = await client.GetAsync("/alive");
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
        Assert.Equal("", Header(alive, "X-RateLimit-Limit"));
    }

    [Fact]
    public async Task The_limit_is_off_at_zero_and_sse_streams_carry_the_headers()
    {
        var off = Edge(new() { ["RateLimiting:PerMinute"] = "0" });
        for (var i = 0; i < 3; i++)
        {
            using var ok = await off.SendAsync(Get("/api/v1/organizations"));
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("", Header(ok, "X-RateLimit-Limit"));
        }

        var on = Edge(new() { ["RateLimiting:PerMinute"] = "50" });
        using var stream = await on.SendAsync(Get("/api/v1/events/stream"), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
        Assert.Equal("text/event-stream", stream.Content.Headers.ContentType?.MediaType);
        Assert.Equal("50", Header(stream, "X-RateLimit-Limit"));
        Assert.Equal("49", Header(stream, "X-RateLimit-Remaining"));
        AssertSecurityHeaders(stream);
    }

    [Fact]
    public async Task After_too_many_authentication_failures_bad_credentials_get_429_before_any_lookup()
    {
        var client = Edge(new() { ["RateLimiting:PerMinute"] = "0", ["RateLimiting:AuthFailuresPerMinute"] = "3" });
        // The good key is known (cached) before the failures start.
        using (var good = await client.SendAsync(Get("/api/v1/organizations", bearer: GoodKey))) Assert.Equal(HttpStatusCode.OK, good.StatusCode);

        for (var i = 0; i < 3; i++)
        {
            using var unauthorized = await client.SendAsync(Get("/api/v1/organizations", bearer: "mc_wrong_" + i));
            Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        }
        var lookups = _services.KeyLookups;
        using var refused = await client.SendAsync(Get("/api/v1/organizations", bearer: "mc_wrong_again"));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("rate_limited", await CodeOf(refused));
        Assert.Equal("55", Header(refused, "Retry-After"));
        Assert.Equal("3", Header(refused, "X-RateLimit-Limit"));
        Assert.Equal("0", Header(refused, "X-RateLimit-Remaining"));
        Assert.Equal(lookups, _services.KeyLookups);
        using var none = await client.SendAsync(Get("/api/v1/organizations", bearer: null));
        Assert.Equal(HttpStatusCode.TooManyRequests, none.StatusCode);

        // Known-good credentials still pass.
        using var admin = await client.SendAsync(Get("/api/v1/organizations"));
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        using var key = await client.SendAsync(Get("/api/v1/organizations", bearer: GoodKey));
        Assert.Equal(HttpStatusCode.OK, key.StatusCode);
    }

    [Fact]
    public async Task Forwarded_for_is_believed_from_a_trusted_proxy()
    {
        var client = Edge(new() { ["RateLimiting:PerMinute"] = "2", ["MC_TRUSTED_PROXIES"] = "127.0.0.1,10.0.0.0/8" });

        for (var i = 0; i < 2; i++)
        {
            using var ok = await client.SendAsync(Get("/api/v1/organizations", forwardedFor: "203.0.113.7"));
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        // The client's own claim on the left is not believed: the right-most untrusted address is the client.
        using var same = await client.SendAsync(Get("/api/v1/organizations", forwardedFor: "1.2.3.4, 203.0.113.7, 10.0.0.9"));
        Assert.Equal(HttpStatusCode.TooManyRequests, same.StatusCode);
        using var other = await client.SendAsync(Get("/api/v1/organizations", forwardedFor: "203.0.113.8"));
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.Equal("1", Header(other, "X-RateLimit-Remaining"));
    }

    [Fact]
    public async Task Only_allowed_hosts_are_served()
    {
        var client = Edge(new() { ["MC_ALLOWED_HOSTS"] = "mission-control.example.com,*.example.com,192.168.*" });

        foreach (var host in new[] { "mission-control.example.com", "a.example.com:4000", "192.168.1.20:4000", "MISSION-CONTROL.example.com" })
        {
            using var ok = await client.SendAsync(Get("/api/v1/organizations", host: host));
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        foreach (var host in new[] { "example.com", "evil.test", "127.0.0.1", "localhost:4000" })
        {
            using var refused = await client.SendAsync(Get("/api/v1/organizations", host: host));
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Equal("host_not_allowed", await CodeOf(refused));
            AssertSecurityHeaders(refused);
        }
        using var alive = await client.SendAsync(Get("/alive", bearer: null, host: "evil.test"));
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
    }

    [Fact]
    public async Task Cookie_carrying_writes_must_come_from_this_host()
    {
        var client = Edge(new());
        var self = client.BaseAddress!.GetLeftPart(UriPartial.Authority);
        HttpRequestMessage Post(string? bearer, string? origin = null, string? referer = null, string? cookie = "mc-session=abc")
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/organizations") { Content = JsonContent.Create(new { name = "Acme" }) };
            if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
            if (cookie is not null) request.Headers.Add("Cookie", cookie);
            if (origin is not null) request.Headers.Add("Origin", origin);
            if (referer is not null) request.Headers.Referrer = new Uri(referer);
            return request;
        }

        foreach (var request in new[] { Post(null, origin: "https://evil.example"), Post(null), Post(null, referer: "http://evil.example/page"), Post(null, origin: "null") })
        {
            using var refused = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Equal("csrf_origin_mismatch", await CodeOf(refused));
        }
        // The same host passes the check (and then needs a credential like anything else).
        using (var sameOrigin = await client.SendAsync(Post(null, origin: self))) Assert.Equal(HttpStatusCode.Unauthorized, sameOrigin.StatusCode);
        using (var sameReferer = await client.SendAsync(Post(null, referer: self + "/boards"))) Assert.Equal(HttpStatusCode.Unauthorized, sameReferer.StatusCode);
        // Header credentials cannot be sent by a foreign page: no check.
        using (var apiKey = await client.SendAsync(Post(GoodKey, origin: "https://evil.example"))) Assert.Equal(HttpStatusCode.OK, apiKey.StatusCode);
        using (var noCookie = await client.SendAsync(Post(AdminToken, origin: "https://evil.example", cookie: null))) Assert.Equal(HttpStatusCode.OK, noCookie.StatusCode);
        // Reads are not checked.
        var read = Get("/api/v1/organizations");
        read.Headers.Add("Cookie", "mc-session=abc");
        read.Headers.Add("Origin", "https://evil.example");
        using (var get = await client.SendAsync(read)) Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        // The public inbound webhook ingest needs no credential and no Origin.
        var hook = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/boards/{Guid.NewGuid()}/webhooks/{Guid.NewGuid()}") { Content = JsonContent.Create(new { any = "payload" }) };
        hook.Headers.Add("Cookie", "tracking=1");
        using (var ingest = await client.SendAsync(hook)) Assert.Equal(HttpStatusCode.OK, ingest.StatusCode);
    }

    [Fact]
    public async Task Bodies_over_the_limit_get_413_declared_or_streamed()
    {
        var client = Edge(new() { ["Edge:MaxRequestBodyBytes"] = "1024" });
        var path = $"/api/v1/boards/{Guid.NewGuid()}/webhooks/{Guid.NewGuid()}";

        using (var small = await client.PostAsync(path, new ByteArrayContent(new byte[1000])))
        {
            Assert.Equal(HttpStatusCode.OK, small.StatusCode);
            Assert.Equal(1000, (await small.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("length").GetInt64());
        }
        using (var declared = await client.PostAsync(path, new ByteArrayContent(new byte[5000])))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, declared.StatusCode);
            Assert.Equal("payload_too_large", await CodeOf(declared));
            AssertSecurityHeaders(declared);
        }
        var chunked = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ChunkedContent(50_000) };
        chunked.Headers.TransferEncodingChunked = true;
        using (var streamed = await client.SendAsync(chunked))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, streamed.StatusCode);
            Assert.Equal("payload_too_large", await CodeOf(streamed));
        }
    }

    [Theory]
    [InlineData(1_000, false)]
    [InlineData(SmallBodiesInOneWrite.DefaultMaxBytes, false)]
    [InlineData(SmallBodiesInOneWrite.DefaultMaxBytes + 1, false)]
    [InlineData(200_000, true)]
    public async Task Bodies_reach_the_service_whole_read_at_the_edge_or_streamed(int length, bool chunked)
    {
        var client = Edge([]);
        var body = new byte[length];
        Random.Shared.NextBytes(body);
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/boards/{Guid.NewGuid()}/tasks")
        {
            Content = chunked ? new ChunkedContent(body) : new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        if (chunked) request.Headers.TransferEncodingChunked = true;

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var seen = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(length, seen.GetProperty("length").GetInt64());
        Assert.Equal(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(body)), seen.GetProperty("sha256").GetString());
        Assert.Equal("application/octet-stream", seen.GetProperty("content_type").GetString());
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("0", false)] // Edge:BufferedBodyBytes 0 streams every body: the control.
    public async Task A_small_body_reaches_the_service_in_the_same_write_as_its_headers(string? bufferedBodyBytes, bool oneWrite)
    {
        // The caller sends its headers, then its body a second later. Streamed, the edge passes the headers on at
        // once and the body when it comes: the service's first read, done before the body is sent, holds only
        // the headers. Read whole, nothing reaches the service before the body.
        using var service = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        service.Start();
        var client = Edge(new() { ["Edge:BufferedBodyBytes"] = bufferedBodyBytes }, tasks: $"http://127.0.0.1:{((IPEndPoint)service.LocalEndpoint).Port}");
        // A first request through the edge (to orgs, the fake services) so the one measured is not slowed by start-up work.
        using (var warm = await client.SendAsync(Get("/api/v1/organizations"))) Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        var edge = new Uri(client.BaseAddress!, "/");
        const string body = "{\"title\":\"one write\"}";
        using var caller = new System.Net.Sockets.TcpClient();
        await caller.ConnectAsync(edge.Host, edge.Port);
        var toEdge = caller.GetStream();
        await toEdge.WriteAsync(System.Text.Encoding.ASCII.GetBytes(
            $"POST /api/v1/boards/{Guid.NewGuid()}/tasks HTTP/1.1\r\nHost: {edge.Authority}\r\nAuthorization: Bearer {AdminToken}\r\n" +
            $"Content-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n"));
        var receiving = FirstReadAsync(service);
        await Task.WhenAny(receiving, Task.Delay(1000));
        await toEdge.WriteAsync(System.Text.Encoding.ASCII.GetBytes(body));
        var (connection, first) = await receiving.WaitAsync(TimeSpan.FromSeconds(10));
        using var _ = connection;
        var stream = connection.GetStream();
        await stream.WriteAsync("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"u8.ToArray());
        var answer = new byte[4096];
        var status = System.Text.Encoding.ASCII.GetString(answer, 0, await toEdge.ReadAsync(answer).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.StartsWith("POST /api/v1/boards/", first);
        Assert.EndsWith(oneWrite ? "\r\n\r\n" + body : "\r\n\r\n", first);
        Assert.StartsWith("HTTP/1.1 204", status);
    }

    /// <summary>The edge's connection to the service, and what its first read got.</summary>
    private static async Task<(System.Net.Sockets.TcpClient Connection, string First)> FirstReadAsync(System.Net.Sockets.TcpListener service)
    {
        var connection = await service.AcceptTcpClientAsync();
        var buffer = new byte[256 * 1024];
        var read = await connection.GetStream().ReadAsync(buffer);
        return (connection, System.Text.Encoding.UTF8.GetString(buffer, 0, read));
    }

    [Fact]
    public async Task Every_answer_carries_the_security_headers_but_the_docs_pages_no_csp()
    {
        var client = Edge(new());
        using (var proxied = await client.SendAsync(Get("/api/v1/organizations"))) AssertSecurityHeaders(proxied);
        using (var unauthorized = await client.SendAsync(Get("/api/v1/organizations", bearer: null)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
            AssertSecurityHeaders(unauthorized);
        }
        using (var alive = await client.GetAsync("/alive")) AssertSecurityHeaders(alive);
        using (var docs = await client.SendAsync(Get("/api/docs/index.html"))) AssertSecurityHeaders(docs, csp: false);
    }

    /// <summary>A body sent without a Content-Length, in chunks of 1,000 bytes.</summary>
    private sealed class ChunkedContent(byte[] body) : HttpContent
    {
        public ChunkedContent(int length) : this(new byte[length]) { }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            for (var sent = 0; sent < body.Length; sent += 1000) await stream.WriteAsync(body.AsMemory(sent, Math.Min(1000, body.Length - sent)));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    /// <summary>The edge's Program with these settings, the frozen clock, and without its bus and event feed.</summary>
    private sealed class EdgeHost(Dictionary<string, string?> settings) : WebApplicationFactory<Program>
    {
        public string Start()
        {
            UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
            StartServer();
            return Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        }

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseEnvironment("Testing");
            foreach (var (key, value) in settings) builder.UseSetting(key, value);
            builder.ConfigureLogging(l => l.SetMinimumLevel(LogLevel.Warning));
            builder.ConfigureTestServices(services =>
            {
                foreach (var hosted in services.Where(d => d.ServiceType == typeof(IHostedService)
                             && (d.ImplementationType?.FullName?.StartsWith("MassTransit", StringComparison.Ordinal) == true || d.ImplementationType?.Name == "EventFeed")).ToList())
                    services.Remove(hosted);
                services.AddSingleton<TimeProvider>(new FakeTimeProvider(Now));
            });
        }
    }

    /// <summary>orgs, tasks and metrics in one: resolves the admin token and <see cref="GoodKey"/>, answers any other path with what it got.</summary>
    private sealed class FakeServices : IAsyncDisposable
    {
        private WebApplication _app = null!;
        private int _keyLookups;
        public string Url { get; private set; } = "";
        public ConcurrentQueue<string> Calls { get; } = new();
        public int KeyLookups => Volatile.Read(ref _keyLookups);

        public static async Task<FakeServices> StartAsync()
        {
            var fake = new FakeServices();
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
            builder.Logging.ClearProviders();
            var app = fake._app = builder.Build();
            var user = new ResolvedUser(Guid.NewGuid(), Guid.NewGuid(), Roles.Owner, true, true, []);
            app.MapPost("/internal/v1/principals/resolve", () => Results.Json(user, JsonDefaults.Api));
            app.MapPost("/internal/v1/principals/resolve-api-key", async (HttpRequest request) =>
            {
                Interlocked.Increment(ref fake._keyLookups);
                var body = await request.ReadFromJsonAsync<ResolveApiKeyRequest>(JsonDefaults.Api);
                return body?.Key == GoodKey ? Results.Json(user, JsonDefaults.Api) : Results.NotFound();
            });
            app.Map("/{**rest}", async (HttpContext http) =>
            {
                fake.Calls.Enqueue(http.Request.Path);
                long length = 0;
                var buffer = new byte[8192];
                using var sha256 = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
                for (int read; (read = await http.Request.Body.ReadAsync(buffer)) > 0;)
                {
                    length += read;
                    sha256.AppendData(buffer, 0, read);
                }
                return Results.Json(new
                {
                    path = http.Request.Path.Value, length, sha256 = Convert.ToHexString(sha256.GetHashAndReset()),
                    content_type = http.Request.ContentType,
                });
            });
            await app.StartAsync();
            fake.Url = app.Urls.First();
            return fake;
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}
