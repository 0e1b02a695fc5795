using System.Runtime.InteropServices;

namespace MissionControl.AppHost;

/// <summary>
/// The Release start runs the services and the edge from a ReadyToRun publish (PublishApps.proj):
/// their code, MassTransit's, EF Core's and the rest come compiled ahead of time, so the five services
/// starting together on two cores spend far less time in the JIT, and less memory holds JIT output.
/// Each app is published to a folder of its own; the identical files among them (the same library,
/// compiled the same way) are then hard-linked to one copy, so the kernel keeps their pages once.
/// </summary>
internal static class ReadyToRunPublish
{
    public const string ProjectFile = "AppHost/ReadyToRun/PublishApps.proj";
    private const string TemporarySuffix = ".link";

    public static string Directory(AppHostPaths paths, string assemblyName) =>
        Path.Combine(paths.Repo, "artifacts", "publish", assemblyName, $"release_{RuntimeInformation.RuntimeIdentifier}");

    public static string DllPath(AppHostPaths paths, string assemblyName) =>
        Path.Combine(Directory(paths, assemblyName), assemblyName + ".dll");

    /// <summary>
    /// `dotnet` arguments that publish every app (incremental: a second run compiles nothing).
    /// PublishReadyToRun is a global property so that the restore sees it too: only then does it
    /// download the runtime packs that ReadyToRun compiles against (NETSDK1112 on a fresh machine).
    /// </summary>
    public static string[] Arguments(AppHostPaths paths) =>
    [
        "msbuild", Path.Combine(paths.Repo, ProjectFile), "-restore", "-m", "-t:PublishApps", "-p:PublishReadyToRun=true",
        $"-p:RuntimeIdentifier={RuntimeInformation.RuntimeIdentifier}", "-nologo", "-v:minimal", "--disable-build-servers",
    ];

    /// <summary>Hard-links files that are byte for byte the same in several app folders to one of them; returns how many were linked.</summary>
    public static int ShareIdenticalFiles(IEnumerable<string> directories)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return 0;
        var first = new Dictionary<(string Name, long Length), List<string>>();
        var linked = 0;
        foreach (var directory in directories.Where(System.IO.Directory.Exists))
        {
            // Listed before linking: the temporary links below are made in these folders.
            foreach (var file in System.IO.Directory.GetFiles(directory, "*", SearchOption.AllDirectories))
            {
                if (file.EndsWith(TemporarySuffix, StringComparison.Ordinal))
                {
                    File.Delete(file); // left by a start that stopped halfway
                    continue;
                }
                var key = (Path.GetRelativePath(directory, file), new FileInfo(file).Length);
                if (!first.TryGetValue(key, out var candidates)) first[key] = candidates = [];
                if (candidates.Any(c => SameFile(c, file))) continue; // linked by an earlier start
                var same = candidates.FirstOrDefault(c => SameContent(c, file));
                if (same is null)
                {
                    candidates.Add(file);
                    continue;
                }
                // Link beside it, then rename over it: the file is never missing, even if this stops halfway.
                var temporary = file + TemporarySuffix;
                File.Delete(temporary);
                if (link(same, temporary) != 0) continue;
                File.Move(temporary, file, overwrite: true);
                linked++;
            }
        }
        return linked;
    }

    /// <summary>Whether two paths are one file (device and inode); false where that cannot be asked.</summary>
    private static bool SameFile(string a, string b) =>
        OperatingSystem.IsLinux() && FileId(a) is { } x && FileId(b) is { } y && x == y;

    /// <summary>st_dev and st_ino, the first two fields of Linux's struct stat on x86-64 and arm64 alike.</summary>
    private static (long Device, long Inode)? FileId(string path)
    {
        Span<long> buffer = stackalloc long[32]; // struct stat is 128 or 144 bytes
        return stat(path, ref MemoryMarshal.GetReference(buffer)) == 0 ? (buffer[0], buffer[1]) : null;
    }

    private static bool SameContent(string a, string b)
    {
        const int size = 1 << 16;
        using var x = File.OpenRead(a);
        using var y = File.OpenRead(b);
        var bufferX = new byte[size];
        var bufferY = new byte[size];
        while (true)
        {
            var read = x.ReadAtLeast(bufferX, size, throwOnEndOfStream: false);
            if (y.ReadAtLeast(bufferY, size, throwOnEndOfStream: false) != read) return false;
            if (read == 0) return true;
            if (!bufferX.AsSpan(0, read).SequenceEqual(bufferY.AsSpan(0, read))) return false;
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int link(string existing, string created);

    [DllImport("libc", SetLastError = true)]
    private static extern int stat(string path, ref long buffer);
}
