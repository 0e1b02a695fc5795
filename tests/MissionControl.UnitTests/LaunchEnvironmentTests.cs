extern alias apphost;

using apphost::MissionControl.AppHost;

namespace MissionControl.UnitTests;

/// <summary>The runtime settings the AppHost gives the apps it starts.</summary>
public sealed class LaunchEnvironmentTests : IDisposable
{
    private const string Delay = "DOTNET_TC_CallCountingDelayMs";
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("mc-launch-");

    public void Dispose() => _root.Delete(recursive: true);

    [Fact]
    public void Apps_recompile_hot_code_only_once_startup_is_over_unless_the_caller_set_the_delay()
    {
        var config = LaunchConfiguration.Create(new AppHostPaths(_root.FullName, Path.Combine(_root.FullName, "state")), new AppHostOptions());
        var tasks = config.InstancesOf(LaunchConfiguration.Services.Single(s => s.Name == "tasks")).Single();
        var edge = config.InstancesOf(LaunchConfiguration.Edge).Single();
        Assert.Null(Environment.GetEnvironmentVariable(Delay));

        Assert.Equal("2000", config.EnvironmentFor(tasks)[Delay]);
        Assert.Equal("2000", config.EnvironmentFor(edge)[Delay]);
        Environment.SetEnvironmentVariable(Delay, "100");
        try
        {
            Assert.Equal("100", config.EnvironmentFor(tasks)[Delay]);
        }
        finally
        {
            Environment.SetEnvironmentVariable(Delay, null);
        }
    }
}
