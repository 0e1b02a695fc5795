using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using MissionControl.Messaging;
using MissionControl.Tasks.Data;

namespace MissionControl.Tasks.Tests;

/// <summary>
/// The group commit of new tasks on SQLite (where the write gate serializes writers): requests that
/// arrive together share a transaction, and after a shared one the writer lingers for more.
/// The linger is set long here, so the arrivals' timing is far inside it.
/// </summary>
[Collection(InfrastructureCollection.Collection)]
public sealed class GroupCommitTests(BrokerFixture broker) : TasksServiceTest(broker)
{
    private static readonly TimeSpan Linger = TimeSpan.FromSeconds(2);

    protected override string DatabaseConnectionString() =>
        $"Data Source={Path.Combine(Path.GetTempPath(), $"mc-tasks-test-{Guid.NewGuid():N}.db")}";

    protected override IEnumerable<KeyValuePair<string, string?>> Settings() => [new("Tasks:CommitLinger", Linger.ToString())];

    private TaskWriter Writer => Tasks.Services.GetRequiredService<TaskWriter>();

    private Task<HttpResponseMessage> CreateAsync(Guid board, string title) =>
        Owner.PostAsJsonAsync($"/api/v1/boards/{board}/tasks", new { title });

    private async Task CreatedAsync(Guid board, string title) => Assert.Equal(HttpStatusCode.Created, (await CreateAsync(board, title)).StatusCode);

    [Fact]
    public async Task Requests_that_arrive_together_share_a_commit_and_the_next_commit_waits_for_more()
    {
        var board = await BoardAsync();
        await CreatedAsync(board, "Warm-up");

        // Two requests queued while the gate is held: one transaction writes both.
        var gate = Tasks.Services.GetRequiredService<DatabaseWriteGate>();
        var before = Writer.Commits;
        Task<HttpResponseMessage>[] together;
        using (await gate.EnterAsync(CancellationToken.None))
        {
            together = [CreateAsync(board, "First"), CreateAsync(board, "Second")];
            await WaitUntilAsync(_ => Task.FromResult(Writer.Queued == 2));
        }
        foreach (var response in await Task.WhenAll(together)) Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(before + 1, Writer.Commits);

        // The commit before held two, so the next one waits: a request sent 200 ms after it joins it.
        var lingering = CreateAsync(board, "Third");
        await Task.Delay(200);
        var joining = CreateAsync(board, "Fourth");
        foreach (var response in await Task.WhenAll(lingering, joining)) Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(before + 2, Writer.Commits);

        // That commit held two as well, so one more lone request waits out the linger; after a commit of
        // one, a lone request does not wait.
        await CreatedAsync(board, "Fifth");
        var clock = Stopwatch.StartNew();
        await CreatedAsync(board, "Sixth");
        Assert.True(clock.Elapsed < Linger / 2, $"a lone create after a commit of one took {clock.Elapsed.TotalMilliseconds:F0} ms");
        Assert.Equal(before + 4, Writer.Commits);

        var list = await Owner.GetFromJsonAsync<System.Text.Json.JsonElement>($"/api/v1/boards/{board}/tasks");
        Assert.Equal(7, list.GetProperty("total").GetInt32());
    }
}

public sealed class CommitLingerSettingTests
{
    private static TasksOptions Read(string linger)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection([new("Tasks:CommitLinger", linger)]).Build();
        using var services = TasksOptions.AddTasksOptions(new ServiceCollection(), configuration).BuildServiceProvider();
        return services.GetRequiredService<Microsoft.Extensions.Options.IOptions<TasksOptions>>().Value;
    }

    [Theory]
    [InlineData("00:00:00", 0.0)]
    [InlineData("00:00:00.001", 1.0)]
    [InlineData("00:00:02", 2000.0)]
    public void A_linger_of_zero_or_at_least_a_millisecond_is_taken(string linger, double ms) =>
        Assert.Equal(TimeSpan.FromMilliseconds(ms), Read(linger).CommitLinger);

    [Theory]
    [InlineData("00:00:00.0005")] // a timer would not wait at all
    [InlineData("-00:00:00.001")]
    public void A_linger_a_timer_cannot_wait_stops_the_service_with_the_rule(string linger)
    {
        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => Read(linger));
        Assert.Contains(TasksOptions.CommitLingerRule, error.Message);
    }
}
