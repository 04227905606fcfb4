using System.Net;

namespace PlugAndCharge.Pki.Validation;

/// <summary>The identity the leaf must present in its subjectAltName (RFC 6125; the subject CN is never consulted).</summary>
public sealed record PeerName
{
    private PeerName(PeerNameKind kind, string? dnsName, IPAddress? address)
    {
        Kind = kind;
        DnsName = dnsName;
        Address = address;
    }

    public PeerNameKind Kind { get; }

    public string? DnsName { get; }

    public IPAddress? Address { get; }

    public static PeerName Dns(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return new PeerName(PeerNameKind.Dns, name, null);
    }

    public static PeerName Ip(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return new PeerName(PeerNameKind.IpAddress, null, address);
    }

    public override string ToString() => Kind == PeerNameKind.Dns ? DnsName! : Address!.ToString();
}
