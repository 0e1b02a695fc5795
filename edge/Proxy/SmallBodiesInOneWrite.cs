using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Transforms;

namespace MissionControl.Edge.Proxy;

/// <summary>
/// YARP streams a request body to the service: it sends the headers, flushes them, then copies the body,
/// so a POST or PATCH reached the service in two sends (the body 0.3–1.2 ms after its headers on these
/// machines, measured with perf trace) and the service woke twice to read it. The transform
/// <see cref="ReadWholeAsync"/> makes a small body of declared length an in-memory copy (rewound for every
/// attempt: a request refused by one instance is sent to another, <see cref="InstanceFailover"/>) and marks
/// the outgoing request; this handler reads a marked request's content (YARP's own, so YARP sees it consumed
/// as usual) and sends it with the headers in one write. YARP refuses a content swapped by a transform, hence
/// a handler between it and the connection.
/// </summary>
public sealed class SmallBodiesInOneWrite : DelegatingHandler
{
    /// <summary>The default of Edge:BufferedBodyBytes [Edge__BufferedBodyBytes]; 0 streams every body.</summary>
    public const int DefaultMaxBytes = 64 * 1024;

    private static readonly HttpRequestOptionsKey<bool> ReadWhole = new("mission-control.body-read-whole");

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        if (request.Options.TryGetValue(ReadWhole, out var whole) && whole && request.Content is { } streamed)
        {
            var body = await streamed.ReadAsByteArrayAsync(ct);
            var content = new ByteArrayContent(body);
            foreach (var header in streamed.Headers)
            {
                if (!string.Equals(header.Key, "Content-Length", StringComparison.OrdinalIgnoreCase))
                    content.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
            request.Content = content;
        }
        return await base.SendAsync(request, ct);
    }

    public static long MaxBytes(IConfiguration configuration) => Math.Max(0, configuration.GetValue<long?>("Edge:BufferedBodyBytes") ?? DefaultMaxBytes);

    /// <summary>
    /// A request transform: a body of declared length up to <paramref name="maxBytes"/> becomes an in-memory copy,
    /// read once and rewound for each attempt, and the outgoing request is marked for this handler.
    /// </summary>
    public static async ValueTask ReadWholeAsync(RequestTransformContext ctx, long maxBytes)
    {
        var request = ctx.HttpContext.Request;
        if (request.ContentLength is not > 0 || request.ContentLength > maxBytes) return;
        if (request.Body is InMemoryBody copy)
        {
            copy.Position = 0;
        }
        else
        {
            var body = new byte[request.ContentLength.Value];
            await request.Body.ReadExactlyAsync(body, ctx.CancellationToken);
            request.Body = new InMemoryBody(body);
        }
        ctx.ProxyRequest.Options.Set(ReadWhole, true);
    }

    private sealed class InMemoryBody(byte[] body) : MemoryStream(body, writable: false);

    /// <summary>YARP's client for every cluster, with this handler in front of its connection handler.</summary>
    public sealed class ClientFactory : ForwarderHttpClientFactory
    {
        protected override HttpMessageHandler WrapHandler(ForwarderHttpClientContext context, HttpMessageHandler handler) =>
            new SmallBodiesInOneWrite { InnerHandler = base.WrapHandler(context, handler) };
    }
}
