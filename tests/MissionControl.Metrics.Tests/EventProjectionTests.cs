using System.Text.Json;
using MissionControl.Contracts.Tasks;
using MissionControl.EventLog;
using MissionControl.Metrics.EventLog;

namespace MissionControl.Metrics.Tests;

public sealed class EventProjectionTests
{
    [Fact]
    public void A_dispatch_is_a_task_event_the_board_sees_with_the_task_and_its_agent()
    {
        var (org, board, agent, now) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), DateTimeOffset.UtcNow);
        var task = new TaskSnapshot
        {
            Id = Guid.NewGuid(), BoardId = board, Title = "Review PR #42", Status = "inbox", Priority = "high",
            AssignedAgentId = agent, CreatedAt = now, UpdatedAt = now,
        };
        var dispatched = new TaskDispatched
        {
            OrganizationId = org, BoardId = board, AgentId = agent, Task = task, Kind = "prompt", Message = "Review PR #42",
            Activity = new ActivityInfo { Id = Guid.NewGuid(), EventType = "task.dispatched", Message = "Task dispatched: Review PR #42.", TaskId = task.Id, CreatedAt = now },
            OccurredAt = now,
        };

        var entry = EventProjection.Project(dispatched, Guid.NewGuid(), now.UtcDateTime);

        Assert.Equal((EventTopics.Tasks, "task.dispatched", EventAudiences.Board), (entry.Topic, entry.Type, entry.Audience));
        Assert.Equal((board, task.Id, agent), (entry.BoardId, entry.TaskId, entry.AgentId));
        var data = JsonDocument.Parse(entry.Data).RootElement;
        Assert.Equal("Review PR #42", data.GetProperty("task").GetProperty("title").GetString());
        Assert.Equal(agent, data.GetProperty("agent_id").GetGuid());
    }
}
