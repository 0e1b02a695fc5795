using MissionControl.Agents;
using MissionControl.Agents.Domain;

namespace MissionControl.Agents.Tests.Domain;

public sealed class AgentStatusTests
{
    private static readonly DateTime Now = new(2026, 3, 1, 12, 0, 0, DateTimeKind.Utc);
    private static readonly TimeSpan TenMinutes = TimeSpan.FromMinutes(10);

    [Theory]
    [InlineData(AgentStatus.Provisioning, null, AgentStatus.Provisioning)]
    [InlineData(AgentStatus.Updating, 1, AgentStatus.Updating)]
    [InlineData(AgentStatus.Updating, 60, AgentStatus.Updating)]
    [InlineData(AgentStatus.ProvisionFailed, 1, AgentStatus.ProvisionFailed)]
    [InlineData(AgentStatus.Ready, null, AgentStatus.Ready)]
    [InlineData(AgentStatus.Ready, 1, AgentStatus.Online)]
    [InlineData(AgentStatus.Ready, 10, AgentStatus.Online)]
    [InlineData(AgentStatus.Ready, 11, AgentStatus.Offline)]
    [InlineData("busy", 2, "busy")]
    [InlineData("busy", 30, AgentStatus.Offline)]
    public void Status_is_computed_from_the_lifecycle_and_last_seen(string stored, int? minutesAgo, string expected)
    {
        DateTime? seen = minutesAgo is { } m ? Now.AddMinutes(-m) : null;
        Assert.Equal(expected, AgentStatus.Compute(stored, seen, TenMinutes, Now));
    }

    [Theory]
    [InlineData(null, 600)]
    [InlineData("""{"every":"10m"}""", 600)]
    [InlineData("""{"interval_seconds":30,"missing_tolerance":120}""", 120)]
    [InlineData("""{"missing_tolerance":"soon"}""", 600)]
    [InlineData("""{"missing_tolerance":-5}""", 600)]
    [InlineData("not json", 600)]
    public void The_offline_tolerance_comes_from_heartbeat_config_or_the_default(string? config, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), AgentStatus.OfflineAfter(config, TenMinutes));
}

public sealed class AgentRulesTests
{
    private static readonly Guid Board = Guid.NewGuid();

    [Theory]
    [InlineData(null, false)]
    [InlineData("   ", false)]
    [InlineData("Ops lead", true)]
    public void Names_must_not_be_blank(string? name, bool ok) => Assert.Equal(ok, AgentRules.CheckName(name) is null);

    [Fact]
    public void Names_are_at_most_256_characters()
    {
        Assert.Null(AgentRules.CheckName(new string('a', 256)));
        Assert.NotNull(AgentRules.CheckName(new string('a', 257)));
    }

    [Fact]
    public void Names_are_unique_ignoring_case_and_surrounding_blanks_except_for_the_agent_itself()
    {
        var self = Guid.NewGuid();
        ExistingAgent[] agents = [new(self, Board, "Researcher", false), new(Guid.NewGuid(), Board, "Lead Agent", true)];
        Assert.True(AgentRules.NameTaken("researcher", agents));
        Assert.True(AgentRules.NameTaken("  LEAD agent ", agents));
        Assert.False(AgentRules.NameTaken("Writer", agents));
        Assert.False(AgentRules.NameTaken("RESEARCHER", agents, exceptAgentId: self));
    }

    [Fact]
    public void The_lead_is_not_counted_against_max_agents()
    {
        ExistingAgent[] leadOnly = [new(Guid.NewGuid(), Board, "Lead", true)];
        ExistingAgent[] leadAndWorker = [.. leadOnly, new(Guid.NewGuid(), Board, "Worker", false)];
        Assert.False(AgentRules.CapReached(1, leadOnly));
        Assert.True(AgentRules.CapReached(1, leadAndWorker));
        Assert.False(AgentRules.CapReached(2, leadAndWorker));
        Assert.True(AgentRules.CapReached(0, leadOnly));
        Assert.Contains("max_agents=1", AgentRules.CapMessage(1));
    }

    [Fact]
    public void Identities_follow_the_kind_of_agent()
    {
        var agent = Guid.NewGuid();
        var gateway = Guid.NewGuid();
        Assert.Equal($"mc-{agent}", AgentIdentities.GatewayAgentId(agent, Board, gateway, false, false));
        Assert.Equal($"lead-{Board}", AgentIdentities.GatewayAgentId(agent, Board, gateway, true, false));
        Assert.Equal($"mc-gateway-{gateway}", AgentIdentities.GatewayAgentId(agent, null, gateway, false, true));
        Assert.Equal($"agent:mc-{agent}:main", AgentIdentities.SessionKey($"mc-{agent}"));
        Assert.Equal($"/root/workspace-gateway-{gateway}", AgentIdentities.WorkspacePath("/root/", $"mc-gateway-{gateway}"));
        Assert.Equal($"/root/workspace-mc-{agent}", AgentIdentities.WorkspacePath("/root", $"mc-{agent}"));
    }
}

public sealed class ProvisioningScheduleTests
{
    private static readonly DateTime Now = new(2026, 3, 1, 12, 0, 0, DateTimeKind.Utc);
    private static readonly AgentsOptions Options = new()
    {
        ProvisionAttempts = 3, ProvisionRetryDelay = TimeSpan.FromSeconds(5), ProvisionRetryMaxDelay = TimeSpan.FromSeconds(30),
    };

    [Fact]
    public void Backoff_doubles_up_to_the_maximum()
    {
        Assert.Equal(TimeSpan.FromSeconds(5), ProvisioningSchedule.Backoff(1, Options.ProvisionRetryDelay, Options.ProvisionRetryMaxDelay));
        Assert.Equal(TimeSpan.FromSeconds(10), ProvisioningSchedule.Backoff(2, Options.ProvisionRetryDelay, Options.ProvisionRetryMaxDelay));
        Assert.Equal(TimeSpan.FromSeconds(20), ProvisioningSchedule.Backoff(3, Options.ProvisionRetryDelay, Options.ProvisionRetryMaxDelay));
        Assert.Equal(TimeSpan.FromSeconds(30), ProvisioningSchedule.Backoff(9, Options.ProvisionRetryDelay, Options.ProvisionRetryMaxDelay));
        Assert.Equal(TimeSpan.FromSeconds(30), ProvisioningSchedule.Backoff(500, Options.ProvisionRetryDelay, Options.ProvisionRetryMaxDelay));
    }

    [Fact]
    public void A_run_before_its_deadline_waits()
    {
        var run = new RunState(AgentStatus.Provisioning, 1, Now.AddSeconds(1), null);
        Assert.Equal(RunStep.Wait, ProvisioningSchedule.OnSweep(run, Now, Options).Step);
    }

    [Fact]
    public void A_missed_deadline_schedules_a_retry_with_backoff_until_the_attempts_run_out()
    {
        var first = ProvisioningSchedule.OnSweep(new RunState(AgentStatus.Provisioning, 1, Now, null), Now, Options);
        Assert.Equal(new RunDecision(RunStep.ScheduleRetry, Now.AddSeconds(5)), first);
        var second = ProvisioningSchedule.OnSweep(new RunState(AgentStatus.Updating, 2, Now.AddSeconds(-1), null), Now, Options);
        Assert.Equal(new RunDecision(RunStep.ScheduleRetry, Now.AddSeconds(10)), second);
        Assert.Equal(RunStep.Fail, ProvisioningSchedule.OnSweep(new RunState(AgentStatus.Updating, 3, Now.AddSeconds(-1), null), Now, Options).Step);
    }

    [Fact]
    public void A_due_retry_is_sent_and_one_not_yet_due_waits()
    {
        Assert.Equal(RunStep.Resend, ProvisioningSchedule.OnSweep(new RunState(AgentStatus.Provisioning, 1, null, Now), Now, Options).Step);
        Assert.Equal(RunStep.Wait, ProvisioningSchedule.OnSweep(new RunState(AgentStatus.Provisioning, 1, null, Now.AddSeconds(1)), Now, Options).Step);
    }

    [Theory]
    [InlineData(AgentStatus.Ready)]
    [InlineData(AgentStatus.ProvisionFailed)]
    [InlineData(AgentStatus.Online)]
    public void Only_running_runs_are_swept(string status) =>
        Assert.Equal(RunStep.Wait, ProvisioningSchedule.OnSweep(new RunState(status, 1, Now.AddHours(-1), Now.AddHours(-1)), Now, Options).Step);

    [Fact]
    public void Failures_retry_only_when_retryable_and_attempts_remain()
    {
        Assert.Equal(new RunDecision(RunStep.ScheduleRetry, Now.AddSeconds(5)), ProvisioningSchedule.OnFailure(1, true, Now, Options));
        Assert.Equal(RunStep.Fail, ProvisioningSchedule.OnFailure(1, false, Now, Options).Step);
        Assert.Equal(RunStep.Fail, ProvisioningSchedule.OnFailure(3, true, Now, Options).Step);
    }
}
