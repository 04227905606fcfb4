using System.Net;
using System.Net.Sockets;

namespace PlugAndCharge.Core.Outbound;

/// <summary>
/// Which addresses the service may connect to when a participant supplied the URL (OCPI versions and module URLs,
/// forwarded response_url, OEM webhooks, station-named OCSP responders). Public unicast addresses are allowed; loopback,
/// private, shared (CGNAT), link-local (cloud metadata 169.254.169.254), multicast, reserved and unspecified addresses
/// are refused unless the operator allow-lists them, by network (CIDR) or by host name. The check is on the address
/// actually connected to (<see cref="OutboundHttp"/>), after resolution, so DNS cannot rebind a checked name.
/// </summary>
public sealed class OutboundNetworkPolicy
{
    private static readonly IPNetwork[] Internal =
    [
        // IPv4 (RFC 6890 special-purpose registry, the parts that are not the public Internet)
        IPNetwork.Parse("0.0.0.0/8"), IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("100.64.0.0/10"), IPNetwork.Parse("127.0.0.0/8"),
        IPNetwork.Parse("169.254.0.0/16"), IPNetwork.Parse("172.16.0.0/12"), IPNetwork.Parse("192.0.0.0/24"), IPNetwork.Parse("192.0.2.0/24"),
        IPNetwork.Parse("192.168.0.0/16"), IPNetwork.Parse("198.18.0.0/15"), IPNetwork.Parse("198.51.100.0/24"), IPNetwork.Parse("203.0.113.0/24"),
        IPNetwork.Parse("224.0.0.0/4"), IPNetwork.Parse("240.0.0.0/4"),
        // IPv6: unspecified, loopback, discard, documentation, unique local, link-local, site-local, multicast
        IPNetwork.Parse("::/128"), IPNetwork.Parse("::1/128"), IPNetwork.Parse("100::/64"), IPNetwork.Parse("2001:db8::/32"),
        IPNetwork.Parse("fc00::/7"), IPNetwork.Parse("fe80::/10"), IPNetwork.Parse("fec0::/10"), IPNetwork.Parse("ff00::/8"),
    ];

    private readonly IPNetwork[] _allowedNetworks;
    private readonly HashSet<string> _allowedHosts;

    /// <summary>The production default: nothing internal is allowed.</summary>
    public static OutboundNetworkPolicy Default { get; } = new([]);

    /// <summary>
    /// <paramref name="allowed"/>: CIDRs ("127.0.0.0/8", "::1/128"), single addresses, or host names ("ocsp.corp.example")
    /// whose resolved addresses are then all allowed.
    /// </summary>
    public OutboundNetworkPolicy(IEnumerable<string> allowed)
    {
        var networks = new List<IPNetwork>();
        _allowedHosts = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var raw in allowed)
        {
            var entry = raw.Trim();
            if (entry.Length == 0) continue;
            if (IPNetwork.TryParse(entry, out var network)) networks.Add(network);
            else if (IPAddress.TryParse(entry.Trim('[', ']'), out var single)) networks.Add(new IPNetwork(single, single.AddressFamily == AddressFamily.InterNetwork ? 32 : 128));
            else if (Uri.CheckHostName(entry) == UriHostNameType.Dns) _allowedHosts.Add(entry.TrimEnd('.'));
            else throw new ArgumentException($"Outbound allow-list entry '{entry}' is neither a CIDR, an address nor a host name.", nameof(allowed));
        }
        _allowedNetworks = [.. networks];
        Entries = [.. allowed.Select(a => a.Trim()).Where(a => a.Length > 0)];
    }

    /// <summary>Parses a comma-, semicolon- or space-separated list (the PNC_OUTBOUND_ALLOW setting).</summary>
    public static OutboundNetworkPolicy Parse(string? list) =>
        string.IsNullOrWhiteSpace(list) ? Default : new(list.Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    /// <summary>The allow-list as configured.</summary>
    public IReadOnlyList<string> Entries { get; }

    /// <summary>Whether the operator allow-listed this host name (then every address it resolves to is allowed).</summary>
    public bool IsAllowedHost(string host) => _allowedHosts.Contains(host.TrimEnd('.'));

    /// <summary>Whether the service may connect to <paramref name="address"/>.</summary>
    public bool IsAllowed(IPAddress address)
    {
        var a = Canonical(address);
        foreach (var n in _allowedNetworks)
            if (n.Contains(a) || n.Contains(address)) return true;
        return !IsInternal(a);
    }

    /// <summary>Loopback, private, link-local, multicast, reserved: anything that is not a public unicast address.</summary>
    public static bool IsInternal(IPAddress address)
    {
        var a = Canonical(address);
        foreach (var n in Internal)
            if (n.Contains(a)) return true;
        return false;
    }

    /// <summary>
    /// The IPv4 address inside IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96) and 6to4
    /// (2002::/16) IPv6 forms, so that an internal IPv4 address cannot pass dressed as IPv6.
    /// </summary>
    public static IPAddress Canonical(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return address;
        if (address.IsIPv4MappedToIPv6) return address.MapToIPv4();
        var b = address.GetAddressBytes();
        bool Zero(int from, int to) { for (var i = from; i < to; i++) if (b[i] != 0) return false; return true; }
        if (Zero(0, 12) && !(b[12] == 0 && b[13] == 0 && b[14] == 0 && b[15] <= 1)) return new IPAddress(b.AsSpan(12, 4)); // ::a.b.c.d (not :: or ::1)
        if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && Zero(4, 12)) return new IPAddress(b.AsSpan(12, 4));
        if (b[0] == 0x20 && b[1] == 0x02) return new IPAddress(b.AsSpan(2, 4));
        return address;
    }
}

/// <summary>The address a participant-supplied URL leads to is not one the service may connect to.</summary>
public sealed class OutboundAddressRefusedException(string host)
    : IOException($"Address not allowed: {host} is, or resolves to, an internal address that is not on the outbound allow-list.")
{
    public string Host { get; } = host;
}
