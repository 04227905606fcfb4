using PlugAndCharge.Contracts.Signing;
using PlugAndCharge.Exi;

namespace PlugAndCharge.Contracts.Installation;

/// <summary>The contract material of a -2 response: chain (leaf, Sub-CA 2, Sub-CA 1), encrypted key, DH key, EMAID.</summary>
internal sealed record Iso2ContractMaterial(byte[] Certificate, IReadOnlyList<byte[]> SubCertificates, byte[] EncryptedPrivateKey, byte[] DhPublicKey, string Emaid);

/// <summary>
/// Assembles and signs ISO 15118-2 CertificateInstallationRes / CertificateUpdateRes. The four signed elements carry
/// Ids id1..id4 (ContractSignatureCertChain, ContractSignatureEncryptedPrivateKey, DHpublickey, eMAID); the header
/// signature is by the CPS leaf. A failure still answers the full message (chargers crash on empty answers), with
/// placeholder content that satisfies the schema, signed whenever any CPS signer exists.
/// </summary>
internal static class Iso2ResponseBuilder
{
    private static readonly string[] SignedIds = ["id1", "id2", "id3", "id4"];
    private const string PlaceholderEmaid = "ZZ000000000000";

    public static async Task<byte[]> BuildAsync(bool update, byte[] sessionId, string responseCode, CpsSigner? signer, Iso2ContractMaterial? material, short? retryCounter, CancellationToken ct)
    {
        var header = new ExiElement(Iso2Names.Header);
        header.Add(new ExiElement(Iso2Names.SessionId, ExiValue.FromBytes(sessionId, hex: true)));

        var res = new ExiElement(update ? Iso2Names.UpdateRes : Iso2Names.InstallationRes);
        res.Add(new ExiElement(Iso2Names.ResponseCode, ExiValue.FromString(responseCode)));
        res.Add(Chain(Iso2Names.SaProvisioningCertificateChain, signer?.LeafDer ?? [0], signer?.SubCaDers ?? [], null));
        res.Add(Chain(Iso2Names.ContractSignatureCertChain, material?.Certificate ?? [0], material?.SubCertificates ?? [], "id1"));
        res.Add(new ExiElement(Iso2Names.ContractSignatureEncryptedPrivateKey, ExiValue.FromBytes(material?.EncryptedPrivateKey ?? [0])).SetAttribute(Iso2Names.DataTypesId, "id2"));
        res.Add(new ExiElement(Iso2Names.DhPublicKey, ExiValue.FromBytes(material?.DhPublicKey ?? [0])).SetAttribute(Iso2Names.DataTypesId, "id3"));
        res.Add(new ExiElement(Iso2Names.Emaid, ExiValue.FromString(material?.Emaid ?? PlaceholderEmaid)).SetAttribute(Iso2Names.DataTypesId, "id4"));
        if (update && retryCounter is { } retry) res.Add(new ExiElement(Iso2Names.RetryCounter, ExiValue.FromInteger(retry)));

        var message = new ExiElement(Iso2Names.V2GMessage);
        message.Add(header);
        message.Add(new ExiElement(Iso2Names.Body).Add(res));
        if (signer != null) await ExiResponseSigner.SignAsync(ExiSchema.Iso2, message, header, SignedIds, signer, ct);
        return ExiSchema.Iso2.Encode(message);
    }

    private static ExiElement Chain(QName name, byte[] leaf, IReadOnlyList<byte[]> subs, string? id)
    {
        var chain = new ExiElement(name);
        if (id != null) chain.SetAttribute(Iso2Names.DataTypesId, id);
        chain.Add(new ExiElement(Iso2Names.Certificate, ExiValue.FromBytes(leaf)));
        if (subs.Count > 0)
        {
            var s = new ExiElement(Iso2Names.SubCertificates);
            foreach (var sub in subs) s.Add(new ExiElement(Iso2Names.Certificate, ExiValue.FromBytes(sub)));
            chain.Add(s);
        }
        return chain;
    }
}
