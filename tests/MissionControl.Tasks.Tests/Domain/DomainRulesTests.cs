using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MissionControl.Tasks.Domain;

namespace MissionControl.Tasks.Tests.Domain;

public sealed class DependencyGraphTests
{
    [Fact]
    public void A_dependency_that_leads_back_to_the_task_is_a_cycle()
    {
        Guid a = Guid.NewGuid(), b = Guid.NewGuid(), c = Guid.NewGuid(), d = Guid.NewGuid();
        // b depends on a, c depends on b.
        var edges = new[] { (b, a), (c, b) }.ToLookup(e => e.Item1, e => e.Item2);
        Assert.True(DependencyGraph.CreatesCycle(a, [c], edges));
        Assert.True(DependencyGraph.CreatesCycle(a, [d, b], edges));
        Assert.False(DependencyGraph.CreatesCycle(d, [c], edges));
        Assert.False(DependencyGraph.CreatesCycle(c, [a], edges));
        Assert.Equal([a, b], DependencyGraph.Distinct([a, b, a]));
    }
}

public sealed class MentionsTests
{
    [Fact]
    public void Mentions_match_names_first_names_and_lead_case_insensitively()
    {
        var mentions = Mentions.Extract("Hey @Ada and @lead, cc @bob-smith. mail@example.com @9no");
        Assert.Equal(new HashSet<string> { "ada", "lead", "bob-smith", "example" }, mentions);
        Assert.True(Mentions.Matches(mentions, "Ada Lovelace", isLead: false));
        Assert.True(Mentions.Matches(mentions, "Bob-Smith", isLead: false));
        Assert.True(Mentions.Matches(mentions, "Anyone", isLead: true));
        Assert.False(Mentions.Matches(mentions, "Anyone", isLead: false));
        Assert.False(Mentions.Matches(Mentions.Extract("no mentions"), "Ada", isLead: true));
    }
}

public sealed class CustomFieldRulesTests
{
    private static JsonElement J(string json) => JsonDocument.Parse(json).RootElement.Clone();

    private static readonly FieldDefinition[] Definitions =
    [
        new(Guid.NewGuid(), "count", "integer", null, true, null),
        new(Guid.NewGuid(), "score", "decimal", null, false, J("1.5")),
        new(Guid.NewGuid(), "code", "text", "^[A-Z]{3}$", false, null),
        new(Guid.NewGuid(), "on", "boolean", null, false, null),
        new(Guid.NewGuid(), "day", "date", null, false, null),
        new(Guid.NewGuid(), "at", "date_time", null, false, null),
        new(Guid.NewGuid(), "link", "url", null, false, null),
        new(Guid.NewGuid(), "blob", "json", null, false, null),
    ];

    [Fact]
    public void Values_are_checked_by_type_pattern_and_requiredness()
    {
        var ok = new Dictionary<string, JsonElement>
        {
            ["count"] = J("3"), ["score"] = J("2.25"), ["code"] = J("\"ABC\""), ["on"] = J("true"), ["day"] = J("\"2030-01-31\""),
            ["at"] = J("\"2030-01-31T10:00:00Z\""), ["link"] = J("\"https://example.com/x\""), ["blob"] = J("{\"a\":[1]}"),
        };
        Assert.Empty(CustomFieldRules.Validate(ok, new Dictionary<string, JsonElement>(), Definitions));

        var bad = new Dictionary<string, JsonElement>
        {
            ["count"] = J("1.5"), ["score"] = J("\"x\""), ["code"] = J("\"abcd\""), ["on"] = J("1"), ["day"] = J("\"31/01/2030\""),
            ["at"] = J("\"soon\""), ["link"] = J("\"ftp://x\""), ["nope"] = J("1"),
        };
        var errors = CustomFieldRules.Validate(bad, new Dictionary<string, JsonElement>(), Definitions);
        Assert.Equal(new[] { "at", "code", "count", "day", "link", "nope", "on", "score" }, errors.Keys.Order());
    }

    [Fact]
    public void A_required_field_needs_a_value_stored_given_or_defaulted_and_reads_show_defaults()
    {
        Assert.True(CustomFieldRules.Validate(new Dictionary<string, JsonElement>(), new Dictionary<string, JsonElement>(), Definitions).ContainsKey("count"));
        Assert.Empty(CustomFieldRules.Validate(new Dictionary<string, JsonElement>(), new Dictionary<string, JsonElement> { ["count"] = J("1") }, Definitions));
        Assert.True(CustomFieldRules.Validate(new Dictionary<string, JsonElement> { ["count"] = J("null") },
            new Dictionary<string, JsonElement> { ["count"] = J("1") }, Definitions).ContainsKey("count"));

        var shown = CustomFieldRules.Effective(new Dictionary<string, JsonElement> { ["count"] = J("4") }, Definitions);
        Assert.Equal(4, shown["count"].GetInt32());
        Assert.Equal(1.5, shown["score"].GetDouble());
        Assert.Equal(JsonValueKind.Null, shown["code"].ValueKind);
    }
}

public sealed class ApprovalRequestsTests
{
    [Fact]
    public void Task_ids_are_the_union_of_the_request_and_payload_keys_in_order_without_duplicates()
    {
        Guid a = Guid.NewGuid(), b = Guid.NewGuid(), c = Guid.NewGuid(), d = Guid.NewGuid();
        var payload = JsonNode.Parse($$"""{"taskId":"{{c}}","task_ids":["{{a}}","{{d}}"],"taskIDs":["not-a-guid"]}""")!.AsObject();
        Assert.Equal([a, b, c, d], ApprovalRequests.TaskIds([a, b], a, payload));
        Assert.Empty(ApprovalRequests.TaskIds(null, null, null));
    }

    [Fact]
    public void Reasoning_comes_from_the_payload_or_the_lead_reasoning()
    {
        Assert.NotNull(ApprovalRequests.WithReasoning(JsonNode.Parse("""{"reason":"why"}""")!.AsObject(), null));
        Assert.NotNull(ApprovalRequests.WithReasoning(JsonNode.Parse("""{"decision":{"reason":"why"}}""")!.AsObject(), null));
        Assert.Equal("because", ApprovalRequests.WithReasoning(null, " because ")!["reason"]!.GetValue<string>());
        Assert.Null(ApprovalRequests.WithReasoning(JsonNode.Parse("""{"reason":"  "}""")!.AsObject(), ""));
    }
}

public sealed class WebhookSignaturesTests
{
    [Fact]
    public void A_signature_is_the_hex_hmac_of_the_raw_body_with_or_without_the_prefix()
    {
        var body = Encoding.UTF8.GetBytes("{\"event\":\"push\"}");
        var signature = WebhookSignatures.Sign("s3cret", body);
        Assert.StartsWith("sha256=", signature);
        Assert.True(WebhookSignatures.IsValid("s3cret", body, signature));
        Assert.True(WebhookSignatures.IsValid("s3cret", body, signature[7..].ToUpperInvariant()));
        Assert.False(WebhookSignatures.IsValid("other", body, signature));
        Assert.False(WebhookSignatures.IsValid("s3cret", Encoding.UTF8.GetBytes("{}"), signature));
        Assert.False(WebhookSignatures.IsValid("s3cret", body, "sha256=zz"));
        Assert.False(WebhookSignatures.IsValid("s3cret", body, null));
    }
}
