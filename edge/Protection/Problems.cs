namespace MissionControl.Edge.Protection;

/// <summary>The protections' refusals: problem details with a machine code, like every other API error.</summary>
internal static class ProtectionProblems
{
    public static Task WriteAsync(HttpContext context, int status, string detail, string code, IDictionary<string, object?>? extensions = null) =>
        ApiProblems.Status(status, detail, code, extensions).ExecuteAsync(context);
}
