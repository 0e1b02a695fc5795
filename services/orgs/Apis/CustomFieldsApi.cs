using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using MissionControl.Contracts.Orgs;
using MissionControl.InternalAuth;
using MissionControl.Messaging;
using MissionControl.Orgs.Data;
using MissionControl.Orgs.Domain;

namespace MissionControl.Orgs.Apis;

public sealed record CustomFieldInput(
    Optional<string?> FieldKey, Optional<string?> Label, Optional<string?> FieldType, Optional<string?> UiVisibility,
    Optional<string?> ValidationRegex, Optional<string?> Description, Optional<bool?> Required, Optional<JsonElement?> DefaultValue,
    Optional<IReadOnlyList<Guid>?> BoardIds);

public sealed record CustomFieldRead(
    Guid Id, Guid OrganizationId, string FieldKey, string Label, string FieldType, string UiVisibility, string? ValidationRegex,
    string? Description, bool Required, JsonElement? DefaultValue, IReadOnlyList<Guid> BoardIds, DateTime CreatedAt, DateTime UpdatedAt)
{
    public static CustomFieldRead Of(CustomFieldDefinition d) => new(
        d.Id, d.OrganizationId, d.FieldKey, d.Label, d.FieldType, d.UiVisibility, d.ValidationRegex, d.Description, d.Required,
        JsonText.Parse(d.DefaultValue), BoardIdsOf(d), d.CreatedAt, d.UpdatedAt);

    public static IReadOnlyList<Guid> BoardIdsOf(CustomFieldDefinition d) => d.Boards.Select(b => b.BoardId).Order().ToList();
}

/// <summary>Task custom field definitions of the organization (tasks validates values against them).</summary>
public static partial class CustomFieldsApi
{
    public const string KeyTakenCode = "field_key_taken";
    private const int MaxLabel = 200;

    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$")]
    private static partial Regex FieldKeyPattern();

    public static IEndpointRouteBuilder MapCustomFieldsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/organizations/me/custom-fields");
        api.MapGet("", List);
        api.MapPost("", Create);
        api.MapPatch("/{definitionId:guid}", Update);
        api.MapDelete("/{definitionId:guid}", Delete);
        return app;
    }

    private static async Task<IResult> List(HttpContext http, OrgsDbContext db, CancellationToken ct)
    {
        if (!Access.TryMember(http.GetPrincipal(), out var orgId, out var problem)) return problem;
        var definitions = await db.CustomFields.AsNoTracking().Include(d => d.Boards)
            .Where(d => d.OrganizationId == orgId).OrderBy(d => d.FieldKey).ToListAsync(ct);
        return Results.Ok(definitions.Select(CustomFieldRead.Of).ToList());
    }

    private static async Task<IResult> Create(CustomFieldInput body, HttpContext http, OrgsDbContext db, TimeProvider time, CancellationToken ct)
    {
        if (!Access.TryAdmin(http.GetPrincipal(), "Creating custom fields", out var orgId, out var problem)) return problem;
        var errors = new Dictionary<string, string[]>();
        var key = body.FieldKey.Value?.Trim() ?? "";
        if (!FieldKeyPattern().IsMatch(key)) errors["field_key"] = ["must be 1 to 100 letters, digits, '_', '.' or '-'"];
        var now = time.GetUtcNow().UtcDateTime;
        var definition = new CustomFieldDefinition
        {
            Id = Guid.CreateVersion7(), OrganizationId = orgId, FieldKey = key, Label = key, FieldType = CustomFieldTypes.Text,
            UiVisibility = CustomFieldTypes.Visibilities[0], CreatedAt = now, UpdatedAt = now,
        };
        await ApplyAsync(body, definition, creating: true, db, errors, ct);
        if (errors.Count > 0) return ApiProblems.Validation(errors);
        var keyTaken = ApiProblems.Conflict($"A custom field with the key '{key}' already exists.", KeyTakenCode);
        if (await db.CustomFields.AnyAsync(d => d.OrganizationId == orgId && d.FieldKey == key, ct)) return keyTaken;

        db.CustomFields.Add(definition);
        QueueChanged(db, definition, now);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            db.ChangeTracker.Clear();
            if (!await db.CustomFields.AnyAsync(d => d.OrganizationId == orgId && d.FieldKey == key, CancellationToken.None)) throw;
            return keyTaken; // a concurrent request took the key first
        }
        return Results.Created($"/api/v1/organizations/me/custom-fields/{definition.Id}", CustomFieldRead.Of(definition));
    }

    private static async Task<IResult> Update(Guid definitionId, CustomFieldInput body, HttpContext http, OrgsDbContext db, TimeProvider time, CancellationToken ct)
    {
        if (!Access.TryAdmin(http.GetPrincipal(), "Changing custom fields", out var orgId, out var problem)) return problem;
        if (body.FieldKey.IsSet) return ApiProblems.Validation("field_key", "cannot be changed: create a new field instead");
        var definition = await db.CustomFields.Include(d => d.Boards).FirstOrDefaultAsync(d => d.Id == definitionId && d.OrganizationId == orgId, ct);
        if (definition is null) return DefinitionNotFound();
        var errors = new Dictionary<string, string[]>();
        await ApplyAsync(body, definition, creating: false, db, errors, ct);
        if (errors.Count > 0) return ApiProblems.Validation(errors);
        var now = time.GetUtcNow().UtcDateTime;
        definition.UpdatedAt = now;
        QueueChanged(db, definition, now);
        await db.SaveChangesAsync(ct);
        return Results.Ok(CustomFieldRead.Of(definition));
    }

    private static async Task<IResult> Delete(Guid definitionId, HttpContext http, OrgsDbContext db, TimeProvider time, CancellationToken ct)
    {
        if (!Access.TryAdmin(http.GetPrincipal(), "Deleting custom fields", out var orgId, out var problem)) return problem;
        var definition = await db.CustomFields.Include(d => d.Boards).FirstOrDefaultAsync(d => d.Id == definitionId && d.OrganizationId == orgId, ct);
        if (definition is null) return DefinitionNotFound();
        db.CustomFields.Remove(definition);
        db.AddIntegrationEvent(new CustomFieldDefinitionDeleted
        {
            OrganizationId = orgId, DefinitionId = definitionId, FieldKey = definition.FieldKey, OccurredAt = time.GetUtcNow(),
        });
        await db.SaveChangesAsync(ct);
        return OkRead.Result();
    }

    /// <summary>Applies the input and checks the whole definition afterwards (a new type must suit the kept default and regex).</summary>
    private static async Task ApplyAsync(
        CustomFieldInput body, CustomFieldDefinition d, bool creating, OrgsDbContext db, Dictionary<string, string[]> errors, CancellationToken ct)
    {
        if (body.Label.IsSet)
        {
            var label = body.Label.Value?.Trim();
            if (label is { Length: > MaxLabel }) errors["label"] = [$"must be at most {MaxLabel} characters"];
            else d.Label = string.IsNullOrEmpty(label) ? d.FieldKey : label;
        }
        if (body.FieldType.IsSet)
        {
            if (CustomFieldTypes.Normalize(body.FieldType.Value) is { } type) d.FieldType = type;
            else errors["field_type"] = [$"must be one of {string.Join(", ", CustomFieldTypes.All)}"];
        }
        if (body.UiVisibility.IsSet)
        {
            var visibility = body.UiVisibility.Value?.Trim().ToLowerInvariant();
            if (visibility is not null && CustomFieldTypes.Visibilities.Contains(visibility)) d.UiVisibility = visibility;
            else errors["ui_visibility"] = [$"must be one of {string.Join(", ", CustomFieldTypes.Visibilities)}"];
        }
        if (body.ValidationRegex.IsSet) d.ValidationRegex = string.IsNullOrEmpty(body.ValidationRegex.Value) ? null : body.ValidationRegex.Value;
        if (body.Description.IsSet) d.Description = body.Description.Value?.Trim() is { Length: > 0 } text ? text : null;
        if (body.Required.IsSet)
        {
            if (body.Required.Value is { } required) d.Required = required;
            else errors["required"] = ["must be true or false"];
        }
        if (body.DefaultValue.IsSet) d.DefaultValue = JsonText.From(body.DefaultValue.Value);
        if (creating || body.BoardIds.IsSet) await SetBoardsAsync(d, body.BoardIds.Value, db, errors, ct);

        Regex? pattern = null;
        if (d.ValidationRegex is { } regex)
        {
            if (!CustomFieldTypes.IsStringType(d.FieldType)) errors["validation_regex"] = ["applies only to text, text_long and url fields"];
            else if ((pattern = CustomFieldTypes.CompileRegex(regex, out var regexError)) is null) errors["validation_regex"] = [regexError!];
        }
        if (JsonText.Parse(d.DefaultValue) is { } value && CustomFieldTypes.CheckValue(d.FieldType, value, pattern) is { } valueError)
            errors["default_value"] = [valueError];
    }

    private static async Task SetBoardsAsync(
        CustomFieldDefinition d, IReadOnlyList<Guid>? boardIds, OrgsDbContext db, Dictionary<string, string[]> errors, CancellationToken ct)
    {
        var ids = boardIds?.Distinct().ToList() ?? [];
        if (ids.Count == 0)
        {
            errors["board_ids"] = ["must name at least one board"];
            return;
        }
        if (await db.Boards.CountAsync(b => ids.Contains(b.Id) && b.OrganizationId == d.OrganizationId, ct) != ids.Count)
        {
            errors["board_ids"] = ["names boards that are not in the organization"];
            return;
        }
        d.Boards.RemoveAll(b => !ids.Contains(b.BoardId));
        foreach (var id in ids.Where(id => d.Boards.All(b => b.BoardId != id)))
        {
            var binding = new BoardCustomField { CustomFieldDefinitionId = d.Id, BoardId = id };
            if (db.Entry(d).State != EntityState.Detached) db.BoardCustomFields.Add(binding);
            if (!d.Boards.Contains(binding)) d.Boards.Add(binding);
        }
    }

    private static void QueueChanged(OrgsDbContext db, CustomFieldDefinition d, DateTime now) =>
        db.AddIntegrationEvent(new CustomFieldDefinitionChanged
        {
            OrganizationId = d.OrganizationId, OccurredAt = now,
            Definition = new CustomFieldDefinitionState
            {
                Id = d.Id, OrganizationId = d.OrganizationId, FieldKey = d.FieldKey, Label = d.Label, FieldType = d.FieldType,
                UiVisibility = d.UiVisibility, ValidationRegex = d.ValidationRegex, Description = d.Description, Required = d.Required,
                DefaultValue = JsonText.Parse(d.DefaultValue), BoardIds = CustomFieldRead.BoardIdsOf(d),
            },
        });

    private static IResult DefinitionNotFound() => ApiProblems.NotFound("Custom field not found.");
}
