using System.Text.Json;
using Microsoft.Extensions.Hosting;
using MissionControl.Contracts.Tasks;

namespace MissionControl.UnitTests;

/// <summary>The hand-written task writer must write exactly what the serializer would, member for member.</summary>
public sealed class TaskSnapshotJsonTests
{
    /// <summary>The API's options without the hand-written writer: the serializer's own metadata.</summary>
    private static readonly JsonSerializerOptions SerializerOnly = WithoutTaskWriter();

    private static JsonSerializerOptions WithoutTaskWriter()
    {
        var options = new JsonSerializerOptions(JsonDefaults.Api);
        options.Converters.Remove(options.Converters.OfType<TaskSnapshotJsonConverter>().Single());
        return options;
    }

    public static TheoryData<string> Tasks => ["full", "bare", "escaped"];

    private static TaskSnapshot Sample(string kind) => kind switch
    {
        "full" => new TaskSnapshot
        {
            Id = Guid.NewGuid(), BoardId = Guid.NewGuid(), Title = "Write the plan", Description = "Steps\nand notes", Status = "in_progress",
            Priority = "high", DueAt = DateTimeOffset.Parse("2026-12-09T10:00:00.1234567+02:00", System.Globalization.CultureInfo.InvariantCulture),
            AssignedAgentId = Guid.NewGuid(), CreatedByUserId = Guid.NewGuid(), InProgressAt = DateTimeOffset.UtcNow,
            CreatedAt = DateTimeOffset.UtcNow.AddHours(-1), UpdatedAt = DateTimeOffset.UtcNow,
            DependsOnTaskIds = [Guid.NewGuid(), Guid.NewGuid()], TagIds = [Guid.NewGuid()],
            Tags = [new TagRef(Guid.NewGuid(), "Backend", "backend", "#336699"), new TagRef(Guid.NewGuid(), "Ops", "ops", "#000000")],
            BlockedByTaskIds = [Guid.NewGuid()], IsBlocked = true,
            CustomFieldValues = new Dictionary<string, JsonElement>
            {
                ["Estimate"] = JsonSerializer.SerializeToElement(3.5),
                ["links"] = JsonSerializer.SerializeToElement(new[] { "a", "b" }),
                ["owner"] = JsonSerializer.SerializeToElement(new { name = "x", on = true }),
                ["none"] = JsonSerializer.SerializeToElement<object?>(null),
            },
            Result = "Done: see the PR.",
        },
        "bare" => new TaskSnapshot
        {
            Id = Guid.NewGuid(), BoardId = Guid.NewGuid(), Title = "t", Status = "inbox", Priority = "medium",
            CreatedAt = DateTimeOffset.UnixEpoch, UpdatedAt = DateTimeOffset.UnixEpoch,
        },
        _ => new TaskSnapshot
        {
            Id = Guid.NewGuid(), BoardId = Guid.NewGuid(), Title = "<script>\"quoted\" & 'single' é 🚀", Description = "tab\tnul\u0000",
            Status = "review", Priority = "critical", CreatedAt = DateTimeOffset.MaxValue, UpdatedAt = DateTimeOffset.MinValue,
            CustomFieldValues = new Dictionary<string, JsonElement> { ["clé <x>"] = JsonSerializer.SerializeToElement("v\"") },
        },
    };

    [Theory]
    [MemberData(nameof(Tasks))]
    public void The_task_writer_writes_what_the_serializer_would(string kind)
    {
        var task = Sample(kind);
        Assert.Equal(JsonSerializer.Serialize(task, SerializerOnly), JsonSerializer.Serialize(task, JsonDefaults.Api));
        // Inside a page and an event's payload, as the list and the event log write it.
        var page = new Page<TaskSnapshot>([task, Sample("bare")], 2, 50, 0);
        Assert.Equal(JsonSerializer.Serialize(page, SerializerOnly), JsonSerializer.Serialize(page, JsonDefaults.Api));
        object payload = new { type = "task.created", task };
        Assert.Equal(JsonSerializer.Serialize(payload, SerializerOnly), JsonSerializer.Serialize(payload, JsonDefaults.Api));
    }

    [Fact]
    public void The_writer_is_in_use_and_a_written_task_reads_back()
    {
        Assert.Single(JsonDefaults.Api.Converters.OfType<TaskSnapshotJsonConverter>());
        var task = Sample("full");
        var read = JsonSerializer.Deserialize<TaskSnapshot>(JsonSerializer.Serialize(task, JsonDefaults.Api), JsonDefaults.Api)!;
        Assert.Equal(JsonSerializer.Serialize(task, JsonDefaults.Api), JsonSerializer.Serialize(read, JsonDefaults.Api));
        Assert.Equal(task.Tags, read.Tags);
        Assert.Equal(task.DependsOnTaskIds, read.DependsOnTaskIds);
    }
}
