using MissionControl.InternalAuth;
using MissionControl.Orgs.Domain;

namespace MissionControl.Orgs.Tests;

/// <summary>Unit tests of the rules that need no service: roles, invite merges, secrets, emails.</summary>
public sealed class MemberRulesTests
{
    [Theory]
    [InlineData("admin", "member", "admin", 1, null)]
    [InlineData("admin", "admin", "member", 1, null)]
    [InlineData("admin", "member", "owner", 1, 403)]
    [InlineData("admin", "owner", "admin", 2, 403)]
    [InlineData("member", "member", "admin", 1, 403)]
    [InlineData("owner", "member", "owner", 1, null)]
    [InlineData("owner", "owner", "admin", 2, null)]
    [InlineData("owner", "owner", "member", 1, 422)]
    [InlineData("owner", "owner", "owner", 1, null)]
    public void Role_changes(string caller, string current, string next, int owners, int? status) =>
        Assert.Equal(status, MemberRules.CheckRoleChange(caller, current, next, owners)?.Status);

    [Fact]
    public void Demoting_the_last_owner_says_last_owner() =>
        Assert.Equal("last_owner", MemberRules.CheckRoleChange("owner", "owner", "admin", 1)!.Code);

    [Theory]
    [InlineData("admin", false, "member", 1, null)]
    [InlineData("admin", true, "admin", 1, 403)]
    [InlineData("admin", false, "owner", 2, 403)]
    [InlineData("owner", false, "owner", 2, null)]
    [InlineData("owner", false, "owner", 1, 422)]
    [InlineData("member", false, "member", 1, 403)]
    public void Removals(string caller, bool self, string target, int owners, int? status) =>
        Assert.Equal(status, MemberRules.CheckRemoval(caller, self, target, owners)?.Status);

    [Theory]
    [InlineData("admin", "member", null)]
    [InlineData("admin", "owner", 403)]
    [InlineData("owner", "owner", null)]
    [InlineData("member", "member", 403)]
    public void Invite_roles(string caller, string invited, int? status) =>
        Assert.Equal(status, MemberRules.CheckInviteRole(caller, invited)?.Status);

    [Theory]
    [InlineData(null, "member")]
    [InlineData(" ", "member")]
    [InlineData(" Admin ", "admin")]
    [InlineData("OWNER", "owner")]
    [InlineData("superuser", null)]
    public void Roles_are_normalized(string? input, string? expected) => Assert.Equal(expected, MemberRules.NormalizeRole(input));

    [Theory]
    [InlineData("member", "admin", "admin")]
    [InlineData("admin", "member", "admin")]
    [InlineData("owner", "admin", "owner")]
    public void Accepting_an_invite_never_lowers_a_role(string current, string invited, string expected) =>
        Assert.Equal(expected, MemberRules.MergeRole(current, invited));

    [Fact]
    public void Accepting_an_invite_ors_board_access()
    {
        var (a, b, c) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());

        var merged = MemberRules.MergeBoardAccess(
            [new BoardGrant(a, true, true), new BoardGrant(b, true, false)],
            [new BoardGrant(a, true, false), new BoardGrant(b, false, true), new BoardGrant(c, true, false)]);

        Assert.Equal(
            [new BoardGrant(a, true, true), new BoardGrant(b, true, true), new BoardGrant(c, true, false)],
            merged.OrderBy(g => g.BoardId == a ? 0 : g.BoardId == b ? 1 : 2));
    }
}

public sealed class SecretsTests
{
    [Fact]
    public void Api_keys_carry_256_random_bits_behind_a_recognisable_scheme()
    {
        var keys = Enumerable.Range(0, 100).Select(_ => Secrets.NewApiKey()).ToList();

        Assert.All(keys, k => Assert.Matches("^mc_[A-Za-z0-9_-]{43}$", k));
        Assert.Equal(keys.Count, keys.Distinct().Count());
        Assert.Equal(10, Secrets.DisplayPrefix(keys[0]).Length);
        Assert.StartsWith(Secrets.DisplayPrefix(keys[0]), keys[0]);
    }

    [Fact]
    public void Invite_tokens_carry_192_random_bits() =>
        Assert.All(Enumerable.Range(0, 10).Select(_ => Secrets.NewInviteToken()), t => Assert.Matches("^[A-Za-z0-9_-]{32}$", t));

    [Fact]
    public void Hashes_are_sha256_and_deterministic()
    {
        Assert.Equal(32, Secrets.Hash("x").Length);
        Assert.Equal(Secrets.Hash("mc_same"), Secrets.Hash("mc_same"));
        Assert.NotEqual(Secrets.Hash("mc_a"), Secrets.Hash("mc_b"));
    }
}

public sealed class EmailAddressesTests
{
    [Theory]
    [InlineData("Someone@Example.COM", "someone@example.com")]
    [InlineData("  a.b@c.d ", "a.b@c.d")]
    [InlineData("admin@localhost", "admin@localhost")]
    public void Valid_addresses_are_lower_cased(string input, string expected)
    {
        Assert.True(EmailAddresses.TryNormalize(input, out var normalized));
        Assert.Equal(expected, normalized);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("no-at-sign")]
    [InlineData("two words@example.com")]
    [InlineData("Name <a@b.c>")]
    [InlineData("a@b.c, d@e.f")]
    public void Invalid_addresses_are_refused(string? input) => Assert.False(EmailAddresses.TryNormalize(input, out _));
}

public sealed class BoardGoalsTests
{
    [Theory]
    [InlineData("goal", true, false, "o", "{\"a\":1}", false)]
    [InlineData("goal", true, false, null, "{\"a\":1}", true)]
    [InlineData("goal", true, false, " ", "{\"a\":1}", true)]
    [InlineData("goal", true, false, "o", null, true)]
    [InlineData("goal", true, false, "o", "{}", true)]
    [InlineData("goal", true, false, "o", "[]", true)]
    [InlineData("goal", true, false, "o", "\"\"", true)]
    [InlineData("goal", true, false, "o", "0", false)]
    [InlineData("goal", false, false, null, null, false)]
    [InlineData("goal", false, true, null, null, true)]
    [InlineData("general", true, false, null, null, false)]
    public void A_confirmed_or_new_goal_needs_an_objective_and_metrics(
        string type, bool confirmed, bool becameGoal, string? objective, string? metrics, bool incomplete)
    {
        System.Text.Json.JsonElement? parsed = metrics is null ? null : System.Text.Json.JsonDocument.Parse(metrics).RootElement;
        Assert.Equal(incomplete, BoardGoals.IsGoalIncomplete(type, confirmed, becameGoal, objective, parsed));
    }
}

public sealed class SlugsTests
{
    [Theory]
    [InlineData("Launch Plan!", "launch-plan")]
    [InlineData("  Émile & Co  ", "mile-co")]
    [InlineData("a--b__c", "a-b-c")]
    [InlineData("!!!", "fallback")]
    [InlineData("", "fallback")]
    public void Slugs_are_lower_case_words_joined_by_hyphens(string input, string expected) => Assert.Equal(expected, Slugs.From(input, "fallback"));
}

public sealed class OptionalTests
{
    private sealed record Body(MissionControl.Orgs.Apis.Optional<Guid?> GatewayId, MissionControl.Orgs.Apis.Optional<string?> Name);

    [Fact]
    public void Absent_null_and_values_are_told_apart()
    {
        var options = Microsoft.Extensions.Hosting.JsonDefaults.Api;
        var absent = System.Text.Json.JsonSerializer.Deserialize<Body>("{}", options)!;
        var nulled = System.Text.Json.JsonSerializer.Deserialize<Body>("{\"gateway_id\":null,\"name\":null}", options)!;
        var id = Guid.NewGuid();
        var valued = System.Text.Json.JsonSerializer.Deserialize<Body>($"{{\"gateway_id\":\"{id}\",\"name\":\"n\"}}", options)!;

        Assert.False(absent.GatewayId.IsSet || absent.Name.IsSet);
        Assert.True(nulled.GatewayId.IsSet && nulled.GatewayId.Value is null && nulled.Name.IsSet && nulled.Name.Value is null);
        Assert.Equal(id, valued.GatewayId.Value);
        Assert.Equal("n", valued.Name.Value);
    }
}

public sealed class CustomFieldTypesTests
{
    [Theory]
    [InlineData("text", "text")]
    [InlineData("Text (long)", "text_long")]
    [InlineData("long text", "text_long")]
    [InlineData("true/false", "boolean")]
    [InlineData("Yes / No", "boolean")]
    [InlineData("Date & Time", "date_time")]
    [InlineData("datetime", "date_time")]
    [InlineData("date", "date")]
    [InlineData("Number", "decimal")]
    [InlineData("int", "integer")]
    [InlineData("URL", "url")]
    [InlineData("JSON", "json")]
    [InlineData("colour", null)]
    [InlineData("", null)]
    [InlineData(null, null)]
    public void Aliases(string? input, string? expected) => Assert.Equal(expected, CustomFieldTypes.Normalize(input));

    [Theory]
    [InlineData("text", "\"x\"", true)]
    [InlineData("text", "1", false)]
    [InlineData("integer", "3", true)]
    [InlineData("integer", "3.5", false)]
    [InlineData("decimal", "3.5", true)]
    [InlineData("decimal", "\"3.5\"", false)]
    [InlineData("boolean", "false", true)]
    [InlineData("boolean", "\"true\"", false)]
    [InlineData("date", "\"2026-02-28\"", true)]
    [InlineData("date", "\"2026-02-30\"", false)]
    [InlineData("date_time", "\"2026-02-28T10:00:00+02:00\"", true)]
    [InlineData("date_time", "\"yesterday\"", false)]
    [InlineData("url", "\"https://example.com/x\"", true)]
    [InlineData("url", "\"ftp://example.com\"", false)]
    [InlineData("json", "{\"a\":[1,2]}", true)]
    [InlineData("integer", "null", true)]
    public void Values_are_checked_against_the_type(string type, string json, bool valid) =>
        Assert.Equal(valid, CustomFieldTypes.CheckValue(type, System.Text.Json.JsonDocument.Parse(json).RootElement) is null);

    [Fact]
    public void Regexes_must_compile_and_values_match_them()
    {
        Assert.Null(CustomFieldTypes.CompileRegex("(", out var error));
        Assert.NotNull(error);
        var pattern = CustomFieldTypes.CompileRegex("^T-[0-9]+$", out _);
        Assert.Null(CustomFieldTypes.CheckValue("text", System.Text.Json.JsonDocument.Parse("\"T-12\"").RootElement, pattern));
        Assert.NotNull(CustomFieldTypes.CheckValue("text", System.Text.Json.JsonDocument.Parse("\"X-12\"").RootElement, pattern));
        Assert.True(CustomFieldTypes.IsStringType("url"));
        Assert.False(CustomFieldTypes.IsStringType("integer"));
    }
}

public sealed class TagColorsTests
{
    [Theory]
    [InlineData("#FFAA00", "ffaa00")]
    [InlineData(" 9e9e9e ", "9e9e9e")]
    [InlineData("123456", "123456")]
    [InlineData("fff", null)]
    [InlineData("gggggg", null)]
    [InlineData("red", null)]
    public void Colors_are_six_lower_case_hex_digits(string input, string? expected) => Assert.Equal(expected, TagColors.Normalize(input));
}
