namespace MissionControl.Orgs.Domain;

/// <summary>Why a rule refuses an action: the HTTP status, a message, and the code clients branch on.</summary>
public sealed record RuleViolation(int Status, string Detail, string? Code = null)
{
    public IResult ToProblem() => ApiProblems.Status(Status, Detail, Code);

    public static RuleViolation Forbidden(string detail, string? code = null) => new(StatusCodes.Status403Forbidden, detail, code);

    public static RuleViolation Unprocessable(string detail, string? code = null) => new(StatusCodes.Status422UnprocessableEntity, detail, code);
}
