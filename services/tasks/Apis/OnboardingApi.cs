using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Tasks;
using MissionControl.InternalAuth;
using MissionControl.Messaging;
using MissionControl.Tasks.Data;
using MissionControl.Tasks.Operations;

namespace MissionControl.Tasks.Apis;

public sealed record OnboardingAnswerRequest(string? Answer, string? OtherText);

public sealed record OnboardingConfirmRequest(string? BoardType, string? Objective, JsonElement? SuccessMetrics, DateTimeOffset? TargetDate);

public sealed record OnboardingSessionRead(
    Guid Id, Guid BoardId, string SessionKey, string Status, JsonElement Messages, JsonElement? DraftGoal, DateTime CreatedAt, DateTime UpdatedAt);

/// <summary>
/// Board onboarding (reference §2.6): a chat between the board's humans and the gateway-main agent of
/// the board's gateway. Each prompt for the agent goes out as OnboardingMessageRequested; the agent
/// answers through /boards/{b}/onboarding/agent (or /agent/boards/{b}/onboarding). Confirming stores
/// the goal in the session: the board's goal fields belong to orgs, which is not told (yet).
/// </summary>
public static class OnboardingApi
{
    public const string Active = "active";
    public const string Completed = "completed";
    public const string Confirmed = "confirmed";

    public static IEndpointRouteBuilder MapOnboardingApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/boards/{boardId:guid}/onboarding");
        api.MapGet("", Get);
        api.MapPost("/start", Start);
        api.MapPost("/answer", Answer);
        api.MapPost("/agent", AgentReply);
        api.MapPost("/confirm", Confirm);
        return app;
    }

    private static async Task<IResult> Get(Guid boardId, HttpContext http, BoardAccess access, TasksDbContext db, CancellationToken ct)
    {
        var (_, error) = await access.CheckAsync(http, boardId, BoardAccessLevel.Read, ct);
        if (error is not null) return error;
        return await LatestAsync(db, boardId, ct) is { } session ? Results.Ok(Read(session)) : ApiProblems.NotFound("No onboarding session for this board.");
    }

    /// <summary>Returns the active session (asking the agent again if the last word was ours), or starts one.</summary>
    private static async Task<IResult> Start(
        Guid boardId, HttpContext http, BoardAccess access, TasksDbContext db, DatabaseWriteGate gate, TimeProvider time, CancellationToken ct)
    {
        var (board, error) = await UserWriteAsync(http, access, boardId, ct);
        if (error is not null) return error;
        await using var unit = await WriteUnit.BeginAsync(db, gate, ct);
        var now = time.GetUtcNow().UtcDateTime;
        var active = await db.OnboardingSessions.Where(s => s.BoardId == boardId && s.Status == Active).OrderByDescending(s => s.UpdatedAt).FirstOrDefaultAsync(ct);
        if (active is not null)
        {
            if (Messages(active).LastOrDefault() is JsonObject { } last && (string?)last["role"] == "user")
                Send(db, board!, active, (string?)last["content"] ?? "", now);
            await unit.CommitAsync(ct);
            return Results.Ok(Read(active));
        }
        if (board!.GatewayId is not { } gatewayId) return ApiProblems.Unprocessable("The board has no gateway to onboard with.", "board_has_no_gateway");

        var main = await db.Agents.AsNoTracking()
            .FirstOrDefaultAsync(a => a.OrganizationId == board.OrganizationId && a.GatewayId == gatewayId && a.IsGatewayMain, ct);
        var prompt = Prompt(board);
        var session = new OnboardingSession
        {
            Id = Guid.CreateVersion7(), OrganizationId = board.OrganizationId, BoardId = boardId,
            SessionKey = main?.SessionKey ?? $"agent:mc-gateway-{gatewayId}:main", Status = Active,
            Messages = new JsonArray(Message("user", prompt, now)).ToJsonString(), CreatedAt = now, UpdatedAt = now,
        };
        db.OnboardingSessions.Add(session);
        Send(db, board, session, prompt, now);
        await unit.CommitAsync(ct);
        return Results.Ok(Read(session));
    }

    private static async Task<IResult> Answer(
        Guid boardId, OnboardingAnswerRequest body, HttpContext http, BoardAccess access, TasksDbContext db, DatabaseWriteGate gate, TimeProvider time,
        CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(body.Answer)) return ApiProblems.Validation("answer", "must not be blank");
        var (board, error) = await UserWriteAsync(http, access, boardId, ct);
        if (error is not null) return error;
        await using var unit = await WriteUnit.BeginAsync(db, gate, ct);
        var session = await db.OnboardingSessions.Where(s => s.BoardId == boardId && s.Status == Active).OrderByDescending(s => s.UpdatedAt).FirstOrDefaultAsync(ct);
        if (session is null) return ApiProblems.NotFound("No active onboarding session for this board.");
        var now = time.GetUtcNow().UtcDateTime;
        var text = string.IsNullOrWhiteSpace(body.OtherText) ? body.Answer.Trim() : $"{body.Answer.Trim()}: {body.OtherText.Trim()}";
        Append(session, Message("user", text, now), now);
        Send(db, board!, session, text, now);
        await unit.CommitAsync(ct);
        return Results.Ok(Read(session));
    }

    /// <summary>The gateway-main agent's question or completion; only a gateway-main agent of the board's organization may post it.</summary>
    internal static async Task<IResult> AgentReply(
        Guid boardId, HttpContext http, BoardCopies boards, TasksDbContext db, DatabaseWriteGate gate, TimeProvider time, CancellationToken ct)
    {
        var body = await JsonBody.ReadAsync(http.Request, ct);
        var principal = http.GetPrincipal();
        var board = await boards.FindAsync(boardId, http.Request.GetBearerToken(), ct);
        if (board is null || board.OrganizationId != principal.OrganizationId) return ApiProblems.NotFound("Board not found.");
        if (principal.Kind != PrincipalKind.Agent || principal.Role != AgentRoles.Main)
            return ApiProblems.Forbidden("Only the dedicated gateway agent may call this endpoint.", "gateway_main_only");
        var (reply, invalid) = ParseReply(body);
        if (invalid is not null) return invalid;

        await using var unit = await WriteUnit.BeginAsync(db, gate, ct);
        var session = await LatestAsync(db, boardId, ct, tracked: true);
        if (session is null) return ApiProblems.NotFound("No onboarding session for this board.");
        if (session.Status == Confirmed) return ApiProblems.Conflict("The onboarding session is already confirmed.", "onboarding_confirmed");
        var now = time.GetUtcNow().UtcDateTime;
        Append(session, Message("assistant", reply!.ToJsonString(), now), now);
        if ((string?)reply["status"] == "complete")
        {
            session.DraftGoal = reply.ToJsonString();
            session.Status = Completed;
        }
        await unit.CommitAsync(ct);
        return Results.Ok(Read(session));
    }

    /// <summary>The human confirms the goal: stored in the session (draft_goal) and the session is confirmed.</summary>
    private static async Task<IResult> Confirm(
        Guid boardId, OnboardingConfirmRequest body, HttpContext http, BoardAccess access, TasksDbContext db, DatabaseWriteGate gate, TimeProvider time,
        CancellationToken ct)
    {
        if (body.BoardType is not ("goal" or "general")) return ApiProblems.Validation("board_type", "must be goal or general");
        if (body.BoardType == "goal" && (string.IsNullOrWhiteSpace(body.Objective) || body.SuccessMetrics is null or { ValueKind: JsonValueKind.Null }))
            return ApiProblems.Validation(new Dictionary<string, string[]> { ["objective"] = ["a goal board needs an objective and success metrics"] });
        var (_, error) = await UserWriteAsync(http, access, boardId, ct);
        if (error is not null) return error;

        await using var unit = await WriteUnit.BeginAsync(db, gate, ct);
        var session = await LatestAsync(db, boardId, ct, tracked: true);
        if (session is null) return ApiProblems.NotFound("No onboarding session for this board.");
        if (session.Status == Confirmed) return ApiProblems.Conflict("The onboarding session is already confirmed.", "onboarding_confirmed");
        var goal = session.DraftGoal is null ? new JsonObject() : JsonNode.Parse(session.DraftGoal) as JsonObject ?? new JsonObject();
        goal["board_type"] = body.BoardType;
        goal["objective"] = body.Objective?.Trim();
        goal["success_metrics"] = body.SuccessMetrics is { } metrics ? JsonNode.Parse(metrics.GetRawText()) : null;
        goal["target_date"] = body.TargetDate?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'");
        session.DraftGoal = goal.ToJsonString();
        session.Status = Confirmed;
        session.UpdatedAt = time.GetUtcNow().UtcDateTime;
        await unit.CommitAsync(ct);
        return Results.Ok(Read(session));
    }

    private static async Task<(BoardCopy? Board, IResult? Error)> UserWriteAsync(HttpContext http, BoardAccess access, Guid boardId, CancellationToken ct)
    {
        var (board, error) = await access.CheckAsync(http, boardId, BoardAccessLevel.Write, ct);
        if (error is not null) return (null, error);
        return http.GetPrincipal().Kind == PrincipalKind.User ? (board, null) : (null, ApiProblems.Forbidden("Only users onboard a board.", "user_only"));
    }

    /// <summary>A question {question, options:[{id,label}]} or a completion {status:"complete", board_type, ...}.</summary>
    private static (JsonObject? Reply, IResult? Error) ParseReply(JsonBody body)
    {
        var reply = body.Clone();
        if (body.Get<string>("status") == "complete")
            return body.Get<string>("board_type") is "goal" or "general"
                ? (reply, null)
                : (null, ApiProblems.Validation("board_type", "must be goal or general"));
        var question = body.Get<string>("question");
        var options = body.Get<List<JsonObject>>("options");
        if (string.IsNullOrWhiteSpace(question)) return (null, ApiProblems.Validation("question", "must not be blank"));
        if (options is not { Count: > 0 } || options.Any(o => string.IsNullOrWhiteSpace((string?)o["id"]) || string.IsNullOrWhiteSpace((string?)o["label"])))
            return (null, ApiProblems.Validation("options", "at least one option with an id and a label"));
        return (reply, null);
    }

    private static Task<OnboardingSession?> LatestAsync(TasksDbContext db, Guid boardId, CancellationToken ct, bool tracked = false)
    {
        var query = tracked ? db.OnboardingSessions : db.OnboardingSessions.AsNoTracking();
        return query.Where(s => s.BoardId == boardId).OrderByDescending(s => s.UpdatedAt).FirstOrDefaultAsync(ct);
    }

    private static JsonArray Messages(OnboardingSession session) => JsonNode.Parse(session.Messages) as JsonArray ?? [];

    private static JsonObject Message(string role, string content, DateTime now) =>
        new() { ["role"] = role, ["content"] = content, ["timestamp"] = now.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'") };

    private static void Append(OnboardingSession session, JsonObject message, DateTime now)
    {
        var messages = Messages(session);
        messages.Add(message);
        session.Messages = messages.ToJsonString();
        session.UpdatedAt = now;
    }

    private static void Send(TasksDbContext db, BoardCopy board, OnboardingSession session, string message, DateTime now) =>
        db.AddIntegrationEvent(new OnboardingMessageRequested
        {
            OrganizationId = board.OrganizationId, BoardId = board.Id, SessionId = session.Id, GatewayId = board.GatewayId, Message = message,
            OccurredAt = now,
        });

    private static string Prompt(BoardCopy board) =>
        "BOARD ONBOARDING REQUEST\n" +
        $"Board: {board.Name}\nBoard ID: {board.Id}\nDescription: {board.Description}\n\n" +
        "Help the user define this board's goal. Ask one question at a time by POSTing JSON to " +
        $"/api/v1/agent/boards/{board.Id}/onboarding: " +
        "{\"question\": \"...\", \"options\": [{\"id\": \"1\", \"label\": \"...\"}]}.\n" +
        "When you know enough, POST the completion: {\"status\": \"complete\", \"board_type\": \"goal\" or \"general\", \"objective\": \"...\", " +
        "\"success_metrics\": {...}, \"target_date\": \"YYYY-MM-DD\", \"user_profile\": {...}, \"lead_agent\": {\"name\": \"...\", " +
        "\"autonomy_level\": \"ask_first|balanced|autonomous\", ...}}.\nThe user's answers arrive in this session.";

    private static OnboardingSessionRead Read(OnboardingSession s) => new(
        s.Id, s.BoardId, s.SessionKey, s.Status, Json.Parse(s.Messages), s.DraftGoal is null ? null : Json.Parse(s.DraftGoal), s.CreatedAt, s.UpdatedAt);
}
