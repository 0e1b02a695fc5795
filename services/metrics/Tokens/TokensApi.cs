using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Agents;
using MissionControl.InternalAuth;
using MissionControl.Metrics.Data;
using MissionControl.Metrics.EventLog;

namespace MissionControl.Metrics.Tokens;

/// <summary>
/// /api/v1/tokens/usage: report token usage (users for boards they write, agents for themselves) and
/// read it back as records or grouped by model, agent or day, with costs from the price table, as JSON
/// or CSV.
/// </summary>
public static class TokensApi
{
    public static readonly string[] Groupings = ["model", "agent", "day"];

    public static IEndpointRouteBuilder MapTokensApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/tokens/usage", Report);
        app.MapGet("/api/v1/tokens/usage", List);
        app.MapGet("/api/v1/tokens/usage/{id:guid}", Get);
        return app;
    }

    private static async Task<IResult> Report(
        HttpContext http, MetricsDbContext db, EventLogWriter writer, IConfiguration configuration, TimeProvider clock, CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        if (principal.Kind is not (PrincipalKind.User or PrincipalKind.Agent) || principal.OrganizationId is not { } org)
            return ApiProblems.Forbidden("Only users and agents of an organization report token usage.", "token_usage_forbidden");

        var body = await JsonRequests.ReadObjectAsync(http.Request, ct);
        var errors = new Dictionary<string, string[]>();
        var agentId = Field<Guid?>(body, "agent_id", errors);
        var taskId = Field<Guid?>(body, "task_id", errors);
        var boardId = Field<Guid?>(body, "board_id", errors);
        var model = Field<string>(body, "model", errors)?.Trim();
        var input = Field<long?>(body, "input_tokens", errors);
        var output = Field<long?>(body, "output_tokens", errors);
        var occurredAt = Field<DateTimeOffset?>(body, "occurred_at", errors);
        if (string.IsNullOrEmpty(model)) errors.TryAdd("model", ["is required"]);
        else if (model.Length > TokenUsageProjection.MaxModelLength) errors["model"] = [$"must be at most {TokenUsageProjection.MaxModelLength} characters"];
        if (input is null) errors.TryAdd("input_tokens", ["is required"]);
        else if (input < 0) errors["input_tokens"] = ["must be 0 or more"];
        if (output is null) errors.TryAdd("output_tokens", ["is required"]);
        else if (output < 0) errors["output_tokens"] = ["must be 0 or more"];
        if (errors.Count > 0) return ApiProblems.Validation(errors);

        Guid? taskBoard = null;
        if (taskId is { } t)
        {
            taskBoard = await db.TaskStates.Where(s => s.Id == t && s.OrganizationId == org && !s.Deleted).Select(s => (Guid?)s.BoardId).FirstOrDefaultAsync(ct);
            if (taskBoard is null) return ApiProblems.NotFound("Task not found.", "task_not_found");
            if (boardId is { } b && b != taskBoard) return ApiProblems.Validation("task_id", "is not on the given board");
        }

        if (principal.Kind == PrincipalKind.Agent)
        {
            if (agentId is { } a && a != principal.AgentId)
                return ApiProblems.Forbidden("An agent reports only its own token usage.", "agent_mismatch");
            agentId = principal.AgentId;
            if (boardId is { } b && b != principal.AgentBoardId)
                return ApiProblems.Forbidden("An agent reports usage only on its own board.", "board_access_denied");
            if (taskBoard is { } tb && tb != principal.AgentBoardId)
                return ApiProblems.Forbidden("The task is not on this agent's board.", "board_access_denied");
            boardId = principal.AgentBoardId;
        }
        else
        {
            boardId ??= taskBoard;
            // A known board agent's usage belongs to its board (an agent not yet copied here is taken as given).
            if (agentId is { } a && await db.AgentCopies.AsNoTracking().FirstOrDefaultAsync(c => c.Id == a && c.OrganizationId == org, ct) is { BoardId: { } agentBoard })
            {
                if (boardId is { } given && given != agentBoard) return ApiProblems.Validation("agent_id", "is not on the board of this usage");
                boardId = agentBoard;
            }
            var allowed = principal.IsOrgAdmin || boardId is { } b && principal.CanWriteBoard(b);
            if (!allowed)
                return ApiProblems.Forbidden(boardId is null
                    ? "Only organization admins report usage that belongs to no board."
                    : "You need write access to the board to report its token usage.", "board_access_denied");
        }

        var reported = new TokenUsageReported
        {
            OrganizationId = org, AgentId = agentId, BoardId = boardId, TaskId = taskId, Model = model!, InputTokens = input!.Value,
            OutputTokens = output!.Value, Source = "api", OccurredAt = occurredAt ?? clock.GetUtcNow(),
        };
        var id = Guid.NewGuid();
        await writer.AppendAsync(reported, id, ct);
        var record = TokenUsageProjection.FromEvent(reported, id, 0);
        return Results.Created($"/api/v1/tokens/usage/{id}", Read(record, PriceTable.From(configuration)));
    }

    private static async Task<IResult> Get(Guid id, HttpContext http, MetricsDbContext db, IConfiguration configuration, CancellationToken ct)
    {
        var record = await db.TokenUsage.AsNoTracking().VisibleTo(http.GetPrincipal()).FirstOrDefaultAsync(u => u.Id == id, ct);
        return record is null ? ApiProblems.NotFound("Token usage record not found.") : Results.Ok(Read(record, PriceTable.From(configuration)));
    }

    private static async Task<IResult> List(
        HttpContext http, MetricsDbContext db, IConfiguration configuration, Guid? agent_id, Guid? board_id, Guid? task_id, string? model,
        DateTimeOffset? from, DateTimeOffset? to, string? group_by, int? limit, int? offset, CancellationToken ct)
    {
        var principal = http.GetPrincipal();
        if (principal.Kind is not (PrincipalKind.User or PrincipalKind.Agent))
            return ApiProblems.Forbidden("Only users and agents read token usage.", "token_usage_forbidden");
        var csv = http.Request.Headers.Accept.Any(a => a?.Contains("text/csv", StringComparison.OrdinalIgnoreCase) == true);
        // A CSV export without an explicit page is the whole result.
        var explicitPage = limit is not null || offset is not null;
        if (!PageRequest.TryParse(limit, offset, out var page, out var pageError)) return pageError!;
        if (group_by is not null && !Groupings.Contains(group_by))
            return ApiProblems.Validation("group_by", $"must be one of {string.Join(", ", Groupings)}");
        if (from is not null && to is not null && to < from) return ApiProblems.Validation("to", "must not be before from");
        if (principal.Kind == PrincipalKind.Agent && agent_id is { } other && other != principal.AgentId)
            return ApiProblems.Forbidden("An agent reads only its own token usage.", "agent_mismatch");
        if (principal.Kind == PrincipalKind.User && board_id is { } board && !principal.IsOrgAdmin && !principal.CanReadBoard(board))
            return ApiProblems.Forbidden("You have no access to this board.", "board_access_denied");

        var query = db.TokenUsage.AsNoTracking().VisibleTo(principal);
        if (agent_id is not null) query = query.Where(u => u.AgentId == agent_id);
        if (board_id is not null) query = query.Where(u => u.BoardId == board_id);
        if (task_id is not null) query = query.Where(u => u.TaskId == task_id);
        if (!string.IsNullOrWhiteSpace(model)) query = query.Where(u => u.Model == model.Trim());
        if (from is { } f) { var fromUtc = f.UtcDateTime; query = query.Where(u => u.OccurredAt >= fromUtc); }
        if (to is { } t) { var toUtc = t.UtcDateTime; query = query.Where(u => u.OccurredAt < toUtc); }

        var prices = PriceTable.From(configuration);
        var sums = (await query.GroupBy(u => new { u.Model, u.AgentId, u.Day })
                .Select(g => new { g.Key.Model, g.Key.AgentId, g.Key.Day, Records = g.Count(), Input = g.Sum(u => u.InputTokens), Output = g.Sum(u => u.OutputTokens) })
                .ToListAsync(ct))
            .Select(s => new Sum(s.Model, s.AgentId, s.Day, s.Records, s.Input, s.Output, prices.Price(s.Model, s.Input, s.Output)))
            .ToList();
        var totals = Fold(sums);
        var unpriced = sums.Where(s => !s.Cost.Priced).Select(s => s.Model).Distinct().Order(StringComparer.Ordinal).ToList();

        Table table;
        int total;
        if (group_by is null)
        {
            total = totals.Records;
            var ordered = query.OrderByDescending(u => u.OccurredAt).ThenByDescending(u => u.Seq);
            var records = csv && !explicitPage ? await ordered.ToListAsync(ct) : await ordered.Skip(page.Offset).Take(page.Limit).ToListAsync(ct);
            table = RecordTable(records.Select(r => Read(r, prices)));
        }
        else
        {
            var names = group_by == "agent"
                ? await db.AgentCopies.AsNoTracking().Where(a => a.OrganizationId == principal.OrganizationId).ToDictionaryAsync(a => a.Id, a => a.Name, ct)
                : [];
            var groups = group_by switch
            {
                "model" => sums.GroupBy(s => (object?)s.Model).Select(g => (Key: g.Key, Totals: Fold(g)))
                    .OrderByDescending(g => g.Totals.TotalCost).ThenBy(g => (string)g.Key!, StringComparer.Ordinal),
                "agent" => sums.GroupBy(s => (object?)s.AgentId).Select(g => (Key: g.Key, Totals: Fold(g)))
                    .OrderByDescending(g => g.Totals.TotalCost).ThenBy(g => g.Key?.ToString()),
                _ => sums.GroupBy(s => (object?)s.Day).Select(g => (Key: g.Key, Totals: Fold(g))).OrderBy(g => (DateTime)g.Key!),
            };
            var all = groups.ToList();
            total = all.Count;
            var shown = csv && !explicitPage ? all : all.Skip(page.Offset).Take(page.Limit).ToList();
            string[] keyColumns = group_by switch { "model" => ["model"], "agent" => ["agent_id", "agent_name"], _ => ["day"] };
            table = new Table([.. keyColumns, .. Totals.Columns], shown.Select(g => (object?[])[
                .. group_by switch
                {
                    "model" => new object?[] { g.Key },
                    "agent" => [g.Key, g.Key is Guid a && names.TryGetValue(a, out var n) ? n : null],
                    _ => [((DateTime)g.Key!).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)],
                },
                .. g.Totals.Values(),
            ]).ToList());
        }

        if (csv) return Results.Text(table.ToCsv(), "text/csv; charset=utf-8", Encoding.UTF8);
        return Results.Ok(new
        {
            items = table.ToObjects(),
            total,
            limit = page.Limit,
            offset = page.Offset,
            group_by,
            totals = totals.ToObject(),
            unpriced_models = unpriced,
        });
    }

    /// <summary>The usage a caller may see: admins all of the organization's, users the boards they read, agents their own.</summary>
    public static IQueryable<TokenUsageRecord> VisibleTo(this IQueryable<TokenUsageRecord> usage, McPrincipal principal)
    {
        var org = principal.OrganizationId ?? Guid.Empty;
        usage = usage.Where(u => u.OrganizationId == org);
        if (principal.Kind == PrincipalKind.Agent)
        {
            var agent = principal.AgentId ?? Guid.Empty;
            return usage.Where(u => u.AgentId == agent);
        }
        if (principal.Kind != PrincipalKind.User) return usage.Where(_ => false);
        if (principal.IsOrgAdmin) return usage;
        // Usage of no board (a gateway-main agent's) is the admins'.
        if (principal.AllBoardsRead || principal.AllBoardsWrite) return usage.Where(u => u.BoardId != null);
        var boards = principal.Boards.Where(b => b.CanRead || b.CanWrite).Select(b => (Guid?)b.BoardId).ToList();
        return usage.Where(u => boards.Contains(u.BoardId));
    }

    private sealed record Sum(string Model, Guid? AgentId, DateTime Day, int Records, long Input, long Output, Cost Cost);

    private sealed record Totals(int Records, long Input, long Output, decimal InputCost, decimal OutputCost, bool Priced)
    {
        public static readonly string[] Columns =
            ["records", "input_tokens", "output_tokens", "total_tokens", "input_cost_usd", "output_cost_usd", "total_cost_usd", "priced"];

        public decimal TotalCost => InputCost + OutputCost;

        public object?[] Values() => [Records, Input, Output, Input + Output, Usd(InputCost), Usd(OutputCost), Usd(TotalCost), Priced];

        public Dictionary<string, object?> ToObject() => Columns.Zip(Values()).ToDictionary(p => p.First, p => p.Second);
    }

    /// <summary>Priced is false when any of the usage was of a model without a price.</summary>
    private static Totals Fold(IEnumerable<Sum> sums) => sums.Aggregate(new Totals(0, 0, 0, 0, 0, true), (t, s) => new Totals(
        t.Records + s.Records, t.Input + s.Input, t.Output + s.Output, t.InputCost + s.Cost.Input, t.OutputCost + s.Cost.Output, t.Priced && s.Cost.Priced));

    public sealed record TokenUsageRead(
        Guid Id, Guid? AgentId, Guid? BoardId, Guid? TaskId, Guid? GatewayId, string Model, long InputTokens, long OutputTokens, long TotalTokens,
        decimal InputCostUsd, decimal OutputCostUsd, decimal TotalCostUsd, bool Priced, string Source, string? RunId, DateTimeOffset OccurredAt);

    private static TokenUsageRead Read(TokenUsageRecord r, PriceTable prices)
    {
        var cost = prices.Price(r.Model, r.InputTokens, r.OutputTokens);
        return new TokenUsageRead(r.Id, r.AgentId, r.BoardId, r.TaskId, r.GatewayId, r.Model, r.InputTokens, r.OutputTokens, r.InputTokens + r.OutputTokens,
            Usd(cost.Input), Usd(cost.Output), Usd(cost.Total), cost.Priced, r.Source, r.RunId, new DateTimeOffset(r.OccurredAt, TimeSpan.Zero));
    }

    private static Table RecordTable(IEnumerable<TokenUsageRead> records) => new(
        ["id", "agent_id", "board_id", "task_id", "gateway_id", "model", "input_tokens", "output_tokens", "total_tokens",
            "input_cost_usd", "output_cost_usd", "total_cost_usd", "priced", "source", "run_id", "occurred_at"],
        records.Select(r => new object?[]
        {
            r.Id, r.AgentId, r.BoardId, r.TaskId, r.GatewayId, r.Model, r.InputTokens, r.OutputTokens, r.TotalTokens,
            r.InputCostUsd, r.OutputCostUsd, r.TotalCostUsd, r.Priced, r.Source, r.RunId, r.OccurredAt,
        }).ToList());

    /// <summary>Without trailing zeros (a price configured as 3.00 must not print 0.004500).</summary>
    private static decimal Usd(decimal value) => value / 1.000000000000000000000000000m;

    private static T? Field<T>(JsonObject body, string name, Dictionary<string, string[]> errors)
    {
        if (!body.TryGetPropertyValue(name, out var node) || node is null) return default;
        try
        {
            return node.Deserialize<T>(JsonDefaults.Api);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            errors[name] = ["has the wrong type"];
            return default;
        }
    }
}

/// <summary>Rows with named columns: JSON objects or CSV (RFC 4180: CRLF, fields quoted when they must be).</summary>
public sealed record Table(string[] Columns, IReadOnlyList<object?[]> Rows)
{
    public List<Dictionary<string, object?>> ToObjects() =>
        Rows.Select(r => Columns.Zip(r).ToDictionary(p => p.First, p => p.Second)).ToList();

    public string ToCsv()
    {
        var csv = new StringBuilder();
        csv.AppendJoin(',', Columns.Select(Quote)).Append("\r\n");
        foreach (var row in Rows) csv.AppendJoin(',', row.Select(v => Quote(Format(v)))).Append("\r\n");
        return csv.ToString();
    }

    private static string Format(object? value) => value switch
    {
        null => "",
        bool b => b ? "true" : "false",
        DateTimeOffset d => d.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    public static string Quote(string field) =>
        field.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + field.Replace("\"", "\"\"") + "\"" : field;
}
