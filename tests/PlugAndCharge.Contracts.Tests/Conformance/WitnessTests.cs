using System.Text.Json.Nodes;
using PlugAndCharge.Contracts.Contracts;
using PlugAndCharge.Contracts.Installation;
using PlugAndCharge.Contracts.Tests.Installation;
using PlugAndCharge.Exi;
using Xunit;

namespace PlugAndCharge.Contracts.Tests.Conformance;

/// <summary>
/// Issue 25: the contract key deliveries the real installation path produces, opened by a second implementation written
/// in Python from the text of ISO 15118-2 7.9.2.4.3 and ISO 15118-20 7.9.2.5 (tests/witness), must give the key the C#
/// vehicle simulator recovers; and a -20 CertificateInstallationReq signed by that witness must pass our verifier.
/// docs/iso15118-20.md lists the requirements each step checks.
/// </summary>
public class WitnessTests(WorldFixture fx) : IClassFixture<WorldFixture>
{
    private ContractWorld W => fx.World;

    [Fact]
    public async Task The_witness_opens_an_ISO_15118_2_delivery_to_the_key_the_simulator_recovers()
    {
        var (car, _) = await W.VehicleWithContractAsync();
        var outcome = await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_2, car.BuildInstallationRequest());
        Assert.True(outcome.IsOk, outcome.Detail);
        using var installed = car.AcceptIso2Response(outcome.Response);
        var res = ExiSchema.Iso2.Decode(outcome.Response);
        var request = new JsonObject
        {
            ["operation"] = "iso2-decrypt",
            ["evcc_private_key"] = PythonWitness.B64(car.ProvisioningKey.ExportPkcs8PrivateKey()),
            ["dh_public_key"] = PythonWitness.B64(res.Descendant("DHpublickey")!.Value.AsBytes()),
            ["encrypted_private_key"] = PythonWitness.B64(res.Descendant("ContractSignatureEncryptedPrivateKey")!.Value.AsBytes()),
            ["contract_certificate"] = PythonWitness.B64(res.Descendant("ContractSignatureCertChain")!.Element("Certificate")!.Value.AsBytes()),
        };
        var answer = PythonWitness.Run(request);
        Assert.Equal(Convert.ToHexStringLower(installed.Key.ExportParameters(true).D!), PythonWitness.Hex(answer, "private_key"));
    }

    [Fact]
    public void The_witness_opens_the_ISO_15118_2_known_answer_vector()
    {
        var dir = TestPaths.Vector("iso15118_2_contract_key_encryption");
        var kat = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Directory.GetFiles(dir, "*.json")[0])).RootElement;
        byte[] Hex(string name) => Convert.FromHexString(kat.GetProperty(name).GetString()!);
        using var oem = System.Security.Cryptography.ECDsa.Create(EverestKeys.Read(TestPaths.Vector("everest_aux_pki/client/oem/OEM_LEAF.key")));
        var contract = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(File.ReadAllText(TestPaths.Vector("everest_aux_pki/client/mo/MO_LEAF.pem")));
        var answer = PythonWitness.Run(new JsonObject
        {
            ["operation"] = "iso2-decrypt",
            ["evcc_private_key"] = PythonWitness.B64(oem.ExportPkcs8PrivateKey()),
            ["dh_public_key"] = PythonWitness.B64(Hex("DHpublickey_hex")),
            ["encrypted_private_key"] = PythonWitness.B64(Hex("ContractSignatureEncryptedPrivateKey_hex")),
            ["contract_certificate"] = PythonWitness.B64(contract.RawData),
        });
        Assert.Equal(Convert.ToHexStringLower(Hex("session_key_hex")), PythonWitness.Hex(answer, "session_key"));
        Assert.Equal(Convert.ToHexStringLower(Hex("contract_private_key_scalar_hex")), PythonWitness.Hex(answer, "private_key"));
    }

    [Fact]
    public async Task The_witness_opens_a_SECP521_delivery_to_the_key_the_simulator_recovers_and_refuses_a_changed_byte()
    {
        var (car, _) = await W.VehicleWithContractAsync(IsoStandard.Iso15118_20);
        var outcome = await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_20, car.BuildIso20InstallationRequest());
        Assert.True(outcome.IsOk, outcome.Detail);
        var (installed, _) = car.AcceptIso20Response(outcome.Response);
        using (installed)
        {
            var request = Iso20Request(outcome.Response, "SECP521", "SECP521_EncryptedPrivateKey", car.ProvisioningKey.ExportPkcs8PrivateKey(), car.Pcid);
            var answer = PythonWitness.Run(request);
            Assert.Equal(Convert.ToHexStringLower(installed.Key.ExportParameters(true).D!), PythonWitness.Hex(answer, "private_key"));
            Assert.Equal("uncompressed-133", answer["dh_public_key_reading"]!.GetValue<string>());

            // The tag covers every byte of the field and the AAD covers the PCID [V2G20-2492], [V2G20-2504].
            var field = Convert.FromBase64String(request["encrypted_private_key"]!.GetValue<string>());
            field[40] ^= 1;
            request["encrypted_private_key"] = PythonWitness.B64(field);
            Assert.NotNull(PythonWitness.Run(request)["error"]);
        }
    }

    [Fact]
    public async Task The_witness_opens_an_X448_delivery_to_the_secret_the_simulator_recovers()
    {
        var (car, _) = await W.VehicleWithContractAsync(IsoStandard.Iso15118_20, ed448: true);
        var outcome = await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_20, car.BuildIso20InstallationRequest());
        Assert.True(outcome.IsOk, outcome.Detail);
        var (installed, _) = car.AcceptIso20Response(outcome.Response);
        using (installed)
        {
            // The witness gets the vehicle's Ed448 key and derives its X448 key itself (RFC 8032 / RFC 7748).
            var ed448Key = car.Ed448ProvisioningKey!.GetEncoded(); // the raw 57-byte RFC 8032 key
            var answer = PythonWitness.Run(Iso20Request(outcome.Response, "X448", "X448_EncryptedPrivateKey", ed448Key, car.Pcid));
            Assert.Equal(Convert.ToHexStringLower(installed.Ed448SecretScalar!), PythonWitness.Hex(answer, "private_key"));
            // [V2G20-2489] NOTE 6/7 and [V2G20-2495]: 0x04 ‖ u, 57 bytes.
            Assert.Equal("note7-57", answer["dh_public_key_reading"]!.GetValue<string>());
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_CertificateInstallationReq_signed_by_the_witness_is_accepted_and_a_changed_signature_is_not(bool ed448)
    {
        var (car, _) = await W.VehicleWithContractAsync(IsoStandard.Iso15118_20, ed448);
        var message = ExiSchema.Iso20.Decode(car.BuildIso20InstallationRequest());
        var signature = message.Element("Header")!.Element("Signature")!;
        var signedInfo = signature.Element("SignedInfo")!;
        var ours = signature.Element("SignatureValue")!.Value.AsBytes();
        var key = ed448 ? car.Ed448ProvisioningKey!.GetEncoded() : car.ProvisioningKey.ExportPkcs8PrivateKey();
        var answer = PythonWitness.Run(new JsonObject
        {
            ["operation"] = "iso20-sign",
            ["oem_private_key"] = PythonWitness.B64(key),
            ["fragment_exi"] = PythonWitness.B64(ExiSchema.Iso20.EncodeFragment(message.FindById("ID1")!)),
            ["signed_info_exi"] = PythonWitness.B64(ExiSignature.EncodeSignedInfo(signedInfo)),
        });
        // The witness's digest of the OEMProvisioningCertificateChain fragment is the one SignedInfo carries.
        Assert.Equal(signedInfo.Element("Reference")!.Element("DigestValue")!.Value.AsBytes(), Convert.FromBase64String(answer["digest"]!.GetValue<string>()));
        var theirs = Convert.FromBase64String(answer["signature"]!.GetValue<string>());
        if (ed448) Assert.Equal(ours, theirs); // Ed448 is deterministic: the same bytes
        else Assert.Equal(132, theirs.Length); // r ‖ s, 66 bytes each

        signature.Element("SignatureValue")!.Value = ExiValue.FromBytes(theirs);
        var accepted = await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_20, ExiSchema.Iso20.Encode(message));
        Assert.True(accepted.IsOk, accepted.Detail);

        theirs[^1] ^= 1;
        signature.Element("SignatureValue")!.Value = ExiValue.FromBytes(theirs);
        var refused = await W.Services.Installation.AnswerAsync(IsoStandard.Iso15118_20, ExiSchema.Iso20.Encode(message));
        Assert.Equal(InstallationResult.SignatureInvalid, refused.Result);
    }

    private static JsonObject Iso20Request(byte[] response, string curve, string field, byte[] evccKey, string pcid)
    {
        var data = ExiSchema.Iso20.Decode(response).Descendant("SignedInstallationData")!;
        Assert.Equal(curve, data.Element("ECDHCurve")!.Text);
        return new JsonObject
        {
            ["operation"] = "iso20-decrypt",
            ["curve"] = curve,
            ["evcc_private_key"] = PythonWitness.B64(evccKey),
            ["dh_public_key"] = PythonWitness.B64(data.Element("DHPublicKey")!.Value.AsBytes()),
            ["encrypted_private_key"] = PythonWitness.B64(data.Element(field)!.Value.AsBytes()),
            ["pcid"] = pcid,
            ["contract_certificate"] = PythonWitness.B64(data.Element("ContractCertificateChain")!.Element("Certificate")!.Value.AsBytes()),
        };
    }
}
