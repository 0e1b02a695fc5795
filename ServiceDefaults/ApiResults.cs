using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;

namespace Microsoft.Extensions.Hosting;

/// <summary>The public API's error answers, all problem details (request_id is added by the defaults).</summary>
public static class ApiProblems
{
    public static IResult NotFound(string detail, string? code = null) => Status(StatusCodes.Status404NotFound, detail, code);
    public static IResult Forbidden(string detail, string? code = null) => Status(StatusCodes.Status403Forbidden, detail, code);
    public static IResult Conflict(string detail, string? code = null, IDictionary<string, object?>? extensions = null) =>
        Status(StatusCodes.Status409Conflict, detail, code, extensions);

    /// <summary>
    /// Any problem answer; <paramref name="code"/> is the machine-readable reason (e.g. task_blocked,
    /// approval_required) that clients branch on, and <paramref name="extensions"/> carry its details
    /// (e.g. blocked_by_task_ids).
    /// </summary>
    public static IResult Status(int status, string detail, string? code = null, IDictionary<string, object?>? extensions = null)
    {
        var ext = extensions is null ? new Dictionary<string, object?>() : new Dictionary<string, object?>(extensions);
        if (code is not null) ext["code"] = code;
        return Results.Problem(detail, statusCode: status, title: ReasonPhrases.GetReasonPhrase(status), extensions: ext);
    }

    /// <summary>422 with the field errors, e.g. {"errors": {"name": ["must not be blank"]}}.</summary>
    public static IResult Validation(IDictionary<string, string[]> errors) => Results.Problem(
        "Validation failed: " + string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}")),
        statusCode: StatusCodes.Status422UnprocessableEntity, title: "Validation failed",
        extensions: new Dictionary<string, object?> { ["errors"] = errors });

    public static IResult Validation(string field, string message) => Validation(new Dictionary<string, string[]> { [field] = [message] });

    /// <summary>422 for a rule (not a field format), with its machine-readable code.</summary>
    public static IResult Unprocessable(string detail, string? code = null, IDictionary<string, object?>? extensions = null) =>
        Status(StatusCodes.Status422UnprocessableEntity, detail, code, extensions);
}

/// <summary>/api/v1 list envelope.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, int Total, int Limit, int Offset);

/// <summary>limit (default 50, 1..200) and offset (≥ 0) from the query string.</summary>
public readonly record struct PageRequest(int Limit, int Offset)
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;

    public static bool TryParse(int? limit, int? offset, out PageRequest page, out IResult? error)
    {
        page = new PageRequest(limit ?? DefaultLimit, offset ?? 0);
        error = null;
        if (page.Limit is < 1 or > MaxLimit) error = ApiProblems.Validation("limit", $"must be between 1 and {MaxLimit}");
        else if (page.Offset < 0) error = ApiProblems.Validation("offset", "must be 0 or more");
        return error is null;
    }
}

/// <summary>Request bodies read by hand (PATCH bodies, where which keys are present matters).</summary>
public static class JsonRequests
{
    /// <summary>The body as a JSON object; malformed JSON or any other JSON value is the caller's fault: 400.</summary>
    public static async Task<System.Text.Json.Nodes.JsonObject> ReadObjectAsync(HttpRequest request, CancellationToken ct)
    {
        System.Text.Json.Nodes.JsonNode? node;
        try
        {
            node = await System.Text.Json.Nodes.JsonNode.ParseAsync(request.Body, cancellationToken: ct);
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new BadHttpRequestException($"Malformed JSON: {e.Message}", e);
        }
        return node as System.Text.Json.Nodes.JsonObject ?? throw new BadHttpRequestException("The request body must be a JSON object.");
    }
}
