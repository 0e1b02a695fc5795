using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.Hosting;

public static class ProblemDetailsDefaults
{
    public static IServiceCollection AddMissionControlProblemDetails(this IServiceCollection services)
    {
        services.AddProblemDetails(o => o.CustomizeProblemDetails = ctx =>
        {
            ctx.ProblemDetails.Extensions["request_id"] = ctx.HttpContext.TraceIdentifier;
            ctx.ProblemDetails.Detail ??= ctx.ProblemDetails.Title;
        });
        services.AddExceptionHandler<KnownExceptionHandler>();
        // Malformed bodies throw BadHttpRequestException in every environment, so they become 400
        // problem details with the parser's reason instead of an empty response. (A query value the
        // generated binders cannot parse is not thrown: ParameterErrors answers those.)
        services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        return services;
    }
}

/// <summary>
/// Bad input is the caller's fault: 400 (or the status it carries), never 500. A service this one
/// depends on not answering is a 502 the caller may retry.
/// </summary>
internal sealed class KnownExceptionHandler(IProblemDetailsService problems, ILogger<KnownExceptionHandler> log) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken ct)
    {
        // A query or route value that does not parse, from a binder that throws: the same 422 as ParameterErrors gives.
        if (exception is BadHttpRequestException { StatusCode: StatusCodes.Status400BadRequest } && await ParameterErrors.TryWriteAsync(context)) return true;
        var (status, detail) = exception switch
        {
            BadHttpRequestException bad when bad.InnerException is JsonException json =>
                (bad.StatusCode, $"Malformed JSON: {json.Message}"),
            BadHttpRequestException bad => (bad.StatusCode, bad.Message),
            JsonException json => (StatusCodes.Status400BadRequest, $"Malformed JSON: {json.Message}"),
            HttpRequestException upstream => (StatusCodes.Status502BadGateway, $"A service this request depends on did not answer: {upstream.Message}"),
            _ => (0, null),
        };
        if (status == 0)
        {
            log.LogError(exception, "Unhandled error on {Method} {Path}", context.Request.Method, context.Request.Path);
            return false;
        }

        context.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails { Status = status, Title = status == 502 ? "Bad gateway" : "Bad request", Detail = detail },
        });
    }
}
