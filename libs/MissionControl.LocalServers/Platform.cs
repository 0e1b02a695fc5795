using System.Diagnostics;

namespace MissionControl.LocalServers;

/// <summary>Small Unix helpers: who we are, which users exist, running a short command.</summary>
internal static class Platform
{
    public static bool IsRoot => Environment.IsPrivilegedProcess;

    public static void EnsureLinux()
    {
        if (!OperatingSystem.IsLinux())
        {
            throw LocalServerUnavailableException.NotLinux();
        }
    }

    public static bool UserExists(string user) =>
        File.Exists("/etc/passwd") && File.ReadLines("/etc/passwd").Any(line => line.StartsWith(user + ":", StringComparison.Ordinal));

    /// <summary>The full path of an executable on PATH (or in the usual sbin dirs), or null.</summary>
    public static string? Which(string name)
    {
        var dirs = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]);
        return dirs.Select(dir => Path.Combine(dir, name)).FirstOrDefault(File.Exists);
    }

    /// <summary>
    /// The servers' data must belong to the user they run as: when we are root, chown the work dir to
    /// <paramref name="user"/> and check that user can actually reach and write it (every parent dir
    /// must be searchable by it).
    /// </summary>
    public static async Task HandOverAsync(string dir, string? user, CancellationToken ct)
    {
        if (user is null || !IsRoot)
        {
            return;
        }
        var (code, output) = await RunAsync("chown", ["-R", $"{user}:", dir], ct);
        if (code != 0)
        {
            throw new InvalidOperationException($"chown -R {user}: {dir} failed: {output}");
        }
        (code, _) = await RunAsync("setpriv", [$"--reuid={user}", $"--regid={user}", "--init-groups", "--", "test", "-w", dir, "-a", "-x", dir], ct);
        if (code != 0)
        {
            throw new InvalidOperationException(
                $"The '{user}' user cannot reach {dir} (a parent directory is not searchable by others). " +
                "Use a work directory under /tmp, or `chmod o+x` its parents.");
        }
    }

    public static async Task<(int ExitCode, string Output)> RunAsync(
        string file, IEnumerable<string> args, CancellationToken ct, IReadOnlyDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[name] = value;
        }
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }
        using var process = Process.Start(psi)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        try
        {
            await process.WaitForExitAsync(ct);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return (process.ExitCode, (await stdout + await stderr).Trim());
    }

    public static string RandomToken(int length)
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        return string.Create(length, 0, (span, _) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = alphabet[System.Security.Cryptography.RandomNumberGenerator.GetInt32(alphabet.Length)];
            }
        });
    }
}
