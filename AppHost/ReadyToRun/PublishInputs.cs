using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace MissionControl.AppHost;

/// <summary>
/// Whether the ReadyToRun publish is up to date, without running it. MSBuild's own check that nothing
/// changed took 9–10 s on two cores (evaluating seven projects and their publish targets), most of a
/// warm start. This fingerprint covers every file the apps are built from (path, size and write time),
/// so any edit, checkout or restored copy of a source changes it; the publish runs, and records it,
/// only when it differs from the one the last successful publish left.
/// </summary>
internal static class PublishInputs
{
    /// <summary>The trees the apps are built from; bin and obj below them are outputs, not inputs.</summary>
    private static readonly string[] SourceDirs = ["services", "edge", "libs", "ServiceDefaults"];

    /// <summary>Files at the repo root, and the publish project, that change how everything builds.</summary>
    private static readonly string[] SourceFiles =
        ["Directory.Build.props", "Directory.Packages.props", "global.json", "nuget.config", "NuGet.Config", ReadyToRunPublish.ProjectFile];

    private static readonly HashSet<string> OutputDirs = new(StringComparer.Ordinal) { "bin", "obj" };

    private static string StampPath(AppHostPaths paths) => Path.Combine(paths.Repo, "artifacts", "publish", ".inputs");

    /// <summary>A hash of every input file's relative path, length and last write time, and of the SDK that builds them.</summary>
    public static string Fingerprint(string repo)
    {
        var lines = new List<string> { RuntimeInformation.FrameworkDescription, RuntimeInformation.RuntimeIdentifier };
        foreach (var dir in SourceDirs.Select(d => Path.Combine(repo, d)).Where(Directory.Exists))
        {
            Collect(repo, new DirectoryInfo(dir), lines);
        }
        foreach (var file in SourceFiles.Select(f => new FileInfo(Path.Combine(repo, f))).Where(f => f.Exists))
        {
            lines.Add(Describe(repo, file));
        }
        lines.Sort(StringComparer.Ordinal);
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', lines))));
    }

    /// <summary>True when the last successful publish was of exactly these inputs.</summary>
    public static bool UpToDate(AppHostPaths paths, string fingerprint) =>
        File.Exists(StampPath(paths)) && File.ReadAllText(StampPath(paths)).Trim() == fingerprint;

    public static void Record(AppHostPaths paths, string fingerprint)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(StampPath(paths))!);
        File.WriteAllText(StampPath(paths), fingerprint);
    }

    private static void Collect(string repo, DirectoryInfo dir, List<string> lines)
    {
        foreach (var file in dir.EnumerateFiles())
        {
            lines.Add(Describe(repo, file));
        }
        foreach (var sub in dir.EnumerateDirectories())
        {
            if (!OutputDirs.Contains(sub.Name) && !sub.Name.StartsWith('.'))
            {
                Collect(repo, sub, lines);
            }
        }
    }

    private static string Describe(string repo, FileInfo file) =>
        $"{Path.GetRelativePath(repo, file.FullName)}\t{file.Length}\t{file.LastWriteTimeUtc.Ticks}";
}
