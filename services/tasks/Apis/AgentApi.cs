using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Tasks;
using MissionControl.InternalAuth;
using MissionControl.Tasks.Data;

namespace MissionControl.Tasks.Apis;

/// <summary>
/// /api/v1/agent/boards/{board_id}/...: what agents call with their own token. Every operation is the
/// same handler as the user route; only agents get in here, and the handlers confine an agent to its
/// own board and its role (worker or lead).
/// </summary>
public static class AgentApi
{
    public static IEndpointRouteBuilder MapAgentApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/agent/boards/{boardId:guid}").AddEndpointFilter(AgentsOnly);
        api.MapGet("/tasks", TasksApi.List);
        api.MapPost("/tasks", TasksApi.Create);
        api.MapGet("/tasks/{taskId:guid}", TasksApi.Get);
        api.MapPatch("/tasks/{taskId:guid}", TasksApi.Patch);
        api.MapDelete("/tasks/{taskId:guid}", TasksApi.Delete);
        api.MapGet("/tasks/{taskId:guid}/comments", CommentsApi.List);
        api.MapPost("/tasks/{taskId:guid}/comments", CommentsApi.Create);
        api.MapGet("/tags", Tags);
        api.MapGet("/approvals", ApprovalsApi.List);
        api.MapPost("/approvals", ApprovalsApi.Create);
        api.MapGet("/memory", MemoryApi.ListBoard);
        api.MapPost("/memory", MemoryApi.CreateBoard);
        api.MapPost("/onboarding", OnboardingApi.AgentReply);
        api.MapGet("/webhooks/{webhookId:guid}/payloads/{payloadId:guid}", WebhooksApi.GetPayload);
        return app;
    }

    private static async ValueTask<object?> AgentsOnly(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        context.HttpContext.GetPrincipal().Kind == PrincipalKind.Agent
            ? await next(context)
            : ApiProblems.Forbidden("These routes are for agents; users use /api/v1/boards/{board_id}/...", "agent_only");

    /// <summary>The organization's tags (a plain array).</summary>
    private static async Task<IResult> Tags(Guid boardId, HttpContext http, BoardAccess access, TasksDbContext db, CancellationToken ct)
    {
        var (board, error) = await access.CheckAsync(http, boardId, BoardAccessLevel.Read, ct);
        if (error is not null) return error;
        var tags = await db.Tags.AsNoTracking().Where(t => t.OrganizationId == board!.OrganizationId).OrderBy(t => t.Name)
            .Select(t => new TagRef(t.Id, t.Name, t.Slug, t.Color)).ToListAsync(ct);
        return Results.Ok(tags);
    }
}
