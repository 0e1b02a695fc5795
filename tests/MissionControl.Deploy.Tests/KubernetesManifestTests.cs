using System.Diagnostics;
using Xunit;

namespace MissionControl.Deploy.Tests;

/// <summary>
/// Renders deploy/kubernetes (base and overlays) and validates every object against the Kubernetes
/// schemas, strictly, and checks that each project of AppHost/LaunchConfiguration.cs gets every setting
/// it reads. Offline: the schemas come from the kubernetes-models npm package (installed on first run).
/// </summary>
public sealed class KubernetesManifestTests
{
    [Fact]
    public void Manifests_render_validate_and_provide_every_setting()
    {
        var dir = Path.Combine(RepoRoot(), "deploy", "kubernetes");
        if (!Directory.Exists(Path.Combine(dir, "node_modules", "kubernetes-models")))
        {
            var install = Run("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], dir, TimeSpan.FromMinutes(5));
            Assert.True(install.ExitCode == 0, $"npm ci in deploy/kubernetes failed:\n{install.Output}");
        }
        var result = Run("node", ["validate.mjs"], dir, TimeSpan.FromSeconds(60));
        Assert.True(result.ExitCode == 0, $"deploy/kubernetes/validate.mjs failed:\n{result.Output}");
        Assert.Contains("OK:", result.Output);
    }

    private static (int ExitCode, string Output) Run(string file, string[] args, string dir, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"{file} timed out after {timeout}");
        }
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "MissionControl.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("MissionControl.sln not found above " + AppContext.BaseDirectory);
    }
}
