extern alias apphost;

using System.Xml.Linq;
using apphost::MissionControl.AppHost;

namespace MissionControl.UnitTests;

/// <summary>The Release start's ReadyToRun publish: which apps it publishes, which copy runs, and shared files.</summary>
public sealed class ReadyToRunPublishTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("mc-r2r-");

    public void Dispose() => _root.Delete(recursive: true);

    [Fact]
    public void The_publish_project_lists_every_app_the_AppHost_starts()
    {
        var repo = RepoRoot();
        var listed = XDocument.Load(Path.Combine(repo, ReadyToRunPublish.ProjectFile)).Descendants("App")
            .SelectMany(e => e.Attribute("Include")!.Value.Split(';', StringSplitOptions.RemoveEmptyEntries))
            .Select(p => Path.GetFileNameWithoutExtension(p.Replace('\\', '/')))
            .Order().ToList();
        var started = LaunchConfiguration.Services.Append(LaunchConfiguration.Edge).Select(p => p.AssemblyName).Order().ToList();
        Assert.Equal(started, listed);
    }

    [Fact]
    public void Identical_files_become_one_and_different_ones_stay_apart()
    {
        var (a, b, c) = (Folder("a"), Folder("b"), Folder("c"));
        var bytes = Enumerable.Range(0, 200_000).Select(i => (byte)i).ToArray();
        // Same name and length, one byte apart in the last block: not the same file.
        var almost = bytes.ToArray();
        almost[^1] ^= 1;
        foreach (var folder in new[] { a, b, c }) File.WriteAllBytes(Path.Combine(folder, "Shared.dll"), bytes);
        File.WriteAllBytes(Path.Combine(a, "Other.dll"), bytes);
        File.WriteAllBytes(Path.Combine(b, "Other.dll"), almost);
        File.WriteAllText(Path.Combine(a, "App.dll"), "app a");
        File.WriteAllText(Path.Combine(b, "App.dll"), "app b");
        Directory.CreateDirectory(Path.Combine(b, "runtimes"));
        Directory.CreateDirectory(Path.Combine(c, "runtimes"));
        File.WriteAllText(Path.Combine(b, "runtimes", "native.so"), "native");
        File.WriteAllText(Path.Combine(c, "runtimes", "native.so"), "native");

        File.WriteAllText(Path.Combine(c, "Shared.dll.link"), "left by a start that stopped halfway");

        var linked = ReadyToRunPublish.ShareIdenticalFiles([a, b, c]);

        Assert.Equal(3, linked); // b/Shared.dll, c/Shared.dll, c/runtimes/native.so
        Assert.Equal(0, ReadyToRunPublish.ShareIdenticalFiles([a, b, c])); // the next start finds them linked
        // One file now: a write through one name shows through the others.
        using (var stream = new FileStream(Path.Combine(a, "Shared.dll"), FileMode.Open, FileAccess.Write)) stream.WriteByte(0xFF);
        Assert.Equal(0xFF, File.ReadAllBytes(Path.Combine(b, "Shared.dll"))[0]);
        Assert.Equal(0xFF, File.ReadAllBytes(Path.Combine(c, "Shared.dll"))[0]);
        File.AppendAllText(Path.Combine(b, "runtimes", "native.so"), "!");
        Assert.Equal("native!", File.ReadAllText(Path.Combine(c, "runtimes", "native.so")));
        Assert.Equal(almost, File.ReadAllBytes(Path.Combine(b, "Other.dll")));
        Assert.Equal("app b", File.ReadAllText(Path.Combine(b, "App.dll")));
        Assert.Empty(Directory.EnumerateFiles(_root.FullName, "*.link", SearchOption.AllDirectories));
    }

    [Fact]
    public void Release_runs_the_publish_when_current_or_not_older_than_the_build_and_Debug_always_runs_the_build()
    {
        var paths = new AppHostPaths(_root.FullName, Path.Combine(_root.FullName, "state"));
        var tasks = LaunchConfiguration.Services.Single(s => s.Name == "tasks");
        var built = Path.Combine(_root.FullName, "artifacts", "bin", tasks.AssemblyName, "release", tasks.AssemblyName + ".dll");
        var published = ReadyToRunPublish.DllPath(paths, tasks.AssemblyName);
        var release = LaunchConfiguration.Create(paths, new AppHostOptions());
        var debug = LaunchConfiguration.Create(paths, new AppHostOptions { Configuration = "Debug" });

        Directory.CreateDirectory(Path.GetDirectoryName(built)!);
        File.WriteAllText(built, "il");
        Assert.Equal(built, release.DllPath(tasks));

        Directory.CreateDirectory(Path.GetDirectoryName(published)!);
        File.WriteAllText(published, "r2r");
        File.SetLastWriteTimeUtc(built, DateTime.UtcNow.AddMinutes(-1));
        Assert.Equal(published, release.DllPath(tasks));

        // Built again after the last publish (e.g. `dotnet build -c Release`): the newer build runs.
        File.SetLastWriteTimeUtc(built, DateTime.UtcNow.AddMinutes(1));
        Assert.Equal(built, release.DllPath(tasks));

        // ...unless the publish was made from the sources as they are now (the newer build only rewrote
        // the same code, e.g. as a reference of the bench).
        PublishInputs.Record(paths, PublishInputs.Fingerprint(_root.FullName));
        Assert.Equal(published, LaunchConfiguration.Create(paths, new AppHostOptions()).DllPath(tasks));
        File.WriteAllText(Path.Combine(Folder("services"), "Edited.cs"), "// a source changed since the publish");
        Assert.Equal(built, LaunchConfiguration.Create(paths, new AppHostOptions()).DllPath(tasks));

        Assert.EndsWith(Path.Combine("artifacts", "bin", tasks.AssemblyName, "debug", tasks.AssemblyName + ".dll"), debug.DllPath(tasks));
    }

    private string Folder(string name) => Directory.CreateDirectory(Path.Combine(_root.FullName, name)).FullName;

    internal static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, AppHostPaths.SolutionFile))) return dir.FullName;
        throw new InvalidOperationException("repository root not found");
    }

    [Fact]
    public void The_restore_is_told_that_the_publish_is_ReadyToRun_so_it_fetches_the_runtime_packs()
    {
        // A property given only to the Publish call is unknown to the restore before it: on a machine
        // whose NuGet cache has no runtime packs the publish then fails with NETSDK1112.
        var arguments = ReadyToRunPublish.Arguments(new AppHostPaths(_root.FullName, Path.Combine(_root.FullName, "state")));
        Assert.Contains("-restore", arguments);
        Assert.Contains("-p:PublishReadyToRun=true", arguments);
        Assert.Contains(arguments, a => a.StartsWith("-p:RuntimeIdentifier=", StringComparison.Ordinal));
    }
}
