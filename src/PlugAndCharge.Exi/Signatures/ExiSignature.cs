using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace PlugAndCharge.Exi;

/// <summary>Outcome of checking one Reference of a signature.</summary>
public sealed record ExiReferenceCheck(string Uri, bool Found, bool DigestMatches, string? Problem)
{
    public bool IsValid => Found && DigestMatches && Problem == null;
}

/// <summary>Outcome of <see cref="ExiSignature.Verify(ExiSchema, ExiElement, IExiSignatureAlgorithm)"/>: which part failed, if any.</summary>
public sealed record ExiSignatureCheck(bool SignatureValid, IReadOnlyList<ExiReferenceCheck> References, string? Problem)
{
    public bool IsValid => SignatureValid && Problem == null && References.Count > 0 && References.All(r => r.IsValid);

    /// <summary>The first reference that failed, or null.</summary>
    public ExiReferenceCheck? FailedReference => References.FirstOrDefault(r => !r.IsValid);

    public override string ToString() =>
        IsValid ? "valid" : Problem ?? (FailedReference is { } f ? $"reference {f.Uri}: {f.Problem ?? "digest mismatch"}" : "signature value does not verify");
}

/// <summary>
/// XML signatures over EXI as ISO 15118 uses them: each Reference digests the referenced element encoded alone as
/// an EXI fragment of the message's schema; SignatureValue signs the EXI fragment of SignedInfo (xmldsig schema).
/// </summary>
public static class ExiSignature
{
    public const string DsNamespace = "http://www.w3.org/2000/09/xmldsig#";

    private static QName Ds(string local) => new(DsNamespace, local);

    /// <summary>Digest of one element: the hash of its EXI fragment in <paramref name="schema"/>.</summary>
    public static byte[] ComputeDigest(ExiSchema schema, ExiElement element, ExiDigestMethod digestMethod)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(digestMethod);
        return digestMethod.Compute(schema.EncodeFragment(element));
    }

    /// <summary>Builds SignedInfo with canonical EXI canonicalization and transforms, one Reference per (id, digest), in order.</summary>
    public static ExiElement BuildSignedInfo(IEnumerable<(string Id, byte[] Digest)> references, string signatureMethod, ExiDigestMethod digestMethod)
    {
        ArgumentNullException.ThrowIfNull(references);
        var si = new ExiElement(Ds("SignedInfo"));
        si.Add(new ExiElement(Ds("CanonicalizationMethod")).SetAttribute(new QName("Algorithm"), ExiSignatureMethods.CanonicalExi));
        si.Add(new ExiElement(Ds("SignatureMethod")).SetAttribute(new QName("Algorithm"), signatureMethod));
        foreach (var (id, digest) in references)
        {
            var reference = new ExiElement(Ds("Reference")).SetAttribute(new QName("URI"), "#" + id);
            var transforms = new ExiElement(Ds("Transforms"));
            transforms.Add(new ExiElement(Ds("Transform")).SetAttribute(new QName("Algorithm"), ExiSignatureMethods.CanonicalExi));
            reference.Add(transforms);
            reference.Add(new ExiElement(Ds("DigestMethod")).SetAttribute(new QName("Algorithm"), digestMethod.Uri));
            reference.Add(new ExiElement(Ds("DigestValue"), ExiValue.FromBytes(digest)));
            si.Add(reference);
        }
        return si;
    }

    /// <summary>The bytes SignatureValue signs: SignedInfo as an EXI fragment of the xmldsig schema.</summary>
    public static byte[] EncodeSignedInfo(ExiElement signedInfo) => ExiSchema.XmlDsigSchema.EncodeFragment(signedInfo);

    /// <summary>
    /// Signs the elements of <paramref name="message"/> carrying the given Ids (in that order) and puts the resulting
    /// ds:Signature at the end of the message's Header (replacing any previous one). Returns the Signature element.
    /// </summary>
    public static ExiElement Sign(ExiSchema schema, ExiElement message, IEnumerable<string> referencedIds, IExiSignatureAlgorithm signer)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(referencedIds);
        ArgumentNullException.ThrowIfNull(signer);
        if (!signer.CanSign) throw new ArgumentException("the algorithm cannot sign (no private key)", nameof(signer));

        var header = FindHeader(message) ?? throw new ExiEncodeException("", "the message has no Header to carry the signature");
        RemoveSignature(header);
        var refs = new List<(string, byte[])>();
        foreach (var id in referencedIds)
        {
            var el = message.FindById(id) ?? throw new ExiEncodeException("", $"no element with Id '{id}'");
            refs.Add((id, ComputeDigest(schema, el, signer.DigestMethod)));
        }
        if (refs.Count == 0) throw new ArgumentException("at least one reference is required", nameof(referencedIds));

        var signedInfo = BuildSignedInfo(refs, signer.SignatureMethod, signer.DigestMethod);
        byte[] signature = signer.Sign(EncodeSignedInfo(signedInfo));
        var sig = new ExiElement(Ds("Signature"));
        sig.Add(signedInfo);
        sig.Add(new ExiElement(Ds("SignatureValue"), ExiValue.FromBytes(signature)));
        header.Add(sig);
        return sig;
    }

    /// <summary>Verifies the header signature of <paramref name="message"/> with a certificate's ECDSA public key.</summary>
    public static ExiSignatureCheck Verify(ExiSchema schema, ExiElement message, X509Certificate2 signerCertificate) =>
        Verify(schema, message, EcdsaExiSignatureAlgorithm.FromCertificate(signerCertificate));

    /// <summary>Verifies the header signature of <paramref name="message"/> with an ECDSA public key.</summary>
    public static ExiSignatureCheck Verify(ExiSchema schema, ExiElement message, ECDsa publicKey) =>
        Verify(schema, message, new EcdsaExiSignatureAlgorithm(publicKey, canSign: false));

    /// <summary>Checks every Reference digest and the SignatureValue; reports which part failed. Never throws for bad content.</summary>
    public static ExiSignatureCheck Verify(ExiSchema schema, ExiElement message, IExiSignatureAlgorithm verifier)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(verifier);
        var header = FindHeader(message);
        var sig = header?.Element(Ds("Signature"));
        if (sig == null) return new ExiSignatureCheck(false, Array.Empty<ExiReferenceCheck>(), "the message carries no ds:Signature in its Header");
        return VerifySignature(schema, message, sig, verifier);
    }

    /// <summary>Verifies a given ds:Signature element whose References point into <paramref name="document"/>.</summary>
    public static ExiSignatureCheck VerifySignature(ExiSchema schema, ExiElement document, ExiElement signature, IExiSignatureAlgorithm verifier)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(document);
        ArgumentNullException.ThrowIfNull(signature);
        ArgumentNullException.ThrowIfNull(verifier);
        var signedInfo = signature.Element(Ds("SignedInfo"));
        var value = signature.Element(Ds("SignatureValue"));
        if (signedInfo == null || value == null) return new ExiSignatureCheck(false, Array.Empty<ExiReferenceCheck>(), "ds:Signature lacks SignedInfo or SignatureValue");

        string? problem = null;
        string? c14n = signedInfo.Element(Ds("CanonicalizationMethod"))?.Attribute("Algorithm")?.Value.ToString();
        string? method = signedInfo.Element(Ds("SignatureMethod"))?.Attribute("Algorithm")?.Value.ToString();
        if (c14n != ExiSignatureMethods.CanonicalExi) problem = $"unsupported CanonicalizationMethod '{c14n}'";
        else if (method != verifier.SignatureMethod) problem = $"SignatureMethod '{method}' does not match the verifier ({verifier.SignatureMethod})";

        var checks = new List<ExiReferenceCheck>();
        foreach (var reference in signedInfo.Elements("Reference"))
            checks.Add(CheckReference(schema, document, reference));

        bool signatureValid = false;
        try
        {
            byte[] sigBytes = value.Value.Kind == ExiValueKind.None ? Array.Empty<byte>() : value.Value.AsBytes();
            signatureValid = verifier.Verify(EncodeSignedInfo(signedInfo), sigBytes);
        }
        catch (ExiEncodeException ex)
        {
            problem ??= "SignedInfo cannot be encoded: " + ex.Message;
        }
        catch (FormatException)
        {
            problem ??= "SignatureValue is not base64";
        }
        if (checks.Count == 0) problem ??= "SignedInfo has no Reference";
        return new ExiSignatureCheck(signatureValid, checks, problem);
    }

    private static ExiReferenceCheck CheckReference(ExiSchema schema, ExiElement document, ExiElement reference)
    {
        string uri = reference.Attribute("URI")?.Value.ToString() ?? "";
        if (!uri.StartsWith('#') || uri.Length < 2) return new ExiReferenceCheck(uri, false, false, "only same-document references (#Id) are supported");
        foreach (var t in reference.Element(Ds("Transforms"))?.Elements("Transform") ?? Enumerable.Empty<ExiElement>())
        {
            string? alg = t.Attribute("Algorithm")?.Value.ToString();
            if (alg != ExiSignatureMethods.CanonicalExi) return new ExiReferenceCheck(uri, true, false, $"unsupported Transform '{alg}'");
        }
        string? digestUri = reference.Element(Ds("DigestMethod"))?.Attribute("Algorithm")?.Value.ToString();
        var digestMethod = digestUri == null ? null : ExiDigestMethod.FromUri(digestUri);
        if (digestMethod == null) return new ExiReferenceCheck(uri, true, false, $"unsupported DigestMethod '{digestUri}'");
        var target = FindReferenced(document, uri[1..]);
        if (target == null) return new ExiReferenceCheck(uri, false, false, $"no element with Id '{uri[1..]}'");
        byte[] expected;
        try
        {
            expected = reference.Element(Ds("DigestValue"))?.Value.AsBytes() ?? Array.Empty<byte>();
        }
        catch (FormatException)
        {
            return new ExiReferenceCheck(uri, true, false, "DigestValue is not base64");
        }
        try
        {
            byte[] actual = ComputeDigest(schema, target, digestMethod);
            bool ok = CryptographicOperations.FixedTimeEquals(actual, expected);
            return new ExiReferenceCheck(uri, true, ok, ok ? null : "digest mismatch");
        }
        catch (ExiEncodeException ex)
        {
            return new ExiReferenceCheck(uri, true, false, "referenced element cannot be encoded: " + ex.Message);
        }
    }

    private static ExiElement? FindReferenced(ExiElement document, string id)
    {
        // The signature itself is never a reference target here; search outside ds:Signature.
        if (document.Name == Ds("Signature")) return null;
        if (document.HasAttributes)
            foreach (var a in document.Attributes)
                if (a.Name.LocalName == "Id" && a.Value.ToString() == id) return document;
        foreach (var e in document.Elements())
        {
            var f = FindReferenced(e, id);
            if (f != null) return f;
        }
        return null;
    }

    private static ExiElement? FindHeader(ExiElement message)
    {
        if (message.Name.LocalName == "Header") return message;
        return message.Element("Header");
    }

    private static void RemoveSignature(ExiElement header)
    {
        if (!header.HasChildren) return;
        header.Children.RemoveAll(c => c is ExiElement e && e.Name == Ds("Signature"));
    }
}
