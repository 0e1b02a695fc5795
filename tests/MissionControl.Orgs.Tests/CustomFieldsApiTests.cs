using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MissionControl.Contracts.Orgs;
using MissionControl.InternalAuth;
using MissionControl.Orgs.Tests.Infrastructure;

namespace MissionControl.Orgs.Tests;

public abstract class CustomFieldsApiTests(BrokerFixture broker, OrgsHost host) : OrgsTestBase(broker, host)
{
    private const string Fields = "/api/v1/organizations/me/custom-fields";

    [Fact]
    public async Task An_admin_defines_a_field_for_boards_with_a_type_alias_a_regex_and_a_default()
    {
        var owner = await NewOwnerAsync();
        var (a, b) = (await CreateBoardAsync(owner), await CreateBoardAsync(owner));

        var created = await JsonAsync(await owner.Client.PostAsJsonAsync(Fields, new
        {
            field_key = "ticket_ref", field_type = "Text (long)", ui_visibility = "if_set", validation_regex = "^T-[0-9]+$",
            default_value = "T-1", required = true, board_ids = new[] { a, b, a },
        }), HttpStatusCode.Created);

        Assert.Equal("ticket_ref", created.GetProperty("label").GetString());
        Assert.Equal("text_long", created.GetProperty("field_type").GetString());
        Assert.Equal("T-1", created.GetProperty("default_value").GetString());
        Assert.Equal(new[] { a, b }.Order(), created.GetProperty("board_ids").EnumerateArray().Select(e => e.GetGuid()));
        var (_, changed) = await Bus.WaitForAsync<CustomFieldDefinitionChanged>(e => e.Definition.Id == IdOf(created));
        Assert.Equal("text_long", changed.Definition.FieldType);
        Assert.True(changed.Definition.Required);
        Assert.Equal(2, changed.Definition.BoardIds.Count);
        var listed = Assert.Single((await JsonAsync(await Host.ClientFor(TestTokens.Member(owner.OrgId)).GetAsync(Fields))).EnumerateArray());
        Assert.Equal(IdOf(created), IdOf(listed));
    }

    [Theory]
    [InlineData("true/false", "boolean", "true")]
    [InlineData("Date & Time", "date_time", "\"2026-01-02T03:04:05Z\"")]
    [InlineData("integer", "integer", "42")]
    [InlineData("json", "json", "{\"any\":[1]}")]
    public async Task Type_aliases_and_typed_defaults(string alias, string type, string defaultJson)
    {
        var owner = await NewOwnerAsync();
        var board = await CreateBoardAsync(owner);

        var created = await JsonAsync(await owner.Client.PostAsJsonAsync(Fields, new
        {
            field_key = "f", field_type = alias, default_value = JsonDocument.Parse(defaultJson).RootElement, board_ids = new[] { board },
        }), HttpStatusCode.Created);

        Assert.Equal(type, created.GetProperty("field_type").GetString());
    }

    [Fact]
    public async Task Definitions_are_validated_and_keys_unique()
    {
        var owner = await NewOwnerAsync();
        var board = await CreateBoardAsync(owner);
        var foreign = await CreateBoardAsync(await NewOwnerAsync());
        await JsonAsync(await owner.Client.PostAsJsonAsync(Fields, new { field_key = "dup", board_ids = new[] { board } }), HttpStatusCode.Created);

        var duplicate = await (await owner.Client.PostAsJsonAsync(Fields, new { field_key = "dup", board_ids = new[] { board } })).ProblemAsync(HttpStatusCode.Conflict);
        var invalid = await (await owner.Client.PostAsJsonAsync(Fields, new
        {
            field_key = "has space", field_type = "colour", ui_visibility = "sometimes", board_ids = Array.Empty<Guid>(),
        })).ProblemAsync(HttpStatusCode.UnprocessableEntity);
        var badRegex = await (await owner.Client.PostAsJsonAsync(Fields, new { field_key = "r", validation_regex = "([", board_ids = new[] { board } }))
            .ProblemAsync(HttpStatusCode.UnprocessableEntity);
        var regexOnNumber = await (await owner.Client.PostAsJsonAsync(Fields, new { field_key = "n", field_type = "integer", validation_regex = "^1$", board_ids = new[] { board } }))
            .ProblemAsync(HttpStatusCode.UnprocessableEntity);
        var badDefault = await (await owner.Client.PostAsJsonAsync(Fields, new { field_key = "d", field_type = "integer", default_value = "x", board_ids = new[] { foreign } }))
            .ProblemAsync(HttpStatusCode.UnprocessableEntity);
        var noMatch = await (await owner.Client.PostAsJsonAsync(Fields, new { field_key = "m", validation_regex = "^a$", default_value = "b", board_ids = new[] { board } }))
            .ProblemAsync(HttpStatusCode.UnprocessableEntity);

        Assert.Equal("field_key_taken", duplicate.GetProperty("code").GetString());
        Assert.Equal(["board_ids", "field_key", "field_type", "ui_visibility"], invalid.GetProperty("errors").EnumerateObject().Select(p => p.Name).Order());
        Assert.True(badRegex.GetProperty("errors").TryGetProperty("validation_regex", out _));
        Assert.True(regexOnNumber.GetProperty("errors").TryGetProperty("validation_regex", out _));
        Assert.Equal(["board_ids", "default_value"], badDefault.GetProperty("errors").EnumerateObject().Select(p => p.Name).Order());
        Assert.True(noMatch.GetProperty("errors").TryGetProperty("default_value", out _));
        await (await Host.ClientFor(TestTokens.Member(owner.OrgId)).PostAsJsonAsync(Fields, new { field_key = "x", board_ids = new[] { board } }))
            .ProblemAsync(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task A_patch_keeps_the_key_and_rechecks_the_definition()
    {
        var owner = await NewOwnerAsync();
        var (a, b) = (await CreateBoardAsync(owner), await CreateBoardAsync(owner));
        var field = IdOf(await JsonAsync(await owner.Client.PostAsJsonAsync(Fields,
            new { field_key = "size", field_type = "decimal", default_value = 1.5, board_ids = new[] { a } }), HttpStatusCode.Created));
        var path = $"{Fields}/{field}";

        var patched = await JsonAsync(await owner.Client.PatchAsJsonAsync(path, new { label = "Size (cm)", board_ids = new[] { b }, required = true }));

        Assert.Equal("Size (cm)", patched.GetProperty("label").GetString());
        Assert.Equal([b], patched.GetProperty("board_ids").EnumerateArray().Select(e => e.GetGuid()));
        await Bus.WaitForAsync<CustomFieldDefinitionChanged>(e => e.Definition.Id == field && e.Definition.Label == "Size (cm)");
        await (await owner.Client.PatchAsJsonAsync(path, new { field_key = "other" })).ProblemAsync(HttpStatusCode.UnprocessableEntity);
        var typeClash = await (await owner.Client.PatchAsJsonAsync(path, new { field_type = "boolean" })).ProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.True(typeClash.GetProperty("errors").TryGetProperty("default_value", out _));
        await (await (await NewOwnerAsync()).Client.PatchAsJsonAsync(path, new { label = "x" })).ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Deleting_a_definition_publishes_its_key()
    {
        var owner = await NewOwnerAsync();
        var board = await CreateBoardAsync(owner);
        var field = IdOf(await JsonAsync(await owner.Client.PostAsJsonAsync(Fields, new { field_key = "gone", board_ids = new[] { board } }), HttpStatusCode.Created));

        await (await (await NewOwnerAsync()).Client.DeleteAsync($"{Fields}/{field}")).ProblemAsync(HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.OK, (await owner.Client.DeleteAsync($"{Fields}/{field}")).StatusCode);

        var (_, deleted) = await Bus.WaitForAsync<CustomFieldDefinitionDeleted>(e => e.DefinitionId == field);
        Assert.Equal("gone", deleted.FieldKey);
        Assert.Equal(0, (await JsonAsync(await owner.Client.GetAsync(Fields))).GetArrayLength());
        await (await owner.Client.DeleteAsync($"{Fields}/{field}")).ProblemAsync(HttpStatusCode.NotFound);
    }
}

[Collection(InfrastructureCollection.Collection)]
public sealed class CustomFieldsApiOnSqliteTests(BrokerFixture broker, OrgsHost host) : CustomFieldsApiTests(broker, host), IClassFixture<OrgsHost>
{
    protected override string NewDatabase() => Databases.NewSqlite();
}

[Collection(InfrastructureCollection.Collection)]
public sealed class CustomFieldsApiOnPostgresTests(BrokerFixture broker, PostgresFixture postgres, OrgsHost host) : CustomFieldsApiTests(broker, host), IClassFixture<OrgsHost>
{
    protected override string NewDatabase() => postgres.ConnectionStringForNewDatabase("orgs");
}
