extern alias apphost;

using System.Runtime;
using System.Xml.Linq;
using apphost::MissionControl.AppHost;

namespace MissionControl.UnitTests;

/// <summary>The runtime settings the AppHost gives the apps it starts.</summary>
public sealed class LaunchEnvironmentTests : IDisposable
{
    private const string Delay = "DOTNET_TC_CallCountingDelayMs";
    private const string Threshold = "DOTNET_TC_CallCountThreshold";
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

    /// <summary>
    /// Apps keep the runtime's call-count threshold (30): at 1,000, code that runs once per batch of events stayed
    /// unoptimized for minutes under load. Neither the AppHost nor start.sh sets one; a threshold given to start.sh
    /// still reaches the apps, like every other variable.
    /// </summary>
    [Fact]
    public void Apps_keep_the_runtime_call_count_threshold()
    {
        var config = LaunchConfiguration.Create(new AppHostPaths(_root.FullName, Path.Combine(_root.FullName, "state")), new AppHostOptions());
        foreach (var project in LaunchConfiguration.Services.Append(LaunchConfiguration.Edge))
        foreach (var instance in config.InstancesOf(project))
            Assert.False(config.EnvironmentFor(instance).ContainsKey(Threshold));

        var startScript = File.ReadAllText(Path.Combine(ReadyToRunPublishTests.RepoRoot(), "scripts", "start.sh"));
        Assert.DoesNotContain(Threshold, startScript);
    }

    /// <summary>
    /// Every service with a database has its pending migrations applied by a short-lived copy of itself (what
    /// migrating loads would stay in the serving process); the edge has no database.
    /// </summary>
    [Fact]
    public void Services_with_a_database_migrate_in_a_child_process()
    {
        var config = LaunchConfiguration.Create(new AppHostPaths(_root.FullName, Path.Combine(_root.FullName, "state")), new AppHostOptions());
        var inherited = Environment.GetEnvironmentVariable("Database__MigrateInChildProcess");

        foreach (var project in LaunchConfiguration.Services.Append(LaunchConfiguration.Edge))
        foreach (var instance in config.InstancesOf(project))
            Assert.Equal(project.ConnectionName is null ? null : inherited ?? "true", config.EnvironmentFor(instance).GetValueOrDefault("Database__MigrateInChildProcess"));
        Assert.Null(LaunchConfiguration.Edge.ConnectionName);
    }

    /// <summary>
    /// Runtime settings the AppHost gives its apps unless the environment sets them: JIT code is mapped without
    /// write-xor-execute (about 0.8 s off a start on two cores).
    /// </summary>
    [Theory]
    [InlineData("DOTNET_EnableWriteXorExecute", "0")]
    public void Apps_get_the_runtime_settings_the_apphost_chose_unless_told_otherwise(string name, string chosen)
    {
        var config = LaunchConfiguration.Create(new AppHostPaths(_root.FullName, Path.Combine(_root.FullName, "state")), new AppHostOptions());
        var inherited = Environment.GetEnvironmentVariable(name);

        foreach (var project in LaunchConfiguration.Services.Append(LaunchConfiguration.Edge))
        foreach (var instance in config.InstancesOf(project))
            Assert.Equal(inherited ?? chosen, config.EnvironmentFor(instance)[name]);
    }

    /// <summary>
    /// Every app collects gen 2 in the background: blocking, the edge's and metrics' full collections under load
    /// stopped them for 40-130 ms (up to 224 ms). The setting comes from Directory.Build.props, which this test
    /// project imports like every app, so its runtime shows it; no app's project may turn it off (the bench, a
    /// load generator on the same two cores, does).
    /// </summary>
    [Fact]
    public void Apps_collect_gen2_in_the_background()
    {
        Assert.Equal(GCLatencyMode.Interactive, GCSettings.LatencyMode);

        var repo = ReadyToRunPublishTests.RepoRoot();
        var apps = new[] { "AppHost", "edge", "services" }
            .SelectMany(dir => Directory.EnumerateFiles(Path.Combine(repo, dir), "*.csproj", SearchOption.AllDirectories)).ToList();
        Assert.Equal(LaunchConfiguration.Services.Length + 2, apps.Count); // the services, the edge and the AppHost
        foreach (var project in apps)
        {
            var off = XDocument.Load(project).Descendants("ConcurrentGarbageCollection").Any(e => e.Value.Trim() == "false");
            Assert.False(off, $"{project} turns background GC off");
        }
    }
}
