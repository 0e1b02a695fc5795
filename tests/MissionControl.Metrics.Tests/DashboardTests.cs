using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MissionControl.Contracts;
using MissionControl.Contracts.Agents;
using MissionControl.Contracts.Orgs;
using MissionControl.Contracts.Tasks;
using MissionControl.InternalAuth;
using MissionControl.Metrics.EventLog;
using MissionControl.Metrics.Data;
using MissionControl.Metrics.ReadModels;

namespace MissionControl.Metrics.Tests;

/// <summary>
/// The dashboard against a scripted history (all times UTC, "now" fixed at Wed 2026-11-18 12:30).
/// Boards Alpha and Beta are in group G, Gamma in none.
///
/// Alpha  T1 created 11-12 09:00, in_progress 11-12 10:00, review 11-13 08:00, done 11-13 10:00 (cycle 24 h)
///        T2 created 11-05 09:00, in_progress 11-05 12:00, done 11-06 00:00 (12 h), inbox 11-14 06:00,
///           in_progress 11-14 08:00, done 11-14 14:00 (6 h: back to the inbox starts it over)
///        T3 created 11-15 09:00, in_progress 11-15 10:00, review 11-16 10:00
///        T4 created 11-17 09:00
/// Beta   T5 created 11-16 00:00, in_progress 01:00, agent.message.failed 02:00, agent.message 03:00, done 04:00 (3 h)
///        T6 created 11-09 00:00, in_progress 11-10 00:00, agent.message.failed 11-10 06:00, deleted 11-17 00:00
/// Gamma  T7 created 11-13 00:00, in_progress 01:00, done 02:00 (1 h)
/// </summary>
public abstract class DashboardTests(BrokerFixture broker) : MetricsServiceTest(broker)
{
    private static readonly DateTimeOffset Now = new(2026, 11, 18, 12, 30, 0, TimeSpan.Zero);
    private readonly Guid _alpha = Guid.NewGuid(), _beta = Guid.NewGuid(), _gamma = Guid.NewGuid(), _group = Guid.NewGuid();
    private readonly Guid _t1 = Guid.NewGuid(), _t2 = Guid.NewGuid(), _t3 = Guid.NewGuid(), _t4 = Guid.NewGuid(),
        _t5 = Guid.NewGuid(), _t6 = Guid.NewGuid(), _t7 = Guid.NewGuid();
    private readonly Guid _ap1 = Guid.NewGuid(), _ap2 = Guid.NewGuid(), _ap3 = Guid.NewGuid(), _ap4 = Guid.NewGuid();

    protected override void ConfigureServices(IServiceCollection services) => services.AddSingleton<TimeProvider>(new TestClock(Now));

    private static DateTimeOffset At(int day, int hour, int minute = 0) => new(2026, 11, day, hour, minute, 0, TimeSpan.Zero);

    private async Task ScriptAsync()
    {
        var events = new List<IIntegrationEvent>
        {
            Board(_alpha, "Alpha", _group), Board(_beta, "Beta", _group), Board(_gamma, "Gamma", null),
            Agent(Guid.NewGuid(), _alpha, At(17, 8)), Agent(Guid.NewGuid(), _beta, At(1, 8)), Agent(Guid.NewGuid(), _gamma, At(18, 10)),
        };
        void Moves(Guid board, Guid task, string title, params (string To, DateTimeOffset At)[] moves)
        {
            events.Add(TaskCreatedEvent(board, task, moves[0].At, title));
            for (var i = 1; i < moves.Length; i++)
                events.Add(StatusChangedEvent(board, task, moves[i - 1].To, moves[i].To, moves[i].At, title));
        }
        Moves(_alpha, _t2, "T2", ("inbox", At(5, 9)), ("in_progress", At(5, 12)), ("done", At(6, 0)),
            ("inbox", At(14, 6)), ("in_progress", At(14, 8)), ("done", At(14, 14)));
        Moves(_beta, _t6, "T6", ("inbox", At(9, 0)), ("in_progress", At(10, 0)));
        events.Add(AgentMessage(_beta, _t6, "error", At(10, 6)));
        Moves(_alpha, _t1, "T1", ("inbox", At(12, 9)), ("in_progress", At(12, 10)), ("review", At(13, 8)), ("done", At(13, 10)));
        Moves(_gamma, _t7, "T7", ("inbox", At(13, 0)), ("in_progress", At(13, 1)), ("done", At(13, 2)));
        Moves(_alpha, _t3, "T3", ("inbox", At(15, 9)), ("in_progress", At(15, 10)), ("review", At(16, 10)));
        events.Add(TaskCreatedEvent(_beta, _t5, At(16, 0), "T5"));
        events.Add(StatusChangedEvent(_beta, _t5, "inbox", "in_progress", At(16, 1), "T5"));
        events.Add(AgentMessage(_beta, _t5, "error", At(16, 2)));
        events.Add(AgentMessage(_beta, _t5, "final", At(16, 3)));
        events.Add(StatusChangedEvent(_beta, _t5, "in_progress", "done", At(16, 4), "T5"));
        events.Add(new TaskDeleted
        {
            OrganizationId = Org, BoardId = _beta, OccurredAt = At(17, 0), Task = Snapshot(_t6, _beta, "in_progress", At(17, 0), "T6"),
            Activity = Activity("task.deleted", _t6, At(17, 0)),
        });
        events.Add(TaskCreatedEvent(_alpha, _t4, At(17, 9), "T4"));
        // Approvals: AP1 (Alpha, T3), AP2 (Beta, no task) and AP4 (Gamma, no task) pending; AP3 (Alpha, T1) resolved.
        events.Add(Approval(_ap1, _alpha, _t3, "pending", At(16, 11), At(16, 11)));
        events.Add(Approval(_ap2, _beta, null, "pending", At(16, 5), At(16, 5)));
        events.Add(Approval(_ap3, _alpha, _t1, "pending", At(13, 9), At(13, 9)));
        events.Add(Approval(_ap3, _alpha, _t1, "approved", At(13, 9), At(13, 9, 30)));
        events.Add(Approval(_ap4, _gamma, null, "pending", At(17, 10), At(17, 10)));

        Guid last = default;
        foreach (var e in events)
        {
            last = Guid.NewGuid();
            await Bus.PublishAsync((dynamic)e, last);
        }
        await WaitLoggedAsync(last);
    }

    private BoardCreated Board(Guid id, string name, Guid? group) => new()
    {
        OrganizationId = Org, BoardId = id, OccurredAt = At(1, 0), Board = new BoardState
        {
            Id = id, OrganizationId = Org, Name = name, Slug = name.ToLowerInvariant(), BoardGroupId = group, Rules = new BoardRules(),
            CreatedAt = At(1, 0), UpdatedAt = At(1, 0),
        },
    };

    private AgentHeartbeat Agent(Guid id, Guid board, DateTimeOffset seen) =>
        new() { OrganizationId = Org, AgentId = id, BoardId = board, Status = "online", OccurredAt = seen };

    private AgentMessageReceived AgentMessage(Guid board, Guid task, string state, DateTimeOffset at) => new()
    {
        OrganizationId = Org, GatewayId = Guid.NewGuid(), AgentId = Guid.NewGuid(), BoardId = board, TaskId = task, SessionKey = "agent:mc-x:main",
        RunId = Guid.NewGuid().ToString(), State = state, OccurredAt = at,
    };

    private ApprovalChanged Approval(Guid id, Guid board, Guid? task, string status, DateTimeOffset created, DateTimeOffset at) => new()
    {
        OrganizationId = Org, BoardId = board, PendingApprovalsCount = 0, OccurredAt = at,
        Approval = new ApprovalState
        {
            Id = id, BoardId = board, TaskId = task, TaskIds = task is { } t ? [t] : [], ActionType = "deploy", Confidence = 80, Status = status,
            CreatedAt = created, ResolvedAt = status == "pending" ? null : at,
        },
        Activity = Activity(status == "pending" ? "approval.created" : "approval.resolved", task, at),
    };

    private static async Task<JsonElement> Dashboard(HttpClient client, string query)
    {
        var response = await client.GetAsync($"/api/v1/metrics/dashboard?{query}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static List<string> Periods(JsonElement set, string which) =>
        set.GetProperty(which).GetProperty("points").EnumerateArray().Select(p => p.GetProperty("period").GetString()!).ToList();

    private static List<double> Values(JsonElement set, string which = "primary") =>
        set.GetProperty(which).GetProperty("points").EnumerateArray().Select(p => p.GetProperty("value").GetDouble()).ToList();

    private static List<int[]> Wip(JsonElement set, string which = "primary") =>
        set.GetProperty(which).GetProperty("points").EnumerateArray().Select(p => new[]
        {
            p.GetProperty("inbox").GetInt32(), p.GetProperty("in_progress").GetInt32(), p.GetProperty("review").GetInt32(), p.GetProperty("done").GetInt32(),
        }).ToList();

    private static string Day(int day) => $"2026-11-{day:00}T00:00:00.000000Z";

    [Fact]
    public async Task Seven_day_figures_come_from_the_status_history()
    {
        await ScriptAsync();
        var d = await Dashboard(Owner, "range_key=7d");

        Assert.Equal("7d", d.GetProperty("range").GetString());
        Assert.Equal("2026-11-18T12:30:00.000000Z", d.GetProperty("generated_at").GetString());
        var throughput = d.GetProperty("throughput");
        Assert.Equal("day", throughput.GetProperty("primary").GetProperty("bucket").GetString());
        Assert.Equal("7d", throughput.GetProperty("primary").GetProperty("range").GetString());
        // Primary window [11-11 12:30, 11-18 12:30): eight day buckets, each present; comparison the week before.
        Assert.Equal(Enumerable.Range(11, 8).Select(Day), Periods(throughput, "primary"));
        Assert.Equal(Enumerable.Range(4, 8).Select(Day), Periods(throughput, "comparison"));

        // Arrivals in done: T1 and T7 on the 13th, T2 on the 14th, T5 on the 16th; T2's first on the 6th (comparison).
        Assert.Equal([0, 0, 2, 1, 0, 1, 0, 0], Values(throughput));
        Assert.Equal([0, 0, 1, 0, 0, 0, 0, 0], Values(throughput, "comparison"));
        // Cycle time, averaged by the day of done: (24 + 1) / 2, 6, 3; comparison: 12.
        Assert.Equal([0, 0, 12.5, 6, 0, 3, 0, 0], Values(d.GetProperty("cycle_time")));
        Assert.Equal([0, 0, 12, 0, 0, 0, 0, 0], Values(d.GetProperty("cycle_time"), "comparison"));

        // [inbox, in_progress, review, done] at the end of each bucket (the last one ends now); T6 deleted on the 17th.
        Assert.Equal(
            [[0, 1, 0, 1], [0, 2, 0, 1], [0, 1, 0, 3], [0, 1, 0, 3], [0, 2, 0, 3], [0, 1, 1, 4], [1, 0, 1, 4], [1, 0, 1, 4]],
            Wip(d.GetProperty("wip")));
        // Comparison ends at 11-11 12:30: T2 in progress until the 6th, done after; T6 in the inbox on the 9th, in progress from the 10th.
        Assert.Equal(
            [[0, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 1], [1, 0, 0, 1], [0, 1, 0, 1], [0, 1, 0, 1]],
            Wip(d.GetProperty("wip"), "comparison"));

        // Task-linked events in the primary window: T1 4, T2 3, T3 3, T4 1, T5 5, T6 1, T7 3, approvals AP1 1 and AP3 2 = 23; one failed.
        // The 16th: T3 to review, T5's five events (one failed), AP1 (AP2 has no task) → 1 of 7.
        Assert.Equal([0, 0, 0, 0, 0, 14.29, 0, 0], Values(d.GetProperty("error_rate")));
        var kpis = d.GetProperty("kpis");
        Assert.Equal(4.35, kpis.GetProperty("error_rate_pct").GetDouble());
        Assert.Equal(1, kpis.GetProperty("inbox_tasks").GetInt32());
        Assert.Equal(0, kpis.GetProperty("in_progress_tasks").GetInt32());
        Assert.Equal(0, kpis.GetProperty("tasks_in_progress").GetInt32());
        Assert.Equal(1, kpis.GetProperty("review_tasks").GetInt32());
        Assert.Equal(4, kpis.GetProperty("done_tasks").GetInt32());
        // Agents seen in the window: Alpha's (11-17) and Gamma's (11-18); Beta's was last seen on the 1st.
        Assert.Equal(2, kpis.GetProperty("active_agents").GetInt32());
        // Median of 1, 3, 6, 24.
        Assert.Equal(4.5, kpis.GetProperty("median_cycle_time_hours_7d").GetDouble());

        var pending = d.GetProperty("pending_approvals");
        Assert.Equal(3, pending.GetProperty("total").GetInt32());
        var items = pending.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal([_ap4, _ap1, _ap2], items.Select(i => i.GetProperty("approval_id").GetGuid()));
        Assert.Equal("Alpha", items[1].GetProperty("board_name").GetString());
        Assert.Equal("T3", items[1].GetProperty("task_title").GetString());
        Assert.Equal("deploy", items[1].GetProperty("action_type").GetString());
        Assert.Equal(80, items[1].GetProperty("confidence").GetDouble());
        Assert.Equal(JsonValueKind.Null, items[0].GetProperty("task_title").ValueKind);
    }

    [Fact]
    public async Task Tasks_that_did_not_move_in_the_window_count_in_every_wip_point_at_their_current_status()
    {
        // Before the window (from 11-04 12:30 for 7 days and its comparison): A in progress, B deleted, C done.
        // In it: D created on the 17th. Only D's history is read for the 7-day figures; A and C are counts.
        var (a, b, c, d) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var october = (int day) => new DateTimeOffset(2026, 10, day, 9, 0, 0, TimeSpan.Zero);
        var events = new List<IIntegrationEvent>
        {
            Board(_alpha, "Alpha", null),
            TaskCreatedEvent(_alpha, a, october(1), "A"), StatusChangedEvent(_alpha, a, "inbox", "in_progress", october(2), "A"),
            TaskCreatedEvent(_alpha, b, october(1), "B"),
            new TaskDeleted
            {
                OrganizationId = Org, BoardId = _alpha, OccurredAt = october(3), Task = Snapshot(b, _alpha, "inbox", october(3), "B"),
                Activity = Activity("task.deleted", b, october(3)),
            },
            TaskCreatedEvent(_alpha, c, october(1), "C"), StatusChangedEvent(_alpha, c, "inbox", "done", october(5), "C"),
            TaskCreatedEvent(_alpha, d, At(17, 9), "D"),
        };
        Guid last = default;
        foreach (var e in events)
        {
            last = Guid.NewGuid();
            await Bus.PublishAsync((dynamic)e, last);
        }
        await WaitLoggedAsync(last);

        var week = await Dashboard(Owner, "range_key=7d");
        Assert.Equal([.. Enumerable.Repeat(new[] { 0, 1, 0, 1 }, 6), [1, 1, 0, 1], [1, 1, 0, 1]], Wip(week.GetProperty("wip")));
        Assert.Equal(Enumerable.Repeat(new[] { 0, 1, 0, 1 }, 8), Wip(week.GetProperty("wip"), "comparison"));
        var kpis = week.GetProperty("kpis");
        Assert.Equal([1, 1, 0, 1], new[] { "inbox_tasks", "in_progress_tasks", "review_tasks", "done_tasks" }.Select(k => kpis.GetProperty(k).GetInt32()));
        Assert.All(Values(week.GetProperty("throughput")), v => Assert.Equal(0, v));

        // Over 3 months every task moved in the window: all histories, the same counts now, B gone from its deletion.
        var quarter = Wip((await Dashboard(Owner, "range_key=3m")).GetProperty("wip"));
        Assert.Equal([1, 1, 0, 1], quarter[^1]);
        Assert.Equal([0, 1, 0, 1], quarter[^3]);
        Assert.Equal([0, 0, 0, 0], quarter[0]);
    }

    [Fact]
    public async Task The_error_rate_counts_failed_task_events_per_bucket_and_board()
    {
        await ScriptAsync();
        var d = await Dashboard(Owner, $"range_key=7d&board_id={_beta}");
        // Beta, the 16th: T5 created, in_progress, failed, message, done = 1 of 5; the 17th: T6 deleted = 0 of 1.
        Assert.Equal([0, 0, 0, 0, 0, 20, 0, 0], Values(d.GetProperty("error_rate")));
        // Comparison: the 9th T6 created (0 of 1); the 10th T6 in_progress and a failure (1 of 2).
        Assert.Equal([0, 0, 0, 0, 0, 0, 50, 0], Values(d.GetProperty("error_rate"), "comparison"));
        Assert.Equal(16.67, d.GetProperty("kpis").GetProperty("error_rate_pct").GetDouble());
        Assert.Equal([0, 0, 0, 0, 0, 1, 0, 0], Values(d.GetProperty("throughput")));
        Assert.Equal(3, d.GetProperty("kpis").GetProperty("median_cycle_time_hours_7d").GetDouble());
        Assert.Equal(0, d.GetProperty("kpis").GetProperty("active_agents").GetInt32());
        Assert.Equal(1, d.GetProperty("pending_approvals").GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Other_ranges_bucket_by_hour_or_week_and_the_median_is_always_seven_days()
    {
        await ScriptAsync();
        var day = await Dashboard(Owner, "range_key=24h");
        var throughput = day.GetProperty("throughput");
        Assert.Equal("hour", throughput.GetProperty("primary").GetProperty("bucket").GetString());
        // 11-17 12:00 … 11-18 12:00, every hour present.
        Assert.Equal(25, Periods(throughput, "primary").Count);
        Assert.Equal("2026-11-17T12:00:00.000000Z", Periods(throughput, "primary")[0]);
        Assert.All(Values(throughput), v => Assert.Equal(0, v));
        Assert.Equal(4.5, day.GetProperty("kpis").GetProperty("median_cycle_time_hours_7d").GetDouble());
        // Seen in the last 24 hours: Gamma's agent (11-18 10:00) only.
        Assert.Equal(1, day.GetProperty("kpis").GetProperty("active_agents").GetInt32());

        // 14 days include T2's first done (12 h), but the median stays the last seven days'.
        var fortnight = await Dashboard(Owner, "range_key=14d");
        Assert.Equal(4.5, fortnight.GetProperty("kpis").GetProperty("median_cycle_time_hours_7d").GetDouble());
        Assert.Equal(5, Values(fortnight.GetProperty("throughput")).Sum());

        // 3 months: ISO weeks from Monday. The week of 11-09: T1, T7, T2 done (3); of 11-16: T5 (1); of 11-02: T2's first (1).
        var quarter = await Dashboard(Owner, "range_key=3m");
        var weeks = quarter.GetProperty("throughput");
        Assert.Equal("week", weeks.GetProperty("primary").GetProperty("bucket").GetString());
        var periods = Periods(weeks, "primary");
        Assert.Equal("2026-08-17T00:00:00.000000Z", periods[0]); // 11-18 12:30 − 90 days = Thu 08-20 → Monday 08-17
        Assert.Equal("2026-11-16T00:00:00.000000Z", periods[^1]);
        Assert.All(periods, p => Assert.Equal(DayOfWeek.Monday, DateTime.Parse(p).ToUniversalTime().DayOfWeek));
        Assert.Equal([1, 3, 1], Values(weeks)[^3..]);
        // At the end of the week of 11-02 (11-09 00:00, T6 created at that instant: not yet), of 11-09, and now.
        Assert.Equal([[0, 0, 0, 1], [0, 2, 0, 3], [1, 0, 1, 4]], Wip(quarter.GetProperty("wip"))[^3..]);

        // A year: calendar months, 2025-11 … 2026-11.
        var year = await Dashboard(Owner, "range_key=1y");
        var months = Periods(year.GetProperty("throughput"), "primary");
        Assert.Equal(13, months.Count);
        Assert.Equal("2025-11-01T00:00:00.000000Z", months[0]);
        Assert.Equal(5, Values(year.GetProperty("throughput"))[^1]);
    }

    [Fact]
    public async Task Boards_and_groups_limit_the_figures_to_what_the_caller_reads()
    {
        await ScriptAsync();
        // Group G (Alpha, Beta): T1 and T2 (Alpha), T5 (Beta); Gamma's T7 is out.
        var group = await Dashboard(Owner, $"range_key=7d&group_id={_group}");
        Assert.Equal([0, 0, 1, 1, 0, 1, 0, 0], Values(group.GetProperty("throughput")));
        Assert.Equal([0, 0, 24, 6, 0, 3, 0, 0], Values(group.GetProperty("cycle_time")));
        Assert.Equal(2, group.GetProperty("pending_approvals").GetProperty("total").GetInt32());
        Assert.Equal(1, group.GetProperty("kpis").GetProperty("active_agents").GetInt32());

        // A member who reads Alpha only: the group is Alpha.
        var member = Member(new BoardGrant(_alpha, true, false));
        var alpha = await Dashboard(member, $"range_key=7d&group_id={_group}");
        Assert.Equal([0, 0, 1, 1, 0, 0, 0, 0], Values(alpha.GetProperty("throughput")));
        Assert.Equal([_ap1], alpha.GetProperty("pending_approvals").GetProperty("items").EnumerateArray().Select(i => i.GetProperty("approval_id").GetGuid()));
        var kpis = alpha.GetProperty("kpis");
        Assert.Equal([1, 0, 1, 2], new[] { "inbox_tasks", "in_progress_tasks", "review_tasks", "done_tasks" }.Select(k => kpis.GetProperty(k).GetInt32()));
        // Without filters the member sees the same (only Alpha is readable).
        Assert.Equal([0, 0, 1, 1, 0, 0, 0, 0], Values((await Dashboard(member, "range_key=7d")).GetProperty("throughput")));
        // A board not in the group: empty, every bucket still there.
        var gammaInGroup = await Dashboard(Owner, $"range_key=7d&group_id={_group}&board_id={_gamma}");
        Assert.Equal(new double[8], Values(gammaInGroup.GetProperty("throughput")));
        Assert.Equal(0, gammaInGroup.GetProperty("pending_approvals").GetProperty("total").GetInt32());

        // An unreadable board, an agent, a bad range.
        var refused = await member.GetAsync($"/api/v1/metrics/dashboard?board_id={_beta}");
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await AgentClient(Guid.NewGuid(), _alpha).GetAsync("/api/v1/metrics/dashboard")).StatusCode);
        var bad = await Owner.GetAsync("/api/v1/metrics/dashboard?range_key=2w");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, bad.StatusCode);
        // Another organization sees nothing of this one.
        var other = await Dashboard(Metrics.ClientFor(TestTokens.Owner(Guid.NewGuid())), "range_key=7d");
        Assert.Equal(new double[8], Values(other.GetProperty("throughput")));
    }

    [Fact]
    public async Task Board_agent_and_task_changes_keep_the_copies_current()
    {
        await ScriptAsync();
        var agent = Guid.NewGuid();
        // Gamma joins group G; an agent is created on Gamma and seen, then deleted; Beta is deleted.
        await Bus.PublishAsync(new BoardUpdated
        {
            OrganizationId = Org, BoardId = _gamma, ChangedFields = ["board_group_id"], OccurredAt = At(18, 0),
            Board = (Board(_gamma, "Gamma 2", _group)).Board,
        });
        await Bus.PublishAsync(new AgentCreated
        {
            OrganizationId = Org, OccurredAt = At(18, 0), Agent = new AgentState
            {
                Id = agent, OrganizationId = Org, BoardId = _gamma, Name = "Lead", Status = "online", IsBoardLead = true, CreatedAt = At(18, 0), UpdatedAt = At(18, 0),
            },
        });
        await PublishAndWaitLoggedAsync(Agent(agent, _gamma, At(18, 1)));
        var group = await Dashboard(Owner, $"range_key=7d&group_id={_group}");
        Assert.Equal([0, 0, 2, 1, 0, 1, 0, 0], Values(group.GetProperty("throughput")));
        Assert.Equal(3, group.GetProperty("kpis").GetProperty("active_agents").GetInt32());
        Assert.Equal("Gamma 2", group.GetProperty("pending_approvals").GetProperty("items")[0].GetProperty("board_name").GetString());

        await Bus.PublishAsync(new AgentDeleted { OrganizationId = Org, AgentId = agent, BoardId = _gamma, OccurredAt = At(18, 2) });
        await PublishAndWaitLoggedAsync(new BoardDeleted { OrganizationId = Org, BoardId = _beta, OccurredAt = At(18, 3) });
        var after = await Dashboard(Owner, $"range_key=7d&group_id={_group}");
        Assert.Equal(2, after.GetProperty("kpis").GetProperty("active_agents").GetInt32());
        // Beta's board copy is gone: its tasks, approvals and history no longer count in the group.
        Assert.Equal([0, 0, 2, 1, 0, 0, 0, 0], Values(after.GetProperty("throughput")));
        Assert.Equal([_ap4, _ap1], after.GetProperty("pending_approvals").GetProperty("items").EnumerateArray().Select(i => i.GetProperty("approval_id").GetGuid()));
        // Organization-wide, T5 (done) left with its board at 11-18 03:00, before now.
        var all = await Dashboard(Owner, "range_key=7d");
        Assert.Equal(3, all.GetProperty("kpis").GetProperty("done_tasks").GetInt32());
        Assert.Equal([1, 0, 1, 3], Wip(all.GetProperty("wip"))[^1]);
    }

    [Fact]
    public async Task Events_of_one_task_written_together_around_a_deletion_leave_its_latest_state()
    {
        // One batch: each event upserts its task's state in turn, and the writer saves around the deletion
        // (its tracked rows first): a state must neither be inserted twice nor lose a change.
        var board = Guid.NewGuid();
        var (kept, deleted) = (Guid.NewGuid(), Guid.NewGuid());
        var at = DateTimeOffset.UtcNow;
        IIntegrationEvent[] events =
        [
            TaskCreatedEvent(board, kept, at), TaskCreatedEvent(board, deleted, at),
            StatusChangedEvent(board, kept, "inbox", "in_progress", at.AddSeconds(1)),
            new TaskDeleted
            {
                OrganizationId = Org, BoardId = board, Task = Snapshot(deleted, board, "inbox", at), OccurredAt = at.AddSeconds(2),
                Activity = Activity("task.deleted", deleted, at.AddSeconds(2)),
            },
            StatusChangedEvent(board, kept, "in_progress", "review", at.AddSeconds(3)),
        ];
        var writer = Service<EventLogWriter>();
        await Task.WhenAll(events.Select(e => writer.AppendAsync(e, Guid.NewGuid(), CancellationToken.None)));

        using var scope = Metrics.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<MetricsDbContext>();
        var states = await db.TaskStates.AsNoTracking().Where(t => t.BoardId == board).ToDictionaryAsync(t => t.Id);
        Assert.Equal(2, states.Count);
        Assert.Equal(("review", false), (states[kept].Status, states[kept].Deleted));
        Assert.True(states[deleted].Deleted);
        var history = await db.TaskStatusHistory.AsNoTracking().Where(h => h.TaskId == kept).OrderBy(h => h.Seq).Select(h => h.ToStatus).ToListAsync();
        Assert.Equal(["inbox", "in_progress", "review"], history);
    }

    [Fact]
    public async Task A_task_deleted_before_any_window_reaches_is_forgotten_and_no_figure_changes()
    {
        var board = Guid.NewGuid();
        var (old, recent, live) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var created = Now.AddDays(-1000);
        var writer = Service<EventLogWriter>();
        async Task LogAsync(IIntegrationEvent e) => await writer.AppendAsync(e, Guid.NewGuid(), CancellationToken.None);
        foreach (var task in new[] { old, recent, live })
        {
            await LogAsync(TaskCreatedEvent(board, task, created));
            await LogAsync(StatusChangedEvent(board, task, "inbox", "in_progress", created.AddDays(1)));
        }
        var cutoff = Now - DeletedTaskRetention.Kept;
        foreach (var (task, at) in new[] { (old, cutoff.AddMinutes(-1)), (recent, cutoff.AddMinutes(1)) })
            await LogAsync(new TaskDeleted
            {
                OrganizationId = Org, BoardId = board, Task = Snapshot(task, board, "in_progress", at), OccurredAt = at,
                Activity = Activity("task.deleted", task, at),
            });
        var before = (await Dashboard(Owner, "range_key=1y")).GetRawText();

        var retention = Service<DeletedTaskRetention>();
        Assert.Equal(1, await retention.SweepAsync(CancellationToken.None));
        Assert.Equal(0, await retention.SweepAsync(CancellationToken.None));

        using var scope = Metrics.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<MetricsDbContext>();
        Assert.Equal(new[] { live, recent }.Order(), (await db.TaskStates.AsNoTracking().Where(t => t.BoardId == board).Select(t => t.Id).ToListAsync()).Order());
        var history = await db.TaskStatusHistory.AsNoTracking().Where(h => h.BoardId == board).Select(h => h.TaskId).ToListAsync();
        Assert.Equal(new[] { live, live, recent, recent }.Order(), history.Order());
        // Neither the deleted task nor its transitions were within the reach of any figure.
        Assert.Equal(before, (await Dashboard(Owner, "range_key=1y")).GetRawText());
    }

    [Fact]
    public async Task A_task_state_keeps_its_first_creation_time_follows_the_latest_event_and_stays_deleted()
    {
        var board = Guid.NewGuid();
        var (task, late) = (Guid.NewGuid(), Guid.NewGuid());
        var at = new DateTimeOffset(2026, 11, 17, 9, 0, 0, TimeSpan.Zero);
        var writer = Service<EventLogWriter>();
        async Task LogAsync(IIntegrationEvent e) => await writer.AppendAsync(e, Guid.NewGuid(), CancellationToken.None);

        await LogAsync(TaskCreatedEvent(board, task, at, "First title"));
        // Each event's snapshot says "created at" its own time here: the state keeps the first one seen.
        await LogAsync(StatusChangedEvent(board, task, "inbox", "in_progress", at.AddHours(1), "Renamed"));
        await LogAsync(new TaskDeleted
        {
            OrganizationId = Org, BoardId = board, Task = Snapshot(task, board, "in_progress", at.AddHours(2), "Renamed"), OccurredAt = at.AddHours(2),
            Activity = Activity("task.deleted", task, at.AddHours(2)),
        });
        // A late update of a deleted task (redelivered out of band) does not bring it back.
        await LogAsync(StatusChangedEvent(board, task, "in_progress", "review", at.AddHours(3), "Renamed again"));
        // A task first seen through an update (created before the log began) gets a state from it.
        await LogAsync(StatusChangedEvent(board, late, "inbox", "done", at.AddHours(4), "Older task"));

        using var scope = Metrics.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<MetricsDbContext>();
        var states = await db.TaskStates.AsNoTracking().Where(t => t.BoardId == board).ToDictionaryAsync(t => t.Id);
        Assert.Equal(2, states.Count);
        var s = states[task];
        Assert.Equal((Org, "Renamed again", "review"), (s.OrganizationId, s.Title, s.Status));
        Assert.Equal((at.UtcDateTime, at.AddHours(3).UtcDateTime), (s.CreatedAt, s.UpdatedAt));
        Assert.Equal((true, at.AddHours(2).UtcDateTime), (s.Deleted, s.DeletedAt));
        var l = states[late];
        Assert.Equal(("Older task", "done", false, (DateTime?)null), (l.Title, l.Status, l.Deleted, l.DeletedAt));
    }
}

[Collection(InfrastructureCollection.Collection)]
public sealed class DashboardOnSqliteTests(BrokerFixture broker) : DashboardTests(broker)
{
    protected override string DatabaseConnectionString() => OnSqlite.NewDatabase();
}

[Collection(InfrastructureCollection.Collection)]
public sealed class DashboardOnPostgresTests(BrokerFixture broker, PostgresFixture postgres) : DashboardTests(broker)
{
    protected override string DatabaseConnectionString() => postgres.ConnectionStringForNewDatabase("metrics");
}
