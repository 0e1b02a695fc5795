using System.Globalization;
using System.Reflection;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The request delegate generator answers a value it cannot parse for an optional parameter
/// (<c>?offset=abc</c>, <c>?assigned_agent_id=zzz</c>) with a bare 400 and no body, whatever ThrowOnBadRequest
/// says (a required one throws, and reaches KnownExceptionHandler). In both cases this finds which of the
/// endpoint's parameters did not parse, and the answer is 422 "Validation failed" with an error per
/// parameter, as a value out of range is answered.
/// </summary>
public static class ParameterErrors
{
    /// <summary>The status code pages' answer: this 422 for such a 400, else the usual problem details for the status.</summary>
    public static async Task WriteAsync(StatusCodeContext context)
    {
        var http = context.HttpContext;
        if (http.Response.StatusCode == StatusCodes.Status400BadRequest && await TryWriteAsync(http)) return;
        var problems = http.RequestServices.GetRequiredService<IProblemDetailsService>();
        if (!await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = new ProblemDetails { Status = http.Response.StatusCode } }))
            await http.Response.WriteAsync($"Status Code: {http.Response.StatusCode}; {ReasonPhrases.GetReasonPhrase(http.Response.StatusCode)}");
    }

    /// <summary>Answers 422 naming the parameters whose values did not parse; false when none did (the 400 was something else).</summary>
    public static async Task<bool> TryWriteAsync(HttpContext http)
    {
        var errors = Find(http);
        if (errors.Count == 0) return false;
        await ApiProblems.Validation(errors).ExecuteAsync(http);
        return true;
    }

    /// <summary>The endpoint's simple-typed parameters whose value in the request does not parse, by the name the caller used.</summary>
    public static Dictionary<string, string[]> Find(HttpContext http)
    {
        var errors = new Dictionary<string, string[]>();
        // Inside the exception handler the request's endpoint and route values are cleared; its feature keeps them.
        var failure = http.Features.Get<IExceptionHandlerFeature>();
        if ((failure?.Endpoint ?? http.GetEndpoint()) is not { } endpoint) return errors;
        var routeValues = failure?.RouteValues ?? http.Request.RouteValues;
        foreach (var parameter in endpoint.Metadata.GetOrderedMetadata<IParameterBindingMetadata>())
        {
            var type = Nullable.GetUnderlyingType(parameter.ParameterInfo.ParameterType) ?? parameter.ParameterInfo.ParameterType;
            if (!parameter.HasTryParse || Expected(type) is not { } expected) continue;
            var fromRoute = parameter.ParameterInfo.GetCustomAttribute<FromRouteAttribute>();
            var fromQuery = parameter.ParameterInfo.GetCustomAttribute<FromQueryAttribute>();
            var name = fromQuery?.Name ?? fromRoute?.Name ?? parameter.Name;
            string? raw = fromQuery is null && routeValues.TryGetValue(name, out var routeValue)
                ? routeValue?.ToString()
                : http.Request.Query.TryGetValue(name, out var queryValue) ? queryValue.ToString() : null;
            if (string.IsNullOrEmpty(raw) || Parses(type, raw)) continue;
            errors[name] = [Message(expected, raw)];
        }
        return errors;
    }

    /// <summary>"must be an integer, not "abc"" (the value cut at 64 characters).</summary>
    public static string Message(string expected, string raw) => $"must be {expected}, not \"{(raw.Length > 64 ? raw[..64] + "…" : raw)}\"";

    private static string? Expected(Type type) =>
        type == typeof(int) || type == typeof(long) ? "an integer"
        : type == typeof(bool) ? "true or false"
        : type == typeof(Guid) ? "a UUID"
        : type == typeof(DateTimeOffset) || type == typeof(DateTime) ? "an ISO 8601 date and time"
        : type == typeof(double) || type == typeof(decimal) ? "a number"
        : type.IsEnum ? "one of " + string.Join(", ", Enum.GetNames(type))
        : null;

    private static bool Parses(Type type, string raw)
    {
        var c = CultureInfo.InvariantCulture;
        if (type == typeof(int)) return int.TryParse(raw, NumberStyles.Integer, c, out _);
        if (type == typeof(long)) return long.TryParse(raw, NumberStyles.Integer, c, out _);
        if (type == typeof(bool)) return bool.TryParse(raw, out _);
        if (type == typeof(Guid)) return Guid.TryParse(raw, out _);
        if (type == typeof(DateTimeOffset)) return DateTimeOffset.TryParse(raw, c, DateTimeStyles.None, out _);
        if (type == typeof(DateTime)) return DateTime.TryParse(raw, c, DateTimeStyles.None, out _);
        if (type == typeof(double)) return double.TryParse(raw, NumberStyles.Float, c, out _);
        if (type == typeof(decimal)) return decimal.TryParse(raw, NumberStyles.Number, c, out _);
        return Enum.TryParse(type, raw, ignoreCase: false, out _); // as the binders parse it
    }
}
