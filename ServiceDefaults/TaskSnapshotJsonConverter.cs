using System.Text.Json;
using System.Text.Json.Serialization;
using MissionControl.Contracts.Tasks;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Writes a task (the /api/v1 TaskRead) straight to the writer, member by member, in the order and with the
/// names the serializer's own metadata would use: a list of 50 tasks spent about a seventh of tasks' CPU in
/// the serializer's generic object and property converters, and every task event's log entry in metrics goes
/// the same way. Reading is left to the serializer (options without this converter). A unit test compares
/// the output with the serializer's for every member, so a member added to <see cref="TaskSnapshot"/> and not
/// here fails it.
/// </summary>
public sealed class TaskSnapshotJsonConverter : JsonConverter<TaskSnapshot>
{
    private static readonly JsonEncodedText Id = JsonEncodedText.Encode("id"), BoardId = JsonEncodedText.Encode("board_id"),
        Title = JsonEncodedText.Encode("title"), Description = JsonEncodedText.Encode("description"), Status = JsonEncodedText.Encode("status"),
        Priority = JsonEncodedText.Encode("priority"), DueAt = JsonEncodedText.Encode("due_at"), AssignedAgentId = JsonEncodedText.Encode("assigned_agent_id"),
        CreatedByUserId = JsonEncodedText.Encode("created_by_user_id"), InProgressAt = JsonEncodedText.Encode("in_progress_at"),
        CreatedAt = JsonEncodedText.Encode("created_at"), UpdatedAt = JsonEncodedText.Encode("updated_at"),
        DependsOnTaskIds = JsonEncodedText.Encode("depends_on_task_ids"), TagIds = JsonEncodedText.Encode("tag_ids"), Tags = JsonEncodedText.Encode("tags"),
        BlockedByTaskIds = JsonEncodedText.Encode("blocked_by_task_ids"), IsBlocked = JsonEncodedText.Encode("is_blocked"),
        CustomFieldValues = JsonEncodedText.Encode("custom_field_values"), Result = JsonEncodedText.Encode("result"),
        Name = JsonEncodedText.Encode("name"), Slug = JsonEncodedText.Encode("slug"), Color = JsonEncodedText.Encode("color");

    /// <summary>The same conventions without this converter, for reads.</summary>
    private static readonly JsonSerializerOptions ReadOptions = JsonDefaults.ConfigureConventions(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    public override TaskSnapshot? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        JsonSerializer.Deserialize<TaskSnapshot>(ref reader, ReadOptions);

    public override void Write(Utf8JsonWriter writer, TaskSnapshot task, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteString(Id, task.Id);
        writer.WriteString(BoardId, task.BoardId);
        writer.WriteString(Title, task.Title);
        WriteString(writer, Description, task.Description);
        writer.WriteString(Status, task.Status);
        writer.WriteString(Priority, task.Priority);
        WriteTime(writer, DueAt, task.DueAt);
        WriteGuid(writer, AssignedAgentId, task.AssignedAgentId);
        WriteGuid(writer, CreatedByUserId, task.CreatedByUserId);
        WriteTime(writer, InProgressAt, task.InProgressAt);
        WriteTime(writer, CreatedAt, task.CreatedAt);
        WriteTime(writer, UpdatedAt, task.UpdatedAt);
        WriteGuids(writer, DependsOnTaskIds, task.DependsOnTaskIds);
        WriteGuids(writer, TagIds, task.TagIds);
        writer.WriteStartArray(Tags);
        for (var i = 0; i < task.Tags.Count; i++)
        {
            var tag = task.Tags[i];
            writer.WriteStartObject();
            writer.WriteString(Id, tag.Id);
            writer.WriteString(Name, tag.Name);
            writer.WriteString(Slug, tag.Slug);
            writer.WriteString(Color, tag.Color);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        WriteGuids(writer, BlockedByTaskIds, task.BlockedByTaskIds);
        writer.WriteBoolean(IsBlocked, task.IsBlocked);
        writer.WriteStartObject(CustomFieldValues);
        if (task.CustomFieldValues.Count > 0)
        {
            foreach (var (key, value) in task.CustomFieldValues)
            {
                writer.WritePropertyName(key);
                value.WriteTo(writer);
            }
        }
        writer.WriteEndObject();
        WriteString(writer, Result, task.Result);
        writer.WriteEndObject();
    }

    private static void WriteString(Utf8JsonWriter writer, JsonEncodedText name, string? value)
    {
        if (value is null) writer.WriteNull(name);
        else writer.WriteString(name, value);
    }

    private static void WriteGuid(Utf8JsonWriter writer, JsonEncodedText name, Guid? value)
    {
        if (value is { } id) writer.WriteString(name, id);
        else writer.WriteNull(name);
    }

    private static void WriteTime(Utf8JsonWriter writer, JsonEncodedText name, DateTimeOffset? value)
    {
        writer.WritePropertyName(name);
        if (value is { } time) JsonDefaults.UtcDateTimeOffsetConverter.WriteValue(writer, time);
        else writer.WriteNullValue();
    }

    private static void WriteGuids(Utf8JsonWriter writer, JsonEncodedText name, IReadOnlyList<Guid> ids)
    {
        writer.WriteStartArray(name);
        for (var i = 0; i < ids.Count; i++) writer.WriteStringValue(ids[i]);
        writer.WriteEndArray();
    }
}
