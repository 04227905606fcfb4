using PlugAndCharge.Contracts.Contracts;
using PlugAndCharge.Contracts.Crypto;
using PlugAndCharge.Contracts.Signing;
using PlugAndCharge.Exi;

namespace PlugAndCharge.Contracts.Installation;

/// <summary>The contract material of a -20 response: the contract chain and its key encrypted for the vehicle.</summary>
internal sealed record Iso20ContractMaterial(ContractCertificate Certificate, EncryptedContractKey Key);

/// <summary>
/// Assembles and signs ISO 15118-20 CertificateInstallationRes: one signed element, SignedInstallationData (Id id1),
/// signed by the CPS leaf in the header. A failure still answers the full message with placeholder content of the
/// schema's fixed sizes, signed whenever any CPS signer exists.
/// </summary>
internal static class Iso20ResponseBuilder
{
    private static readonly string[] SignedIds = ["id1"];

    public static async Task<byte[]> BuildAsync(byte[] sessionId, DateTimeOffset now, string responseCode, CpsSigner? signer, Iso20ContractMaterial? material, int remaining,
        CancellationToken ct)
    {
        var header = new ExiElement(Iso20Names.Header);
        header.Add(new ExiElement(Iso20Names.SessionId, ExiValue.FromBytes(sessionId, hex: true)));
        header.Add(new ExiElement(Iso20Names.TimeStamp, ExiValue.FromInteger(now.ToUnixTimeSeconds())));
        var res = new ExiElement(Iso20Names.InstallationRes);
        res.Add(header);
        res.Add(new ExiElement(Iso20Names.ResponseCode, ExiValue.FromString(responseCode)));
        res.Add(new ExiElement(Iso20Names.EvseProcessing, ExiValue.FromString("Finished")));
        res.Add(Chain(Iso20Names.CpsCertificateChain, signer?.LeafDer ?? [0], signer?.SubCaDers ?? []));
        var data = new ExiElement(Iso20Names.SignedInstallationData).SetAttribute(Iso20Names.Id, "id1");
        // ContractCertificateChain requires SubCertificates; a failure fills the fixed-length fields with zeros.
        var certificate = material?.Certificate;
        data.Add(Chain(Iso20Names.ContractCertificateChain, certificate?.Der ?? [0], certificate?.SubCaDers is { Count: > 0 } s ? s : [[0]]));
        var key = material?.Key;
        var x448 = key?.EcdhCurve == "X448";
        // ECDHCurve names the curve of the agreement [V2G20-2487], [V2G20-2488]; DHPublicKey is 133 bytes for SECP521
        // and 57 for X448, never filled up to 133 ([V2G20-2489], NOTE 6/7, [V2G20-2495]).
        data.Add(new ExiElement(Iso20Names.EcdhCurve, ExiValue.FromString(x448 ? "X448" : "SECP521")));
        data.Add(new ExiElement(Iso20Names.DhPublicKey, ExiValue.FromBytes(key?.DhPublicKey ?? new byte[133])));
        data.Add(new ExiElement(x448 ? Iso20Names.X448EncryptedPrivateKey : Iso20Names.Secp521EncryptedPrivateKey, ExiValue.FromBytes(key?.EncryptedPrivateKey ?? new byte[94])));
        res.Add(data);
        res.Add(new ExiElement(Iso20Names.RemainingContractCertificateChains, ExiValue.FromInteger(Math.Clamp(remaining, 0, 255))));
        if (signer != null) await ExiResponseSigner.SignAsync(ExiSchema.Iso20, res, header, SignedIds, signer, ct);
        return ExiSchema.Iso20.Encode(res);
    }

    private static ExiElement Chain(QName name, byte[] leaf, IReadOnlyList<byte[]> subs)
    {
        var chain = new ExiElement(name);
        chain.Add(new ExiElement(Iso20Names.Certificate, ExiValue.FromBytes(leaf)));
        if (subs.Count > 0)
        {
            var s = new ExiElement(Iso20Names.SubCertificates);
            foreach (var sub in subs) s.Add(new ExiElement(Iso20Names.Certificate, ExiValue.FromBytes(sub)));
            chain.Add(s);
        }
        return chain;
    }
}
