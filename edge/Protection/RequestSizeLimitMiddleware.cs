using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Forwarder;

namespace MissionControl.Edge.Protection;

/// <summary>
/// Edge:MaxRequestBodyBytes: a declared Content-Length above it is refused before anything is read; a
/// chunked body is cut by Kestrel (its per-request MaxRequestBodySize) once it passes the limit, and
/// whoever was reading it (the proxy, usually) is answered 413 payload_too_large here.
/// </summary>
public sealed class RequestSizeLimitMiddleware(RequestDelegate next, EdgeProtectionOptions options)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var limit = options.MaxRequestBodyBytes;
        if (limit == 0)
        {
            await next(context);
            return;
        }
        if (context.Request.ContentLength > limit)
        {
            await RefuseAsync(context, limit);
            return;
        }
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature) feature.MaxRequestBodySize = limit;

        try
        {
            await next(context);
        }
        catch (Exception e) when (IsTooLarge(e) && !context.Response.HasStarted)
        {
            await RefuseAsync(context, limit);
            return;
        }
        // YARP catches the body's failure itself and answers an empty 4xx: say why instead.
        if (!context.Response.HasStarted && context.Features.Get<IForwarderErrorFeature>()?.Exception is { } error && IsTooLarge(error))
            await RefuseAsync(context, limit);
    }

    private static bool IsTooLarge(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
            if (e is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge }) return true;
        return false;
    }

    private static Task RefuseAsync(HttpContext context, long limit)
    {
        context.Response.Clear();
        return ProtectionProblems.WriteAsync(context, StatusCodes.Status413PayloadTooLarge,
            $"The request body is larger than {limit} bytes.", "payload_too_large", new Dictionary<string, object?> { ["max_bytes"] = limit });
    }
}
