using System.Text.RegularExpressions;

namespace MissionControl.LocalServers;

/// <summary>
/// A view of the installed RabbitMQ with only the Erlang applications the broker itself needs.
/// The package puts all of its ~60 plugins on the code path (ERL_LIBS = $RABBITMQ_HOME/plugins), and
/// Erlang looks every module up along that path: a private node enables no plugin, and with the 20
/// applications that <c>rabbit</c> depends on instead of all of them it boots in 3.4–4.1 s on 3.7–4.1 s of
/// CPU instead of 4.3–6.7 s on 5.0–7.1 s (measured side by side on a 2-core machine).
/// The view is a directory of symbolic links: <c>sbin/</c> (the package's scripts, which take
/// RABBITMQ_HOME to be their parent when RABBITMQ_SCRIPTS_DIR points there), <c>escript</c> and
/// <c>plugins/</c>.
/// </summary>
internal static partial class RabbitMqCoreInstall
{
    private const string RootApplication = "rabbit";
    private const UnixFileMode ReadableByAll = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
        UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    /// <summary>
    /// Writes the view into <paramref name="dir"/> (replacing what was there) and returns its scripts dir,
    /// or null when the installation is not laid out as expected (then the package's script runs as is).
    /// </summary>
    public static string? Prepare(string serverScript, string dir)
    {
        if (OperatingSystem.IsWindows() || !File.Exists(serverScript))
        {
            return null;
        }
        var script = File.ResolveLinkTarget(serverScript, returnFinalTarget: true)?.FullName ?? Path.GetFullPath(serverScript);
        if (Path.GetDirectoryName(script) is not { } sbin || Path.GetDirectoryName(sbin) is not { } home)
        {
            return null;
        }
        var plugins = Path.Combine(home, "plugins");
        if (!Directory.Exists(plugins) || RequiredApplications(plugins) is not { Count: > 0 } required)
        {
            return null;
        }
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true); // links only: nothing of the package is touched
        }
        var view = new[] { dir, Path.Combine(dir, "sbin"), Path.Combine(dir, "plugins") };
        foreach (var d in view)
        {
            Directory.CreateDirectory(d, ReadableByAll); // the broker's user only reads it
        }
        foreach (var file in Directory.GetFiles(sbin))
        {
            File.CreateSymbolicLink(Path.Combine(dir, "sbin", Path.GetFileName(file)), file);
        }
        if (Directory.Exists(Path.Combine(home, "escript")))
        {
            Directory.CreateSymbolicLink(Path.Combine(dir, "escript"), Path.Combine(home, "escript"));
        }
        foreach (var app in required)
        {
            Directory.CreateSymbolicLink(Path.Combine(dir, "plugins", Path.GetFileName(app)), app);
        }
        return Path.Combine(dir, "sbin");
    }

    /// <summary>
    /// The application dirs under <paramref name="plugins"/> that <c>rabbit</c> needs, itself included:
    /// the closure of the <c>applications</c> lists of their <c>ebin/*.app</c> files (applications of
    /// Erlang/OTP itself are not under plugins and are left to the code path as before). Empty when
    /// <c>rabbit</c> is not there.
    /// </summary>
    internal static List<string> RequiredApplications(string plugins)
    {
        var apps = new Dictionary<string, (string Dir, string[] Needs)>();
        foreach (var appDir in Directory.GetDirectories(plugins).Where(d => Directory.Exists(Path.Combine(d, "ebin"))))
        {
            foreach (var appFile in Directory.GetFiles(Path.Combine(appDir, "ebin"), "*.app").Take(1))
            {
                var needs = ApplicationsList().Match(File.ReadAllText(appFile)) is { Success: true } m
                    ? m.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    : [];
                apps[Path.GetFileNameWithoutExtension(appFile)] = (appDir, needs);
            }
        }
        var required = new List<string>();
        var seen = new HashSet<string>();
        var pending = new Stack<string>([RootApplication]);
        while (pending.TryPop(out var name))
        {
            if (!seen.Add(name) || !apps.TryGetValue(name, out var app))
            {
                continue;
            }
            required.Add(app.Dir);
            foreach (var need in app.Needs)
            {
                pending.Push(need);
            }
        }
        return required;
    }

    [GeneratedRegex(@"\{\s*applications\s*,\s*\[([^\]]*)\]")]
    private static partial Regex ApplicationsList();
}
