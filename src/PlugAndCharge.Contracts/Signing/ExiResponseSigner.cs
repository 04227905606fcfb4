using PlugAndCharge.Exi;
using PlugAndCharge.Pki.Keys;

namespace PlugAndCharge.Contracts.Signing;

/// <summary>
/// Signs the Id-carrying elements of a response with a CPS key: one Reference per element (digest of its EXI
/// fragment), SignedInfo encoded with the xmldsig grammar and signed through <see cref="ISigningKey"/> as raw r‖s,
/// the ds:Signature appended to the message Header. The key may live in an HSM: it only ever sees SignedInfo.
/// </summary>
public static class ExiResponseSigner
{
    private static readonly QName Signature = new(ExiSignature.DsNamespace, "Signature");
    private static readonly QName SignatureValue = new(ExiSignature.DsNamespace, "SignatureValue");

    public static async Task SignAsync(ExiSchema schema, ExiElement message, ExiElement header, IReadOnlyList<string> ids, CpsSigner signer, CancellationToken ct)
    {
        var digest = signer.DigestMethod;
        var refs = new List<(string, byte[])>(ids.Count);
        foreach (var id in ids)
        {
            var element = message.FindById(id) ?? throw new InvalidOperationException($"No element with Id '{id}' to sign.");
            refs.Add((id, ExiSignature.ComputeDigest(schema, element, digest)));
        }
        var signedInfo = ExiSignature.BuildSignedInfo(refs, signer.SignatureMethod, digest);
        var value = await signer.Key.SignAsync(ExiSignature.EncodeSignedInfo(signedInfo), SignatureFormat.RawRs, ct);
        var sig = new ExiElement(Signature);
        sig.Add(signedInfo);
        sig.Add(new ExiElement(SignatureValue, ExiValue.FromBytes(value)));
        header.Add(sig);
    }
}
