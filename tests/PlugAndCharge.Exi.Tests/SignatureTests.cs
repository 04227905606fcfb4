using System.Security.Cryptography;
using Xunit;

namespace PlugAndCharge.Exi.Tests;

public class SignatureTests
{
    private static ExiElement RiseResponse() => ExiXml.Parse(Vectors.RiseXml);

    [Fact]
    public void Sign_then_verify_a_CertificateInstallationRes_with_P256()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var message = RiseResponse();
        var signature = ExiSignature.Sign(ExiSchema.Iso2, message, new[] { "id1", "id2", "id3", "id4" }, new EcdsaExiSignatureAlgorithm(key));
        Assert.Equal(64, signature.Element("SignatureValue")!.Value.AsBytes().Length);
        Assert.Single(message.Element("Header")!.Elements("Signature")); // replaced, not added twice

        // through EXI and back, the signature still verifies with the public key only
        var decoded = ExiSchema.Iso2.Decode(ExiSchema.Iso2.Encode(message));
        using var pub = ECDsa.Create(key.ExportParameters(false));
        var check = ExiSignature.Verify(ExiSchema.Iso2, decoded, pub);
        Assert.True(check.IsValid, check.ToString());
        Assert.Equal(new[] { "#id1", "#id2", "#id3", "#id4" }, check.References.Select(r => r.Uri));
    }

    [Fact]
    public void Verify_names_the_tampered_reference_and_a_wrong_key_fails_the_signature()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var message = RiseResponse();
        ExiSignature.Sign(ExiSchema.Iso2, message, new[] { "id1", "id2", "id3", "id4" }, new EcdsaExiSignatureAlgorithm(key));

        message.FindById("id4")!.Value = ExiValue.FromString("DEABCC123ABC57");
        var check = ExiSignature.Verify(ExiSchema.Iso2, message, key);
        Assert.False(check.IsValid);
        Assert.Equal("#id4", check.FailedReference!.Uri);
        Assert.True(check.SignatureValid);

        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var wrongKey = ExiSignature.Verify(ExiSchema.Iso2, RiseResponse(), other);
        Assert.False(wrongKey.SignatureValid);
        Assert.True(wrongKey.References.All(r => r.IsValid)); // the digests themselves are fine
    }

    [Fact]
    public void Missing_reference_target_and_missing_signature_are_reported()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var message = RiseResponse();
        ExiSignature.Sign(ExiSchema.Iso2, message, new[] { "id1" }, new EcdsaExiSignatureAlgorithm(key));
        message.FindById("id1")!.Attributes.Clear();
        var check = ExiSignature.Verify(ExiSchema.Iso2, message, key);
        Assert.False(check.FailedReference!.Found);

        var unsigned = ExiSchema.Iso2.Decode(Vectors.HubjectFailedResponse);
        var none = ExiSignature.Verify(ExiSchema.Iso2, unsigned, key);
        Assert.False(none.IsValid);
        Assert.NotNull(none.Problem);
    }

    [Fact]
    public void Iso20_uses_P521_SHA512_and_pluggable_algorithms()
    {
        var schema = ExiSchema.Iso20;
        var (message, id) = GeneratedIso20InstallationRequest(seed: 1);

        using var p521 = ECDsa.Create(ECCurve.NamedCurves.nistP521);
        var alg = new EcdsaExiSignatureAlgorithm(p521);
        Assert.Equal(ExiSignatureMethods.EcdsaSha512, alg.SignatureMethod);
        var sig = ExiSignature.Sign(schema, message, new[] { id }, alg);
        Assert.Equal(132, sig.Element("SignatureValue")!.Value.AsBytes().Length);
        Assert.Equal(64, sig.Descendant("DigestValue")!.Value.AsBytes().Length);
        Assert.Equal(ExiDigestMethod.Sha512.Uri, sig.Descendant("DigestMethod")!.Attribute("Algorithm")!.Value.ToString());
        var decoded = schema.Decode(schema.Encode(message));
        Assert.True(ExiSignature.Verify(schema, decoded, p521).IsValid);

        // An Ed448-style plug-in: any delegate pair works (here ECDSA stands in for BouncyCastle's Ed448).
        var plugged = new DelegateExiSignatureAlgorithm(ExiSignatureMethods.Ed448, ExiDigestMethod.Sha512,
            data => p521.SignData(data, HashAlgorithmName.SHA512),
            (data, s) => p521.VerifyData(data, s, HashAlgorithmName.SHA512));
        ExiSignature.Sign(schema, message, new[] { id }, plugged);
        Assert.Equal(ExiSignatureMethods.Ed448, message.Descendant("SignatureMethod")!.Attribute("Algorithm")!.Value.ToString());
        Assert.True(ExiSignature.Verify(schema, schema.Decode(schema.Encode(message)), plugged).IsValid);
        Assert.False(ExiSignature.Verify(schema, message, alg).IsValid); // method mismatch is reported, not thrown
    }

    [Fact]
    public void Iso20_messages_sign_and_verify_with_real_Ed448()
    {
        var schema = ExiSchema.Iso20;
        var (message, id) = GeneratedIso20InstallationRequest(seed: 7);

        // Ed448 (RFC 8032, empty context) from BouncyCastle: the BCL has none.
        var generator = new Org.BouncyCastle.Crypto.Generators.Ed448KeyPairGenerator();
        generator.Init(new Org.BouncyCastle.Crypto.Parameters.Ed448KeyGenerationParameters(new Org.BouncyCastle.Security.SecureRandom()));
        var pair = generator.GenerateKeyPair();
        byte[] Sign(byte[] data)
        {
            var signer = new Org.BouncyCastle.Crypto.Signers.Ed448Signer([]);
            signer.Init(true, pair.Private);
            signer.BlockUpdate(data, 0, data.Length);
            return signer.GenerateSignature();
        }
        bool Verify(Org.BouncyCastle.Crypto.AsymmetricKeyParameter publicKey, byte[] data, byte[] signature)
        {
            var verifier = new Org.BouncyCastle.Crypto.Signers.Ed448Signer([]);
            verifier.Init(false, publicKey);
            verifier.BlockUpdate(data, 0, data.Length);
            return verifier.VerifySignature(signature);
        }
        var ed448 = new DelegateExiSignatureAlgorithm(ExiSignatureMethods.Ed448, ExiDigestMethod.Sha512, Sign, (d, sg) => Verify(pair.Public, d, sg));

        var signature = ExiSignature.Sign(schema, message, new[] { id }, ed448);
        Assert.Equal(114, signature.Element("SignatureValue")!.Value.AsBytes().Length); // RFC 8032 §5.2.6
        var received = schema.Decode(schema.Encode(message));
        Assert.True(ExiSignature.Verify(schema, received, ed448).IsValid);

        // Another Ed448 key does not verify it.
        var other = new Org.BouncyCastle.Crypto.Generators.Ed448KeyPairGenerator();
        other.Init(new Org.BouncyCastle.Crypto.Parameters.Ed448KeyGenerationParameters(new Org.BouncyCastle.Security.SecureRandom()));
        var stranger = other.GenerateKeyPair().Public;
        Assert.False(ExiSignature.Verify(schema, received, new DelegateExiSignatureAlgorithm(ExiSignatureMethods.Ed448, ExiDigestMethod.Sha512, null, (d, sg) => Verify(stranger, d, sg))).IsValid);
    }

    /// <summary>A generated -20 CertificateInstallationReq whose provisioning chain carries an Id to reference.</summary>
    private static (ExiElement Message, string Id) GeneratedIso20InstallationRequest(int seed)
    {
        var g = ExiSchema.Iso20.Grammar(ExiOptions.Iso15118);
        int i = Array.FindIndex(g.GlobalElements, q => q.LocalName == "CertificateInstallationReq");
        ExiElement message;
        do message = new Generated.InstanceGenerator(g, seed++).Generate(g.GlobalElements[i], g.GlobalElementGrammars[i]);
        while (message.Element("OEMProvisioningCertificateChain") is not { } chain || chain.Attribute("Id") == null || message.XsiNil != null || message.XsiType != null);
        return (message, message.Element("OEMProvisioningCertificateChain")!.Attribute("Id")!.Value.ToString());
    }

    [Fact]
    public void Verify_only_algorithm_refuses_to_sign()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var verifier = new EcdsaExiSignatureAlgorithm(key, canSign: false);
        Assert.Throws<ArgumentException>(() => ExiSignature.Sign(ExiSchema.Iso2, RiseResponse(), new[] { "id1" }, verifier));
        Assert.Throws<ArgumentException>(() => new EcdsaExiSignatureAlgorithm(ECDsa.Create(ECCurve.NamedCurves.nistP384)));
    }
}
