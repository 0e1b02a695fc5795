namespace MissionControl.Edge.Protection;

/// <summary>
/// MC_ALLOWED_HOSTS: the Host names the edge answers (DNS rebinding, Host header attacks). Patterns:
/// <c>mission-control.example.com</c> exactly, <c>*.example.com</c> any subdomain (not example.com
/// itself), <c>192.168.*</c> any host that starts with <c>192.168.</c>. Compared without the port (an
/// IPv6 address without its brackets), ignoring case. Empty allows every host (the development
/// default); once set, localhost and 127.0.0.1 are refused unless listed too.
/// </summary>
public sealed class HostAllowlist(IEnumerable<string> patterns)
{
    private readonly string[] _patterns = patterns.Select(p => p.Trim().ToLowerInvariant()).Where(p => p.Length > 0).ToArray();

    public bool AllowsAny => _patterns.Length == 0;

    /// <param name="host">The Host header's name, without its port.</param>
    public bool IsAllowed(string? host)
    {
        if (AllowsAny) return true;
        if (string.IsNullOrEmpty(host)) return false;
        // "[::1]" (an IPv6 Host) is listed as ::1; "example.com." (fully qualified) as example.com.
        host = host.Trim('[', ']').TrimEnd('.').ToLowerInvariant();
        foreach (var pattern in _patterns)
        {
            if (pattern.StartsWith("*.", StringComparison.Ordinal))
            {
                // ".example.com" must be a proper suffix: a.example.com yes, example.com and badexample.com no.
                if (host.Length > pattern.Length - 1 && host.EndsWith(pattern[1..], StringComparison.Ordinal)) return true;
            }
            else if (pattern.EndsWith('*'))
            {
                if (host.StartsWith(pattern[..^1], StringComparison.Ordinal)) return true;
            }
            else if (host == pattern)
            {
                return true;
            }
        }
        return false;
    }
}
