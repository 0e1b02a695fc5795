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
            if (!parameter.HasTryParse || Kind(type) is not { } kind) continue;
            var fromRoute = parameter.ParameterInfo.GetCustomAttribute<FromRouteAttribute>();
            var fromQuery = parameter.ParameterInfo.GetCustomAttribute<FromQueryAttribute>();
            var name = fromQuery?.Name ?? fromRoute?.Name ?? parameter.Name;
            string? raw = fromQuery is null && routeValues.TryGetValue(name, out var routeValue)
                ? routeValue?.ToString()
                : http.Request.Query.TryGetValue(name, out var queryValue) ? queryValue.ToString() : null;
            if (string.IsNullOrEmpty(raw) || kind.Parses(raw)) continue;
            errors[name] = [Message(kind.Expected, raw)];
        }
        return errors;
    }

    /// <summary>"must be an integer, not "abc"" (the value cut at 64 characters).</summary>
    public static string Message(string expected, string raw) => $"must be {expected}, not \"{(raw.Length > 64 ? raw[..64] + "…" : raw)}\"";

    /// <summary>"must be an ISO 8601 date and time, not "yesterday"" for a value meant to be of this type.</summary>
    public static string Message(Type type, string raw) => Message(Kind(type)?.Expected ?? type.Name, raw);

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>The simple types a query or route value binds to: what to call each, and whether a value is one (as the binders parse it).</summary>
    private static readonly Dictionary<Type, (string Expected, Func<string, bool> Parses)> Simple = new()
    {
        [typeof(int)] = ("an integer", raw => int.TryParse(raw, NumberStyles.Integer, Invariant, out _)),
        [typeof(long)] = ("an integer", raw => long.TryParse(raw, NumberStyles.Integer, Invariant, out _)),
        [typeof(bool)] = ("true or false", raw => bool.TryParse(raw, out _)),
        [typeof(Guid)] = ("a UUID", raw => Guid.TryParse(raw, out _)),
        [typeof(DateTimeOffset)] = ("an ISO 8601 date and time", raw => DateTimeOffset.TryParse(raw, Invariant, DateTimeStyles.None, out _)),
        [typeof(DateTime)] = ("an ISO 8601 date and time", raw => DateTime.TryParse(raw, Invariant, DateTimeStyles.None, out _)),
        [typeof(double)] = ("a number", raw => double.TryParse(raw, NumberStyles.Float, Invariant, out _)),
        [typeof(decimal)] = ("a number", raw => decimal.TryParse(raw, NumberStyles.Number, Invariant, out _)),
    };

    private static (string Expected, Func<string, bool> Parses)? Kind(Type type) =>
        Simple.TryGetValue(type, out var kind) ? kind
        : type.IsEnum ? ("one of " + string.Join(", ", Enum.GetNames(type)), raw => Enum.TryParse(type, raw, ignoreCase: false, out _))
        : null;
}
