using PlugAndCharge.Pki.Keys;
using PlugAndCharge.Pki.Stores;

namespace PlugAndCharge.Pki.Authorities;

/// <summary>
/// The development PKI of <c>pnc pki init</c>: V2G root with CPO and CPS sub-CAs, an MO root with MO sub-CAs, an OEM
/// root with OEM sub-CAs (ISO 15118-2 Annex F shape), and a delegated OCSP signer for every CA.
/// </summary>
public static class DevelopmentHierarchy
{
    public sealed record Node(string Id, string Profile, string? Parent, string Subject);

    /// <param name="standard">iso2 (P-256) or iso20 (P-521 or Ed448).</param>
    public static IReadOnlyList<Node> Layout(string standard, string organization = "PlugAndCharge Dev")
    {
        string Id(string s) => $"{standard}-{s}";
        string P(string s) => $"{standard}/{s}";
        var suffix = standard == "iso2" ? "" : " (-20)";
        return
        [
            new(Id("v2g-root"), P("v2g-root"), null, $"CN=V2G Root CA{suffix},O={organization},C=DE,DC=V2G"),
            new(Id("cpo-subca1"), P("cpo-subca1"), Id("v2g-root"), $"CN=CPO Sub-CA 1{suffix},O={organization},C=DE,DC=V2G"),
            new(Id("cpo-subca2"), P("cpo-subca2"), Id("cpo-subca1"), $"CN=CPO Sub-CA 2{suffix},O={organization},C=DE,DC=V2G"),
            new(Id("cps-subca1"), P("cps-subca1"), Id("v2g-root"), $"CN=CPS Sub-CA 1{suffix},O={organization},C=DE,DC=V2G"),
            new(Id("cps-subca2"), P("cps-subca2"), Id("cps-subca1"), $"CN=CPS Sub-CA 2{suffix},O={organization},C=DE,DC=V2G"),
            new(Id("mo-root"), P("mo-root"), null, $"CN=MO Root CA{suffix},O={organization},C=DE,DC=MO"),
            new(Id("mo-subca1"), P("mo-subca1"), Id("mo-root"), $"CN=MO Sub-CA 1{suffix},O={organization},C=DE,DC=MO"),
            new(Id("mo-subca2"), P("mo-subca2"), Id("mo-subca1"), $"CN=MO Sub-CA 2{suffix},O={organization},C=DE,DC=MO"),
            new(Id("oem-root"), P("oem-root"), null, $"CN=OEM Root CA{suffix},O={organization},C=DE,DC=OEM"),
            new(Id("oem-subca1"), P("oem-subca1"), Id("oem-root"), $"CN=OEM Sub-CA 1{suffix},O={organization},C=DE,DC=OEM"),
            new(Id("oem-subca2"), P("oem-subca2"), Id("oem-subca1"), $"CN=OEM Sub-CA 2{suffix},O={organization},C=DE,DC=OEM"),
        ];
    }

    /// <summary>Creates what is missing of the layout (idempotent: an existing CA is kept); <paramref name="keyScheme"/> is a <see cref="KeyLocation"/>.</summary>
    public static async Task<IReadOnlyList<string>> CreateAsync(HierarchyBuilder builder, ICertificateAuthorityStore store, string standard, string keyScheme, KeyAlgorithm algorithm, string actor, CancellationToken ct = default)
    {
        var created = new List<string>();
        foreach (var n in Layout(standard))
        {
            var existing = await store.GetAsync(n.Id, ct);
            if (existing != null)
            {
                if (existing.OcspSignerSerial == null) await builder.CreateOcspSignerAsync(n.Id, KeyLocation.NewKeyUri(keyScheme, $"{n.Id}-ocsp-{Guid.NewGuid():N}"), actor, ct);
                continue;
            }
            var keyUri = KeyLocation.NewKeyUri(keyScheme, $"{n.Id}-{Guid.NewGuid():N}");
            if (n.Parent == null) await builder.CreateRootAsync(n.Id, n.Profile, n.Subject, keyUri, algorithm, actor, ct);
            else await builder.CreateSubCaAsync(n.Id, n.Profile, n.Parent, n.Subject, keyUri, algorithm, null, actor, ct);
            await builder.CreateOcspSignerAsync(n.Id, KeyLocation.NewKeyUri(keyScheme, $"{n.Id}-ocsp-{Guid.NewGuid():N}"), actor, ct);
            created.Add(n.Id);
        }
        return created;
    }
}
