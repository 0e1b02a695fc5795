using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MissionControl.Contracts.Agents;

namespace MissionControl.EndToEnd.Tests;

/// <summary>
/// Seed 000's "minimal task creation and dispatch script", run verbatim with bash, curl and jq against
/// the edge (only its http://localhost:4000 is replaced by the edge's address), as a user with an API key.
/// </summary>
[Collection(SystemCollection.Collection)]
public sealed class SeedScriptTests(BrokerFixture broker) : IAsyncLifetime
{
    /// <summary>Seed 000, character for character.</summary>
    private const string Seed000Script = """
        # Create a task
        TASK=$(curl -s -X POST http://localhost:4000/api/tasks \
        -H "Authorization: Bearer $MC_TOKEN" \
        -H "Content-Type: application/json" \
        -d '{"title":"Review PR #42","description":"...","priority":"high"}')
        TASK_ID=$(echo $TASK | jq -r '.id')
        # Dispatch it
        curl -s -X POST http://localhost:4000/api/tasks/$TASK_ID/dispatch \
        -H "Authorization: Bearer $MC_TOKEN" \
        -H "Content-Type: application/json" \
        -d "{\"agentId\":\"$AGENT_ID\"}"
        """;

    private EdgeSystem _system = null!;

    public async Task InitializeAsync() => _system = await EdgeSystem.StartAsync(broker);

    public async Task DisposeAsync() => await _system.DisposeAsync();

    [Fact]
    public async Task The_seed_000_script_creates_a_task_on_the_default_board_and_dispatches_it_to_the_agent()
    {
        var (_, key, _) = await _system.UserWithApiKeyAsync("Sam");
        using var user = _system.Client(key);
        await EdgeSystem.CreateAsync(user, "/api/v1/organizations", new { name = $"Acme {Guid.NewGuid():N}" });

        // An agent on the organization's default board. Agents are created on a board with a gateway (an
        // OpenClaw gateway process); here the agents service is stood in for by its AgentCreated event.
        var warmUp = await user.PostAsJsonAsync("/api/tasks", new { title = "Warm-up" });
        Assert.Equal(HttpStatusCode.Created, warmUp.StatusCode);
        var warmUpTask = await warmUp.Content.ReadFromJsonAsync<JsonElement>();
        var board = warmUpTask.GetProperty("boardId").GetGuid();
        var org = (await user.GetFromJsonAsync<JsonElement>($"/api/v1/boards/{board}")).GetProperty("organization_id").GetGuid();
        var agent = Guid.NewGuid();
        await using (var bus = await BusProbe.StartAsync(broker.ConnectionString))
        {
            var now = DateTimeOffset.UtcNow;
            await bus.PublishAsync(new AgentCreated
            {
                OrganizationId = org, OccurredAt = now,
                Agent = new AgentState
                {
                    Id = agent, OrganizationId = org, BoardId = board, Name = "Reviewer", Status = "online", SessionKey = $"agent:mc-{agent}:main",
                    CreatedAt = now, UpdatedAt = now,
                },
            });
        }
        await EdgeSystem.EventuallyAsync(async () => (await user.PostAsJsonAsync($"/api/tasks/{warmUpTask.GetProperty("id")}/dispatch", new { agentId = agent }))
            .StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(20), "the tasks service knows the agent");

        var (exit, stdout, stderr) = await RunAsync(Seed000Script.Replace("http://localhost:4000", _system.Edge.TrimEnd('/')),
            new() { ["MC_TOKEN"] = key, ["AGENT_ID"] = agent.ToString() });

        Assert.True(exit == 0, $"exit {exit}: {stderr}");
        var dispatched = JsonDocument.Parse(stdout).RootElement;
        var taskId = dispatched.GetProperty("id").GetGuid();
        Assert.Equal(agent, dispatched.GetProperty("agentId").GetGuid());
        var task = (await user.GetFromJsonAsync<JsonElement>($"/api/tasks/{taskId}")).GetProperty("task");
        Assert.Equal("Review PR #42", task.GetProperty("title").GetString());
        Assert.Equal("high", task.GetProperty("priority").GetString());
        Assert.Equal(board, task.GetProperty("boardId").GetGuid());
        Assert.Equal(agent, task.GetProperty("agentId").GetGuid());
        Assert.Equal("Reviewer", task.GetProperty("assignedTo").GetString());
        var mine = await user.GetFromJsonAsync<JsonElement>($"/api/tasks?agentId={agent}");
        Assert.Contains(mine.GetProperty("tasks").EnumerateArray(), t => t.GetProperty("id").GetGuid() == taskId);

        await EdgeSystem.EventuallyAsync(async () =>
        {
            var events = await user.GetFromJsonAsync<JsonElement>("/api/v1/events?type=task.dispatched&limit=200");
            return events.GetProperty("items").EnumerateArray().Any(e => e.GetProperty("task_id").GetString() == taskId.ToString()
                && e.GetProperty("data").GetProperty("agent_id").GetGuid() == agent);
        }, TimeSpan.FromSeconds(20), "task.dispatched is in the event log");
    }

    private static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(string script, Dictionary<string, string> environment)
    {
        var path = Path.Combine(Path.GetTempPath(), $"mc-seed-000-{Guid.NewGuid():N}.sh");
        await File.WriteAllTextAsync(path, script + "\n");
        try
        {
            var start = new ProcessStartInfo("bash", [path]) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var (name, value) in environment) start.Environment[name] = value;
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync(timeout.Token);
            return (process.ExitCode, await stdout, await stderr);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
