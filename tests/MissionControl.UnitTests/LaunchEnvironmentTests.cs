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
    public void Apps_keep_the_runtime_tier_up_delay_so_hot_code_is_optimized_under_load()
    {
        // A longer delay was tried: each new method restarts it, and a busy service stayed on
        // unoptimized code for good (create c16 711/s against 984/s).
        var config = LaunchConfiguration.Create(new AppHostPaths(_root.FullName, Path.Combine(_root.FullName, "state")), new AppHostOptions());
        Assert.Null(Environment.GetEnvironmentVariable(Delay));

        foreach (var project in LaunchConfiguration.Services.Append(LaunchConfiguration.Edge))
        foreach (var instance in config.InstancesOf(project))
            Assert.Null(config.EnvironmentFor(instance).GetValueOrDefault(Delay));
    }

    [Fact]
    public void Apps_recompile_a_method_after_a_thousand_calls_unless_told_otherwise()
    {
        const string threshold = "DOTNET_TC_CallCountThreshold";
        var config = LaunchConfiguration.Create(new AppHostPaths(_root.FullName, Path.Combine(_root.FullName, "state")), new AppHostOptions());
        var inherited = Environment.GetEnvironmentVariable(threshold);

        foreach (var project in LaunchConfiguration.Services.Append(LaunchConfiguration.Edge))
        foreach (var instance in config.InstancesOf(project))
            Assert.Equal(inherited ?? "1000", config.EnvironmentFor(instance)[threshold]);
    }

    [Fact]
    public void Apps_map_jit_code_without_write_xor_execute_unless_told_otherwise()
    {
        const string wxe = "DOTNET_EnableWriteXorExecute";
        var config = LaunchConfiguration.Create(new AppHostPaths(_root.FullName, Path.Combine(_root.FullName, "state")), new AppHostOptions());
        var inherited = Environment.GetEnvironmentVariable(wxe);

        foreach (var project in LaunchConfiguration.Services.Append(LaunchConfiguration.Edge))
        foreach (var instance in config.InstancesOf(project))
            Assert.Equal(inherited ?? "0", config.EnvironmentFor(instance)[wxe]);
    }
}
