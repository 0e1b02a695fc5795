using MissionControl.Contracts.Orgs;
using MissionControl.Tasks.Domain;

namespace MissionControl.Tasks.Tests.Domain;

/// <summary>Every gate and every role's allowed and refused transitions (reference §3), without a database.</summary>
public sealed class TaskRulesTests
{
    private static readonly Guid Board = Guid.NewGuid();
    private static readonly Guid WorkerId = Guid.NewGuid();
    private static readonly Guid OtherWorkerId = Guid.NewGuid();
    private static readonly Guid LeadId = Guid.NewGuid();
    private static readonly TaskActor User = TaskActor.User;
    private static readonly TaskActor Worker = TaskActor.Worker(WorkerId);
    private static readonly TaskActor Lead = TaskActor.Lead(LeadId);
    private static readonly BoardRules NoRules = new() { RequireApprovalForDone = false };

    private static TaskState Task(string status = TaskStatuses.Inbox, Guid? assignee = null, Guid? reviewBy = null) =>
        new() { BoardId = Board, Status = status, AssignedAgentId = assignee, ReviewRequestedByAgentId = reviewBy };

    private static TaskChange Change(string? status = null, Guid? assignee = null, bool assigns = false, string? comment = null, params string[] fields)
    {
        var present = new HashSet<string>(fields);
        if (status is not null) present.Add("status");
        if (assigns || assignee is not null) present.Add("assigned_agent_id");
        if (comment is not null) present.Add("comment");
        return new TaskChange { Fields = present, Status = status, AssignedAgentId = assignee, Comment = comment };
    }

    private static TaskFacts Facts(bool pending = false, bool approved = false, bool recentComment = false, Guid[]? blockedBy = null,
        AgentRef? requested = null, Guid? lead = null) => new()
    {
        HasPendingApproval = pending, HasApprovedApproval = approved, HasRecentAssigneeComment = recentComment, BlockedBy = blockedBy ?? [],
        RequestedAssignee = requested, LeadAgentId = lead,
    };

    private static TaskOutcome Allowed(TaskDecision decision)
    {
        Assert.Null(decision.Refusal);
        return decision.Outcome!;
    }

    private static void Refused(TaskDecision decision, int status, string code) => Refused(decision.Refusal, status, code);

    private static void Refused(Refusal? refusal, int status, string code)
    {
        Assert.NotNull(refusal);
        Assert.Equal(status, refusal.Status);
        Assert.Equal(code, refusal.Code);
    }

    // ---- Field permissions (§3.3–§3.5) ----

    [Theory]
    [InlineData("title")]
    [InlineData("description")]
    [InlineData("priority")]
    [InlineData("due_at")]
    [InlineData("assigned_agent_id")]
    [InlineData("depends_on_task_ids")]
    [InlineData("tag_ids")]
    public void A_worker_may_not_touch_fields_other_than_status_comment_and_custom_values(string field)
    {
        var refusal = TaskRules.CheckFields(Worker, NoRules, Task(), Change(fields: field));
        Refused(refusal, 403, TaskRuleCodes.TaskUpdateFieldForbidden);
        Assert.Equal(new[] { field }, refusal!.Extensions!["fields"]);
    }

    [Fact]
    public void A_worker_may_change_status_comment_and_custom_values_of_an_unassigned_or_own_task()
    {
        Assert.Null(TaskRules.CheckFields(Worker, NoRules, Task(), Change(TaskStatuses.InProgress, comment: "on it", fields: "custom_field_values")));
        Assert.Null(TaskRules.CheckFields(Worker, NoRules, Task(TaskStatuses.InProgress, WorkerId), Change(TaskStatuses.Review)));
    }

    [Fact]
    public void A_worker_may_not_change_the_status_of_another_agents_task_but_may_comment_on_it()
    {
        Refused(TaskRules.CheckFields(Worker, NoRules, Task(TaskStatuses.InProgress, OtherWorkerId), Change(TaskStatuses.Review)),
            403, TaskRuleCodes.TaskAssigneeMismatch);
        Assert.Null(TaskRules.CheckFields(Worker, NoRules, Task(TaskStatuses.InProgress, OtherWorkerId), Change(comment: "looks good")));
    }

    [Fact]
    public void Only_the_lead_changes_status_when_the_board_says_so()
    {
        var rules = NoRules with { OnlyLeadCanChangeStatus = true };
        Refused(TaskRules.CheckFields(Worker, rules, Task(), Change(TaskStatuses.InProgress)), 403, TaskRuleCodes.LeadOnly);
        Assert.Null(TaskRules.CheckFields(Worker, rules, Task(), Change(comment: "note")));
        Assert.Null(TaskRules.CheckFields(Lead, rules, Task(TaskStatuses.Review), Change(TaskStatuses.Done)));
        Assert.Null(TaskRules.CheckFields(User, rules, Task(), Change(TaskStatuses.Done)));
    }

    [Fact]
    public void A_lead_may_not_comment_through_a_patch_nor_edit_plain_fields()
    {
        Refused(TaskRules.CheckFields(Lead, NoRules, Task(), Change(comment: "hi")), 403, TaskRuleCodes.LeadFieldForbidden);
        var refusal = TaskRules.CheckFields(Lead, NoRules, Task(), Change(fields: ["title", "priority"]));
        Refused(refusal, 403, TaskRuleCodes.LeadFieldForbidden);
        Assert.Contains("priority, title", refusal!.Message);
        Assert.Null(TaskRules.CheckFields(Lead, NoRules, Task(),
            Change(TaskStatuses.Inbox, WorkerId, fields: ["depends_on_task_ids", "tag_ids", "custom_field_values"])));
    }

    [Fact]
    public void Users_may_change_any_field_but_not_the_dependencies_of_a_done_task()
    {
        Assert.Null(TaskRules.CheckFields(User, NoRules, Task(), Change(TaskStatuses.Done, WorkerId, comment: "x",
            fields: ["title", "description", "priority", "due_at", "depends_on_task_ids", "tag_ids", "custom_field_values"])));
        Refused(TaskRules.CheckFields(User, NoRules, Task(TaskStatuses.Done), Change(fields: "depends_on_task_ids")),
            409, TaskRuleCodes.DependencyOnDoneTask);
    }

    // ---- The gates of §3.2, in order ----

    [Fact]
    public void Gate_1_a_pending_approval_blocks_status_changes_when_the_board_says_so()
    {
        var rules = NoRules with { BlockStatusChangesWithPendingApproval = true };
        Refused(TaskRules.Decide(User, rules, Task(), Change(TaskStatuses.InProgress), Facts(pending: true)), 409, TaskRuleCodes.PendingApproval);
        Allowed(TaskRules.Decide(User, rules, Task(), Change(TaskStatuses.Inbox, fields: "title"), Facts(pending: true)));
        Allowed(TaskRules.Decide(User, NoRules, Task(), Change(TaskStatuses.InProgress), Facts(pending: true)));
    }

    [Fact]
    public void Gate_2_done_only_from_review_when_the_board_says_so()
    {
        var rules = NoRules with { RequireReviewBeforeDone = true };
        Refused(TaskRules.Decide(User, rules, Task(TaskStatuses.InProgress), Change(TaskStatuses.Done), Facts()), 409, TaskRuleCodes.ReviewRequired);
        Allowed(TaskRules.Decide(User, rules, Task(TaskStatuses.Review), Change(TaskStatuses.Done), Facts()));
    }

    [Fact]
    public void Gate_3_done_needs_an_approved_linked_approval_by_default()
    {
        var rules = new BoardRules();
        Assert.True(rules.RequireApprovalForDone);
        Refused(TaskRules.Decide(User, rules, Task(TaskStatuses.Review), Change(TaskStatuses.Done), Facts()), 409, TaskRuleCodes.ApprovalRequired);
        Refused(TaskRules.Decide(Worker, rules, Task(TaskStatuses.InProgress, WorkerId), Change(TaskStatuses.Done), Facts(pending: true)),
            409, TaskRuleCodes.ApprovalRequired);
        Refused(TaskRules.Decide(Lead, rules, Task(TaskStatuses.Review), Change(TaskStatuses.Done), Facts()), 409, TaskRuleCodes.ApprovalRequired);
        Allowed(TaskRules.Decide(Lead, rules, Task(TaskStatuses.Review), Change(TaskStatuses.Done), Facts(approved: true)));
        // Already done: not a change, no gate.
        Allowed(TaskRules.Decide(User, rules, Task(TaskStatuses.Done), Change(TaskStatuses.Done, fields: "title"), Facts()));
    }

    [Fact]
    public void Gate_4_review_needs_a_comment_from_users_and_workers_when_the_board_says_so()
    {
        var rules = NoRules with { CommentRequiredForReview = true };
        var inProgress = Task(TaskStatuses.InProgress, WorkerId);
        Refused(TaskRules.Decide(Worker, rules, inProgress, Change(TaskStatuses.Review), Facts()), 422, TaskRuleCodes.CommentRequired);
        Refused(TaskRules.Decide(User, rules, inProgress, Change(TaskStatuses.Review, comment: "   "), Facts()), 422, TaskRuleCodes.CommentRequired);
        Allowed(TaskRules.Decide(Worker, rules, inProgress, Change(TaskStatuses.Review, comment: "Done: see PR"), Facts()));
        Allowed(TaskRules.Decide(User, rules, inProgress, Change(TaskStatuses.Review), Facts(recentComment: true)));
    }

    [Fact]
    public void The_gates_apply_in_the_reference_order()
    {
        var all = new BoardRules
        {
            BlockStatusChangesWithPendingApproval = true, RequireReviewBeforeDone = true, RequireApprovalForDone = true, CommentRequiredForReview = true,
        };
        var inProgress = Task(TaskStatuses.InProgress);
        Refused(TaskRules.Decide(User, all, inProgress, Change(TaskStatuses.Done), Facts(pending: true)), 409, TaskRuleCodes.PendingApproval);
        Refused(TaskRules.Decide(User, all, inProgress, Change(TaskStatuses.Done), Facts()), 409, TaskRuleCodes.ReviewRequired);
        Refused(TaskRules.Decide(User, all, Task(TaskStatuses.Review), Change(TaskStatuses.Done), Facts()), 409, TaskRuleCodes.ApprovalRequired);
        Refused(TaskRules.Decide(User, all, inProgress, Change(TaskStatuses.Review), Facts()), 422, TaskRuleCodes.CommentRequired);
    }

    // ---- Blocked tasks ----

    [Fact]
    public void A_worker_may_only_hand_a_blocked_task_back_to_the_inbox()
    {
        var blocked = Facts(blockedBy: [Guid.NewGuid()]);
        var decision = TaskRules.Decide(Worker, NoRules, Task(), Change(TaskStatuses.InProgress), blocked);
        Refused(decision, 409, TaskRuleCodes.TaskBlocked);
        Assert.Equal(blocked.BlockedBy, decision.Refusal!.Extensions!["blocked_by_task_ids"]);
        Allowed(TaskRules.Decide(Worker, NoRules, Task(TaskStatuses.InProgress, WorkerId), Change(TaskStatuses.Inbox), blocked));
        Allowed(TaskRules.Decide(Worker, NoRules, Task(), Change(comment: "waiting on the dependency"), blocked));
    }

    [Fact]
    public void A_user_edit_that_would_leave_a_blocked_task_started_or_assigned_is_refused_not_silently_reset()
    {
        var blocked = Facts(blockedBy: [Guid.NewGuid()], requested: new AgentRef(WorkerId, Board, false));
        Allowed(TaskRules.Decide(User, NoRules, Task(), Change(fields: "title"), blocked));
        Refused(TaskRules.Decide(User, NoRules, Task(), Change(TaskStatuses.InProgress), blocked), 409, TaskRuleCodes.TaskBlocked);
        Refused(TaskRules.Decide(User, NoRules, Task(), Change(assignee: WorkerId), blocked), 409, TaskRuleCodes.TaskBlocked);
        Refused(TaskRules.Decide(User, NoRules, Task(TaskStatuses.InProgress, WorkerId), Change(fields: "depends_on_task_ids"), blocked),
            409, TaskRuleCodes.TaskBlocked);
        var back = Allowed(TaskRules.Decide(User, NoRules, Task(TaskStatuses.InProgress, WorkerId), Change(TaskStatuses.Inbox), blocked));
        Assert.Null(back.AssignedAgentId);
        Allowed(TaskRules.Decide(User, NoRules, Task(TaskStatuses.Done, WorkerId), Change(fields: "title"), blocked));
    }

    [Fact]
    public void A_lead_may_not_start_or_assign_a_blocked_task()
    {
        var blocked = Facts(blockedBy: [Guid.NewGuid()], requested: new AgentRef(WorkerId, Board, false));
        Refused(TaskRules.Decide(Lead, NoRules, Task(), Change(assignee: WorkerId), blocked), 409, TaskRuleCodes.TaskBlocked);
        Refused(TaskRules.Decide(Lead, NoRules, Task(), Change(TaskStatuses.InProgress, WorkerId), blocked), 409, TaskRuleCodes.TaskBlocked);
        Allowed(TaskRules.Decide(Lead, NoRules, Task(assignee: WorkerId), Change(assigns: true), blocked));
        Allowed(TaskRules.Decide(Lead, NoRules, Task(), Change(fields: "tag_ids"), blocked));
    }

    [Fact]
    public void A_new_task_with_unfinished_dependencies_starts_unassigned_in_the_inbox()
    {
        Guid[] blockers = [Guid.NewGuid()];
        Assert.Null(TaskRules.CheckNewTask(TaskStatuses.Inbox, null, blockers));
        Refused(TaskRules.CheckNewTask(TaskStatuses.InProgress, null, blockers), 409, TaskRuleCodes.TaskBlocked);
        Refused(TaskRules.CheckNewTask(TaskStatuses.Inbox, WorkerId, blockers), 409, TaskRuleCodes.TaskBlocked);
        Assert.Null(TaskRules.CheckNewTask(TaskStatuses.Done, WorkerId, []));
    }

    // ---- Lead status and assignment rules (§3.5) ----

    [Fact]
    public void A_lead_moves_status_only_from_review_to_done_or_inbox()
    {
        Allowed(TaskRules.Decide(Lead, NoRules, Task(TaskStatuses.Review), Change(TaskStatuses.Done), Facts()));
        Refused(TaskRules.Decide(Lead, NoRules, Task(TaskStatuses.Review), Change(TaskStatuses.InProgress), Facts()), 403, TaskRuleCodes.LeadStatusForbidden);
        Refused(TaskRules.Decide(Lead, NoRules, Task(TaskStatuses.InProgress), Change(TaskStatuses.Done), Facts()), 403, TaskRuleCodes.LeadStatusForbidden);
        Refused(TaskRules.Decide(Lead, NoRules, Task(), Change(TaskStatuses.InProgress), Facts()), 403, TaskRuleCodes.LeadStatusForbidden);
        Refused(TaskRules.Decide(Lead, NoRules, Task(), Change(TaskStatuses.Cancelled), Facts()), 403, TaskRuleCodes.LeadStatusForbidden);
    }

    [Fact]
    public void A_lead_may_start_an_inbox_task_while_assigning_it()
    {
        var facts = Facts(requested: new AgentRef(WorkerId, Board, false));
        var outcome = Allowed(TaskRules.Decide(Lead, NoRules, Task(), Change(TaskStatuses.InProgress, WorkerId), facts));
        Assert.Equal(TaskStatuses.InProgress, outcome.Status);
        Assert.Equal(WorkerId, outcome.AssignedAgentId);
        Assert.Equal(WorkerId, outcome.NotifyAssignee);
    }

    [Fact]
    public void Assignees_must_exist_be_on_the_board_and_not_be_a_lead_when_a_lead_assigns()
    {
        Refused(TaskRules.Decide(User, NoRules, Task(), Change(assignee: WorkerId), Facts()), 404, TaskRuleCodes.AgentNotFound);
        Refused(TaskRules.Decide(User, NoRules, Task(), Change(assignee: WorkerId), Facts(requested: new AgentRef(WorkerId, Guid.NewGuid(), false))),
            409, TaskRuleCodes.AssigneeBoardMismatch);
        var leadRef = Facts(requested: new AgentRef(LeadId, Board, true));
        Refused(TaskRules.Decide(Lead, NoRules, Task(), Change(assignee: LeadId), leadRef), 403, TaskRuleCodes.LeadCannotAssignLead);
        Assert.Equal(LeadId, Allowed(TaskRules.Decide(User, NoRules, Task(), Change(assignee: LeadId), leadRef)).AssignedAgentId);
        // A lead may assign in any status.
        var worker = Facts(requested: new AgentRef(WorkerId, Board, false));
        Assert.Equal(WorkerId, Allowed(TaskRules.Decide(Lead, NoRules, Task(TaskStatuses.InProgress, OtherWorkerId), Change(assignee: WorkerId), worker)).AssignedAgentId);
    }

    [Fact]
    public void A_lead_returning_a_task_from_review_hands_it_back_to_the_worker_who_asked_for_review()
    {
        var outcome = Allowed(TaskRules.Decide(Lead, NoRules, Task(TaskStatuses.Review, LeadId, reviewBy: WorkerId), Change(TaskStatuses.Inbox), Facts(lead: LeadId)));
        Assert.Equal(TaskStatuses.Inbox, outcome.Status);
        Assert.Equal(WorkerId, outcome.AssignedAgentId);
        Assert.Equal(WorkerId, outcome.NotifyRework);
        Assert.Null(outcome.NotifyAssignee);
        Assert.False(outcome.NotifyLeadBackInInbox);
    }

    // ---- Side effects of each status (§3.1) ----

    [Fact]
    public void Inbox_unassigns_and_stops_progress_and_tells_the_lead()
    {
        var outcome = Allowed(TaskRules.Decide(User, NoRules, Task(TaskStatuses.InProgress, WorkerId), Change(TaskStatuses.Inbox), Facts(lead: LeadId)));
        Assert.Null(outcome.AssignedAgentId);
        Assert.Equal(InProgressChange.Stop, outcome.InProgress);
        Assert.True(outcome.NotifyLeadBackInInbox);
        Assert.False(Allowed(TaskRules.Decide(User, NoRules, Task(), Change(fields: "title"), Facts())).NotifyLeadBackInInbox);
    }

    [Fact]
    public void Review_goes_to_the_lead_and_records_the_worker_who_asked()
    {
        var outcome = Allowed(TaskRules.Decide(Worker, NoRules, Task(TaskStatuses.InProgress, WorkerId), Change(TaskStatuses.Review), Facts(lead: LeadId)));
        Assert.Equal(LeadId, outcome.AssignedAgentId);
        Assert.Equal(LeadId, outcome.NotifyAssignee);
        Assert.Equal(WorkerId, outcome.ReviewRequestedByAgentId);
        Assert.Equal(InProgressChange.Stop, outcome.InProgress);
        Assert.Null(Allowed(TaskRules.Decide(User, NoRules, Task(TaskStatuses.InProgress, WorkerId), Change(TaskStatuses.Review), Facts())).AssignedAgentId);
    }

    [Fact]
    public void A_worker_starting_or_finishing_a_task_claims_it_without_notifying_itself()
    {
        var started = Allowed(TaskRules.Decide(Worker, NoRules, Task(), Change(TaskStatuses.InProgress), Facts()));
        Assert.Equal(WorkerId, started.AssignedAgentId);
        Assert.Equal(InProgressChange.Start, started.InProgress);
        Assert.Null(started.NotifyAssignee);
        Assert.Equal(WorkerId, Allowed(TaskRules.Decide(Worker, NoRules, Task(), Change(TaskStatuses.Done), Facts())).AssignedAgentId);
    }

    [Fact]
    public void A_user_assigning_notifies_the_assignee_and_an_explicit_assignee_wins_over_status_side_effects()
    {
        var facts = Facts(requested: new AgentRef(WorkerId, Board, false), lead: LeadId);
        Assert.Equal(WorkerId, Allowed(TaskRules.Decide(User, NoRules, Task(), Change(assignee: WorkerId), facts)).NotifyAssignee);
        var review = Allowed(TaskRules.Decide(User, NoRules, Task(TaskStatuses.InProgress, OtherWorkerId), Change(TaskStatuses.Review, WorkerId), facts));
        Assert.Equal(WorkerId, review.AssignedAgentId);
        Assert.Equal(InProgressChange.Start,
            Allowed(TaskRules.Decide(User, NoRules, Task(), Change(TaskStatuses.InProgress), facts)).InProgress);
    }

    [Fact]
    public void Failed_and_cancelled_are_statuses_users_and_workers_may_set()
    {
        Assert.Equal(TaskStatuses.Cancelled, Allowed(TaskRules.Decide(User, NoRules, Task(), Change(TaskStatuses.Cancelled), Facts())).Status);
        Assert.Equal(TaskStatuses.Failed,
            Allowed(TaskRules.Decide(Worker, NoRules, Task(TaskStatuses.InProgress, WorkerId), Change(TaskStatuses.Failed), Facts())).Status);
    }
}
