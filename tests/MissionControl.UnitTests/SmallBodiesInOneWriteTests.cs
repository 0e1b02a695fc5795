using System.Net;
using Microsoft.AspNetCore.Http;
using MissionControl.Edge.Proxy;
using Yarp.ReverseProxy.Transforms;

namespace MissionControl.UnitTests;

/// <summary>The edge's small request bodies: read whole, sent with their headers, and whole again on a retry.</summary>
public sealed class SmallBodiesInOneWriteTests
{
    [Fact]
    public async Task A_body_read_whole_goes_out_whole_again_when_the_request_is_sent_to_another_instance()
    {
        var body = new byte[1000];
        Random.Shared.NextBytes(body);
        var http = new DefaultHttpContext();
        http.Request.ContentLength = body.Length;
        http.Request.Body = new MemoryStream(body);
        var sent = new List<(byte[] Body, string? Type, long? Length)>();
        using var invoker = new HttpMessageInvoker(new SmallBodiesInOneWrite { InnerHandler = new Capture(sent) });

        // Two attempts, as InstanceFailover makes when the first instance refused the connection: each runs the
        // transforms and sends a request whose content reads the request's body when it is sent, as YARP's does.
        for (var attempt = 0; attempt < 2; attempt++)
        {
            var proxyRequest = new HttpRequestMessage(HttpMethod.Post, "http://tasks.test/api/v1/boards/b/tasks") { Content = new BodyAtSendTime(http) };
            proxyRequest.Content.Headers.ContentLength = body.Length;
            proxyRequest.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
            await SmallBodiesInOneWrite.ReadWholeAsync(new RequestTransformContext { HttpContext = http, ProxyRequest = proxyRequest }, SmallBodiesInOneWrite.DefaultMaxBytes);
            using var response = await invoker.SendAsync(proxyRequest, CancellationToken.None);
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        }

        Assert.Equal(2, sent.Count);
        Assert.All(sent, s =>
        {
            Assert.Equal(body, s.Body);
            Assert.Equal("application/json", s.Type);
            Assert.Equal(body.Length, s.Length);
        });
    }

    [Fact]
    public async Task A_body_over_the_limit_is_left_to_stream()
    {
        var http = new DefaultHttpContext();
        var original = new MemoryStream(new byte[100]);
        http.Request.ContentLength = 100;
        http.Request.Body = original;

        await SmallBodiesInOneWrite.ReadWholeAsync(new RequestTransformContext { HttpContext = http, ProxyRequest = new HttpRequestMessage() }, 99);

        Assert.Same(original, http.Request.Body);
        Assert.Equal(0, original.Position);
    }

    /// <summary>Like YARP's request content: reads the incoming request's body as it is when the request is sent.</summary>
    private sealed class BodyAtSendTime(HttpContext http) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => http.Request.Body.CopyToAsync(stream);

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    private sealed class Capture(List<(byte[] Body, string? Type, long? Length)> sent) : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            sent.Add((await request.Content!.ReadAsByteArrayAsync(ct), request.Content.Headers.ContentType?.MediaType, request.Content.Headers.ContentLength));
            return new HttpResponseMessage(HttpStatusCode.NoContent);
        }
    }
}
