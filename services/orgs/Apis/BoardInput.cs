using System.Text.Json;
using MissionControl.Orgs.Data;
using MissionControl.Orgs.Domain;

namespace MissionControl.Orgs.Apis;

/// <summary>
/// The body of POST /boards and PATCH /boards/{id}: on create an absent field takes its default, on
/// patch it stays as it is. An explicit null clears the nullable fields (gateway_id included).
/// </summary>
public sealed record BoardInput(
    Optional<string?> Name, Optional<string?> Description, Optional<string?> Slug, Optional<Guid?> GatewayId, Optional<Guid?> BoardGroupId,
    Optional<string?> BoardType, Optional<string?> Objective, Optional<JsonElement?> SuccessMetrics, Optional<DateTimeOffset?> TargetDate,
    Optional<bool?> GoalConfirmed, Optional<string?> GoalSource,
    Optional<bool?> RequireApprovalForDone, Optional<bool?> RequireReviewBeforeDone, Optional<bool?> CommentRequiredForReview,
    Optional<bool?> BlockStatusChangesWithPendingApproval, Optional<bool?> OnlyLeadCanChangeStatus, Optional<int?> MaxAgents)
{
    private const int MaxName = 200;

    /// <summary>
    /// Applies the input to <paramref name="board"/> (a new one when <paramref name="creating"/>),
    /// collecting field errors and the snake_case names of the fields whose value changed.
    /// </summary>
    public (Dictionary<string, string[]> Errors, List<string> Changed) ApplyTo(Board board, bool creating)
    {
        var apply = new Applier(creating);
        apply.Text("name", Name, board.Name, v => board.Name = v!, required: true, max: MaxName);
        apply.Text("description", Description, board.Description, v => board.Description = v!, required: true);
        if (creating || Slug.IsSet)
        {
            var slug = string.IsNullOrWhiteSpace(Slug.Value) ? BoardsApi.Slugify(board.Name) : Slug.Value.Trim();
            if (slug.Length > MaxName) apply.Errors["slug"] = [$"must be at most {MaxName} characters"];
            else apply.Change("slug", board.Slug, slug, v => board.Slug = v);
        }
        apply.Value("gateway_id", GatewayId, board.GatewayId, v => board.GatewayId = v);
        apply.Value("board_group_id", BoardGroupId, board.BoardGroupId, v => board.BoardGroupId = v);
        if (BoardType.IsSet)
        {
            if (BoardType.Value is { } type && BoardGoals.BoardTypes.Contains(type)) apply.Change("board_type", board.BoardType, type, v => board.BoardType = v);
            else apply.Errors["board_type"] = ["must be goal or general"];
        }
        apply.Text("objective", Objective, board.Objective, v => board.Objective = v, required: false);
        apply.Value("success_metrics", SuccessMetrics.IsSet ? new Optional<string?>(JsonText.From(SuccessMetrics.Value)) : default,
            board.SuccessMetrics, v => board.SuccessMetrics = v);
        apply.Value("target_date", TargetDate.IsSet ? new Optional<DateTime?>(TargetDate.Value?.UtcDateTime) : default,
            board.TargetDate, v => board.TargetDate = v);
        apply.Flag("goal_confirmed", GoalConfirmed, board.GoalConfirmed, v => board.GoalConfirmed = v);
        apply.Text("goal_source", GoalSource, board.GoalSource, v => board.GoalSource = v, required: false, max: MaxName);
        apply.Flag("require_approval_for_done", RequireApprovalForDone, board.RequireApprovalForDone, v => board.RequireApprovalForDone = v);
        apply.Flag("require_review_before_done", RequireReviewBeforeDone, board.RequireReviewBeforeDone, v => board.RequireReviewBeforeDone = v);
        apply.Flag("comment_required_for_review", CommentRequiredForReview, board.CommentRequiredForReview, v => board.CommentRequiredForReview = v);
        apply.Flag("block_status_changes_with_pending_approval", BlockStatusChangesWithPendingApproval,
            board.BlockStatusChangesWithPendingApproval, v => board.BlockStatusChangesWithPendingApproval = v);
        apply.Flag("only_lead_can_change_status", OnlyLeadCanChangeStatus, board.OnlyLeadCanChangeStatus, v => board.OnlyLeadCanChangeStatus = v);
        if (MaxAgents.IsSet)
        {
            if (MaxAgents.Value is >= 0 and var max) apply.Change("max_agents", board.MaxAgents, max, v => board.MaxAgents = v);
            else apply.Errors["max_agents"] = ["must be 0 or more"];
        }

        var becameGoal = !creating && apply.Changed.Contains("board_type") && board.BoardType == BoardGoals.Goal;
        if (BoardGoals.IsGoalIncomplete(board.BoardType, board.GoalConfirmed, becameGoal, board.Objective, JsonText.Parse(board.SuccessMetrics)))
        {
            const string needed = "is required for a goal board whose goal is confirmed";
            if (string.IsNullOrWhiteSpace(board.Objective)) apply.Errors.TryAdd("objective", [needed]);
            else apply.Errors.TryAdd("success_metrics", [needed]);
        }
        return (apply.Errors, apply.Changed);
    }

    private sealed class Applier(bool creating)
    {
        public Dictionary<string, string[]> Errors { get; } = new();
        public List<string> Changed { get; } = [];

        public void Change<T>(string field, T current, T next, Action<T> assign)
        {
            if (EqualityComparer<T>.Default.Equals(current, next)) return;
            assign(next);
            Changed.Add(field);
        }

        public void Value<T>(string field, Optional<T> input, T current, Action<T> assign)
        {
            if (input.IsSet) Change(field, current, input.Value, assign);
        }

        /// <summary>Trimmed text; blank is null, which a required field refuses (as it refuses absence on create).</summary>
        public void Text(string field, Optional<string?> input, string? current, Action<string?> assign, bool required, int? max = null)
        {
            if (!input.IsSet && !(required && creating)) return;
            var text = input.Value?.Trim() is { Length: > 0 } t ? t : null;
            if (required && text is null) Errors[field] = ["must not be blank"];
            else if (text?.Length > max) Errors[field] = [$"must be at most {max} characters"];
            else Change(field, current, text, assign);
        }

        public void Flag(string field, Optional<bool?> input, bool current, Action<bool> assign)
        {
            if (!input.IsSet) return;
            if (input.Value is { } value) Change(field, current, value, assign);
            else Errors[field] = ["must be true or false"];
        }
    }
}
