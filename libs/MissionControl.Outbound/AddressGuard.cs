using System.Net;
using System.Net.Sockets;

namespace MissionControl.Outbound;

/// <summary>Resolves an outbound host name to addresses (replaceable, so tests can map a fake name).</summary>
public interface IWebhookHostResolver
{
    Task<IPAddress[]> ResolveAsync(string host, CancellationToken ct);
}

public sealed class DnsWebhookHostResolver : IWebhookHostResolver
{
    public Task<IPAddress[]> ResolveAsync(string host, CancellationToken ct) => Dns.GetHostAddressesAsync(host, ct);
}

/// <summary>An outbound request tried to reach an address it may not (private, loopback, local…, not in the allowed hosts).</summary>
public sealed class AddressNotAllowedException(string message) : Exception(message)
{
    public const string Code = "address_not_allowed";
}

/// <summary>
/// Keeps outbound requests (webhooks, agent callbacks) away from the inside: private, loopback, link-local,
/// CGNAT, unspecified, multicast and unique-local addresses (also IPv4-mapped), and localhost / *.localhost /
/// *.local names, unless the allowed hosts (each service's setting, e.g. Webhooks:AllowedHosts) name the host
/// or the address.
/// </summary>
public sealed class AddressGuard(IReadOnlySet<string> allowedHosts)
{
    /// <summary>"a, [::1], Hooks.Internal" → the set the guard compares with (brackets dropped, case ignored).</summary>
    public static IReadOnlySet<string> ParseHosts(string? hosts) =>
        (hosts ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(h => h.Trim('[', ']')).ToHashSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>Why this address is internal, or null when it is public.</summary>
    public static string? Classify(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return b[0] switch
            {
                0 => "unspecified",
                10 => "private",
                127 => "loopback",
                100 when b[1] >= 64 && b[1] <= 127 => "cgnat",
                169 when b[1] == 254 => "link-local",
                172 when b[1] >= 16 && b[1] <= 31 => "private",
                192 when b[1] == 168 => "private",
                >= 224 and <= 239 => "multicast",
                >= 240 => "reserved",
                _ => null,
            };
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            if (address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.IPv6None)) return "unspecified";
            if (address.Equals(IPAddress.IPv6Loopback)) return "loopback";
            var b = address.GetAddressBytes();
            if (b[0] == 0xff) return "multicast";
            if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return "link-local";
            if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return "site-local";
            if ((b[0] & 0xfe) == 0xfc) return "unique-local";
            // IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) carry an IPv4 address: judge that one.
            if (b.Take(12).All(x => x == 0)) return Classify(new IPAddress(b[12..]));
            if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b[4..12].All(x => x == 0)) return Classify(new IPAddress(b[12..]));
            return null;
        }
        return "unsupported";
    }

    /// <summary>Why this host name is internal (localhost, *.localhost, *.local), or null.</summary>
    public static string? ClassifyName(string host)
    {
        var h = host.TrimEnd('.').ToLowerInvariant();
        return h == "localhost" || h.EndsWith(".localhost", StringComparison.Ordinal) || h.EndsWith(".local", StringComparison.Ordinal) ? "local name" : null;
    }

    public bool IsAllowedHost(string host) => allowedHosts.Contains(Normalize(host));

    public bool IsAllowed(string host, IPAddress address) =>
        IsAllowedHost(host) || Classify(address) is null || allowedHosts.Contains(Unmapped(address).ToString());

    /// <summary>
    /// What the URL itself says (scheme, a literal address, a local name), before any lookup: null when
    /// fine, else the reason. Used at creation and on every redirect hop.
    /// </summary>
    public string? CheckUrl(Uri url)
    {
        if (!url.IsAbsoluteUri || url.Scheme is not ("http" or "https")) return "only http and https URLs are allowed";
        var host = Normalize(url.Host);
        if (IsAllowedHost(host)) return null;
        if (IPAddress.TryParse(host, out var address))
            return Classify(address) is { } why && !allowedHosts.Contains(Unmapped(address).ToString()) ? $"{host} is a {why} address" : null;
        return ClassifyName(host) is { } reason ? $"{host} is a {reason}" : null;
    }

    /// <summary>The addresses of <paramref name="host"/> a webhook may connect to; none allowed is an AddressNotAllowedException.</summary>
    public async Task<IPAddress[]> ResolveAllowedAsync(IWebhookHostResolver resolver, string host, CancellationToken ct)
    {
        host = Normalize(host);
        if (ClassifyName(host) is not null && !IsAllowedHost(host)) throw new AddressNotAllowedException($"{host} is a local name");
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await resolver.ResolveAsync(host, ct);
        var allowed = addresses.Where(a => IsAllowed(host, a)).ToArray();
        if (allowed.Length == 0)
            throw new AddressNotAllowedException(addresses.Length == 0 ? $"{host} has no address" : $"{host} resolves only to addresses that are not allowed");
        return allowed;
    }

    private static string Normalize(string host) => host.Trim('[', ']').TrimEnd('.').ToLowerInvariant();

    private static IPAddress Unmapped(IPAddress a) => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a;
}
