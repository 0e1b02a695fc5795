using System.Diagnostics;
using System.Net.Sockets;

namespace MissionControl.Testing;

/// <summary>Whether a Docker engine answers (for Testcontainers), asked once per process, in at most ~5 s.</summary>
public static class DockerProbe
{
    private static readonly Lazy<Task<bool>> Answer = new(ProbeAsync);

    public static Task<bool> IsAvailableAsync() => Answer.Value;

    private static async Task<bool> ProbeAsync()
    {
        const string socket = "/var/run/docker.sock";
        var dockerHost = Environment.GetEnvironmentVariable("DOCKER_HOST");
        if (string.IsNullOrEmpty(dockerHost) && !File.Exists(socket))
        {
            return false;
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            // The CLI knows about DOCKER_HOST and contexts; without it, see whether the socket accepts.
            var psi = new ProcessStartInfo("docker") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add("info");
            psi.ArgumentList.Add("--format");
            psi.ArgumentList.Add("{{.ServerVersion}}");
            using var process = Process.Start(psi)!;
            var drain = Task.WhenAll(process.StandardOutput.ReadToEndAsync(timeout.Token), process.StandardError.ReadToEndAsync(timeout.Token));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
                await drain;
                return process.ExitCode == 0;
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                return false;
            }
        }
        catch (System.ComponentModel.Win32Exception) // no docker CLI
        {
            if (!File.Exists(socket))
            {
                return false;
            }
            using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await probe.ConnectAsync(new UnixDomainSocketEndPoint(socket), timeout.Token);
                return true;
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                return false;
            }
        }
    }
}
