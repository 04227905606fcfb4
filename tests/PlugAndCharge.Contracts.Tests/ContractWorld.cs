using System.Security.Cryptography;
using Org.BouncyCastle.X509;
using PlugAndCharge.Contracts.Contracts;
using PlugAndCharge.Contracts.Pools;
using PlugAndCharge.Contracts.Signing;
using PlugAndCharge.TestSupport.Vehicles;
using PlugAndCharge.Pki;
using PlugAndCharge.Pki.Authorities;
using PlugAndCharge.Pki.Keys;
using PlugAndCharge.TestSupport;

namespace PlugAndCharge.Contracts.Tests;

/// <summary>
/// A complete development world: the iso2 and iso20 hierarchies of an in-memory CA, the roots registered in the pool
/// (the OEM root for OEM "oem-1" with WMI PNC), CPS signers, and contract services with a key-encryption key.
/// </summary>
public sealed class ContractWorld
{
    public const string Oem = "oem-1";
    public const string Wmi = "PNC";
    public static readonly ContractOwner Emsp = new("emsp-1", ["DE8AA", "DE8AB"]);

    public CertificateAuthorityServices Ca { get; }
    public ContractServices Services { get; }
    public X509Certificate V2GRoot2 { get; private set; } = null!;
    public X509Certificate V2GRoot20 { get; private set; } = null!;
    public X509Certificate MoRoot2 { get; private set; } = null!;
    private int _vehicles;

    private ContractWorld(CertificateAuthorityServices ca, ContractServices services) { Ca = ca; Services = services; }

    public static ContractOptions Options() => new() { KeyEncryptionKey = RandomNumberGenerator.GetBytes(32) };

    public static async Task<ContractWorld> CreateAsync(CertificateAuthorityServices? ca = null, Func<CertificateAuthorityServices, ContractServices>? compose = null, bool createHierarchy = true)
    {
        ca ??= CertificateAuthorityServices.InMemory();
        var scheme = ca.Keys.Schemes.Contains("memory") ? "memory" : "file";
        if (createHierarchy)
        {
            await DevelopmentHierarchy.CreateAsync(ca.Hierarchy, ca.CaStore, "iso2", scheme, KeyAlgorithm.EcP256, "test");
            await DevelopmentHierarchy.CreateAsync(ca.Hierarchy, ca.CaStore, "iso20", scheme, KeyAlgorithm.EcP521, "test");
        }
        var services = compose?.Invoke(ca) ?? ContractServices.InMemory(ca, Options());
        var world = new ContractWorld(ca, services);
        await world.RegisterAsync(scheme);
        return world;
    }

    private async Task RegisterAsync(string scheme)
    {
        async Task<X509Certificate> Root(string id, RootType type, string? owner, string[]? wmis)
        {
            var cert = (await Ca.Authorities.GetAsync(id)).Certificate;
            await Services.Roots.AddAsync(cert.GetEncoded(), type, owner, wmis, "test");
            return cert;
        }
        V2GRoot2 = await Root("iso2-v2g-root", RootType.V2G, null, null);
        V2GRoot20 = await Root("iso20-v2g-root", RootType.V2G, null, null);
        MoRoot2 = await Root("iso2-mo-root", RootType.MO, null, null);
        await Root("iso20-mo-root", RootType.MO, null, null);
        await Root("iso2-oem-root", RootType.OEM, Oem, [Wmi]);
        await Root("iso20-oem-root", RootType.OEM, Oem, [Wmi]);
        Services.Signers.Add(await CpsSigner.IssueAsync(Ca, "iso2-cps-subca2", $"{scheme}:cps-leaf-iso2-{Guid.NewGuid():N}.p8", "CN=CPS Leaf,O=PlugAndCharge Dev,DC=CPS", "test"));
        Services.Signers.Add(await CpsSigner.IssueAsync(Ca, "iso20-cps-subca2", $"{scheme}:cps-leaf-iso20-{Guid.NewGuid():N}.p8", "CN=CPS Leaf 20,O=PlugAndCharge Dev,DC=CPS", "test"));
    }

    public string NextPcid() => $"{Wmi}{Interlocked.Increment(ref _vehicles) + Random.Shared.Next(1_000_000) * 1000:D14}";

    /// <summary>A vehicle with a provisioning certificate from our OEM Sub-CA 2, not yet in the pool.</summary>
    public Task<VehicleSimulator> NewVehicleAsync(IsoStandard standard = IsoStandard.Iso15118_2, string? pcid = null, bool ed448 = false) =>
        VehicleSimulator.CreateAsync(Ca, standard == IsoStandard.Iso15118_2 ? "iso2-oem-subca2" : "iso20-oem-subca2", pcid ?? NextPcid(),
            [standard == IsoStandard.Iso15118_2 ? V2GRoot2 : V2GRoot20], ed448);

    /// <summary>A vehicle in the pool (-20: of the Ed448 family when <paramref name="ed448"/>).</summary>
    public async Task<VehicleSimulator> RegisteredVehicleAsync(IsoStandard standard = IsoStandard.Iso15118_2, bool ed448 = false)
    {
        var v = await NewVehicleAsync(standard, ed448: ed448);
        await Services.Vehicles.AddAsync(Oem, new ProvisioningCertificateUpload(v.ProvisioningCertificate, v.ProvisioningSubCas[0], v.ProvisioningSubCas[1]), "test");
        return v;
    }

    /// <summary>A vehicle in the pool with one default contract bound.</summary>
    public async Task<(VehicleSimulator Vehicle, Contract Contract)> VehicleWithContractAsync(IsoStandard standard = IsoStandard.Iso15118_2, bool ed448 = false)
    {
        var v = await RegisteredVehicleAsync(standard, ed448);
        var c = await Services.Contracts.BindAsync(Emsp, new ContractBinding { Pcid = v.Pcid }, "test");
        return (v, c);
    }
}
