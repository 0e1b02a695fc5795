using System.Net;

namespace MissionControl.Edge.Protection;

/// <summary>
/// The client's IP, the key of the rate limits. X-Forwarded-For is anyone's to write, so it is believed
/// only when the socket peer is a trusted proxy (MC_TRUSTED_PROXIES), and then only its right-most
/// address that is not itself a trusted proxy: the left part is whatever the client chose to send.
/// </summary>
public sealed class ClientAddress
{
    private readonly IPNetwork[] _trusted;

    public ClientAddress(IEnumerable<string> trustedProxies)
    {
        _trusted = trustedProxies.Select(Parse).ToArray();
    }

    public bool HasTrustedProxies => _trusted.Length > 0;

    public bool IsTrusted(IPAddress address)
    {
        address = Normalize(address);
        foreach (var network in _trusted)
            if (network.Contains(address)) return true;
        return false;
    }

    /// <summary>The client of <paramref name="context"/>, computed once per request.</summary>
    public string Of(HttpContext context)
    {
        if (context.Items.TryGetValue(typeof(ClientAddress), out var cached) && cached is string known) return known;
        var client = Resolve(context.Connection.RemoteIpAddress, context.Request.Headers["X-Forwarded-For"]).ToString();
        context.Items[typeof(ClientAddress)] = client;
        return client;
    }

    public IPAddress Resolve(IPAddress? peer, IEnumerable<string?> forwardedFor)
    {
        // No socket peer (in-memory test servers): one shared bucket rather than none.
        var current = Normalize(peer ?? IPAddress.IPv6None);
        if (!IsTrusted(current)) return current;
        // Right to left: each hop was appended by the proxy to its right, which we trust so far.
        var hops = forwardedFor.SelectMany(v => (v ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).ToArray();
        for (var i = hops.Length - 1; i >= 0; i--)
        {
            if (!TryParseHop(hops[i], out var hop)) return current; // junk: stop at the last proxy we trust
            current = hop;
            if (!IsTrusted(hop)) return hop;
        }
        return current;
    }

    private static bool TryParseHop(string hop, out IPAddress address)
    {
        if (IPAddress.TryParse(hop, out address!) || (IPEndPoint.TryParse(hop, out var endpoint) && (address = endpoint.Address) is not null))
        {
            address = Normalize(address);
            return true;
        }
        return false;
    }

    /// <summary>::ffff:10.0.0.1 (a dual-stack socket's IPv4 peer) is 10.0.0.1.</summary>
    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private static IPNetwork Parse(string entry)
    {
        if (IPNetwork.TryParse(entry, out var network)) return network;
        if (IPAddress.TryParse(entry, out var address))
        {
            address = Normalize(address);
            return new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
        }
        throw new InvalidOperationException($"MC_TRUSTED_PROXIES: \"{entry}\" is neither an IP address nor a CIDR range (e.g. 10.0.0.0/8).");
    }
}
