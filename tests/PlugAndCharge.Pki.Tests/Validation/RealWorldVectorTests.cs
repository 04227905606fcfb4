using Org.BouncyCastle.X509;
using Xunit;

namespace PlugAndCharge.Pki.Tests.Validation
{
    // Imported inside the namespace so these types win over same-named ones in enclosing PlugAndCharge namespaces.
    using PlugAndCharge.Pki.Validation;

    /// <summary>
    /// Published ISO 15118 certificates (tests/vectors): each chain validates or fails as its name says, at a fixed time
    /// inside its validity.
    /// </summary>
    public sealed class RealWorldVectorTests
    {
        private static readonly ChainValidator Validator = new();

        // Inside the validity of each set: switchev leaf 2022-09..2024-08, Hubject QA contracts 2023-05..2024-03,
        // Hubject OPCP CPS/contract 2022-02..2022-12, EVerest CSMS certificates from 2024-11.
        private static readonly DateTimeOffset SwitchevTime = new(2024, 1, 15, 0, 0, 0, TimeSpan.Zero);
        private static readonly DateTimeOffset MaeveTime = new(2023, 10, 1, 0, 0, 0, TimeSpan.Zero);
        private static readonly DateTimeOffset OpcpTime = new(2022, 6, 1, 0, 0, 0, TimeSpan.Zero);
        private static readonly DateTimeOffset EverestTime = new(2025, 6, 1, 0, 0, 0, TimeSpan.Zero);

        [Fact]
        public void Switchev_contract_leaf_is_valid_to_the_mo_root()
        {
            var result = Validate(
                Switchev("contractLeafCert.pem"),
                [Switchev("moSubCA1Cert.pem"), Switchev("moSubCA2Cert.pem")],
                [Switchev("moRootCACert.pem"), Switchev("moRootCACert_no_ocsp.pem")],
                SwitchevTime,
                new Iso15118Rules { ExpectedEmaid = "UKSWI123456789A" });

            Assert.True(result.IsValid, result.Detail);
            Assert.Equal(4, result.Path.Count);
            Assert.Contains("CN=MORootCA", result.Path[3].SubjectDN.ToString(), StringComparison.Ordinal);
        }

        [Fact]
        public void Switchev_expired_contract_leaf_is_expired()
        {
            var result = Validate(
                Switchev("contractLeafCert_Expired.pem"),
                [Switchev("moSubCA1Cert.pem"), Switchev("moSubCA2Cert.pem")],
                [Switchev("moRootCACert.pem")],
                SwitchevTime);

            Assert.False(result.IsValid);
            Assert.Equal(ChainFailureReason.Expired, result.Reason);
            Assert.Equal(0, result.FailingIndex);
        }

        [Theory]
        [InlineData("HUBOpenProvCert001.pem", "EMP77TWTW00002")]
        [InlineData("HUBOpenProvCert002.pem", "EMP77TWTW00003")]
        [InlineData("HUBOpenProvCert003.pem", "EMP77TWTW00005")]
        [InlineData("HUBOpenProvCert005-EMP77TWTW99999-Revoked.pem", "EMP77TWTW99999")] // revoked, but no revocation data is published
        public void Hubject_qa_contract_chains_validate_to_the_qa_v2g_root(string file, string emaid)
        {
            var bundle = CertificateReader.ReadCertificateFile(TestPaths.Vector(Path.Combine("hubject_qa_certs_maeve", file)));

            var result = Validate(bundle[0], bundle.Skip(1).ToList(), [Maeve("root-V2G-cert.pem")], MaeveTime, new Iso15118Rules { ExpectedEmaid = emaid });

            Assert.True(result.IsValid, result.Detail);
            Assert.Equal(4, result.Path.Count);
        }

        [Fact]
        public void Hubject_qa_contract_does_not_chain_to_the_cpo_sub_ca_of_trust_pem()
        {
            var bundle = CertificateReader.ReadCertificateFile(TestPaths.Vector(Path.Combine("hubject_qa_certs_maeve", "HUBOpenProvCert001.pem")));

            var result = Validate(bundle[0], bundle.Skip(1).ToList(), [Maeve("trust.pem")], MaeveTime);

            Assert.Equal(ChainFailureReason.UntrustedRoot, result.Reason);
        }

        [Fact]
        public void Hubject_cps_leaf_with_explicit_ca_false_chains_through_both_cps_sub_cas()
        {
            var leaf = Opcp("cps_cpsCertificate_3321748f5b63.der");
            var der = File.ReadAllBytes(TestPaths.Vector(Path.Combine("hubject_opcp", "cps_cpsCertificate_3321748f5b63.der")));
            // basicConstraints extnValue SEQUENCE { BOOLEAN FALSE }: the default written out, which DER forbids.
            Assert.True(der.AsSpan().IndexOf([(byte)0x04, (byte)0x05, (byte)0x30, (byte)0x03, (byte)0x01, (byte)0x01, (byte)0x00]) > 0);

            var result = Validate(
                leaf,
                [Opcp("cps_cpsCa1Certificate_38e38c00ae57.der"), Opcp("cps_cpsCa2Certificate_7de040d10900.der")],
                [Maeve("root-V2G-cert.pem"), Opcp("rcp_caCertificate_a76ae4c5d00e.der"), Opcp("rcp_caCertificate_942b6234afd4.der")],
                OpcpTime,
                new Iso15118Rules());

            Assert.True(result.IsValid, result.Detail);
            Assert.Equal(
                ["CN=CPS 2022.2 QA", "CN=Prov Sub2 CA QA G1.1.1", "CN=Prov Sub1 CA QA G1.1", "CN=V2G Root CA QA G1"],
                result.Path.Select(certificate => CommonName(certificate)).ToArray());
        }

        [Fact]
        public void Hubject_production_and_oem_roots_do_not_anchor_the_qa_cps_chain()
        {
            var result = Validate(
                Opcp("cps_cpsCertificate_3321748f5b63.der"),
                [Opcp("cps_cpsCa1Certificate_38e38c00ae57.der"), Opcp("cps_cpsCa2Certificate_7de040d10900.der")],
                [Opcp("rcp_caCertificate_a76ae4c5d00e.der"), Opcp("rcp_caCertificate_942b6234afd4.der")],
                OpcpTime);

            Assert.Equal(ChainFailureReason.UntrustedRoot, result.Reason);
            Assert.Equal(2, result.FailingIndex);
        }

        [Fact]
        public void Hubject_opcp_contract_chain_is_valid()
        {
            var result = Validate(
                Opcp("ccp_contractCertificate_62759b413d92.der"),
                [Opcp("cps_contractSubCert0_8cff7bb65992.der"), Opcp("cps_contractSubCert1_42250cc9dfdb.der")],
                [Maeve("root-V2G-cert.pem")],
                OpcpTime,
                new Iso15118Rules { ExpectedEmaid = "EMP99CQATEST001" });

            Assert.True(result.IsValid, result.Detail);
            Assert.Equal(4, result.Path.Count);
        }

        [Fact]
        public void Hubject_qa_vehicle_certificate_chains_through_the_oem_sub_cas()
        {
            var result = Validate(
                Opcp("pcp_vehicleCertificate_512b48860754.der"),
                OpcpOemSubCas(),
                [Maeve("root-V2G-cert.pem"), Opcp("rcp_caCertificate_942b6234afd4.der")],
                OpcpTime,
                new Iso15118Rules());

            Assert.True(result.IsValid, result.Detail);
            Assert.Equal(["CN=huboemprovcqa0615", "CN=OEM Sub2 CA QA G1.1.1", "CN=OEM Sub1 CA QA G1.1", "CN=V2G Root CA QA G1"], result.Path.Select(CommonName).ToArray());
        }

        [Theory]
        [InlineData("pcp_vehicleCertificate_262381eb8c2e.der")]
        [InlineData("pcp_example_cc12fc95ef74.der")]
        public void Hubject_us_test_vehicle_certificates_lack_their_root(string file)
        {
            // Their chain ends at "US V2G Root CA TEST G2", which the vectors do not ship.
            var result = Validate(
                Opcp(file),
                OpcpOemSubCas(),
                [Maeve("root-V2G-cert.pem"), Opcp("rcp_caCertificate_942b6234afd4.der"), Opcp("rcp_caCertificate_a76ae4c5d00e.der")],
                OpcpTime);

            Assert.Equal(ChainFailureReason.UntrustedRoot, result.Reason);
            Assert.Equal(2, result.FailingIndex);
        }

        [Theory]
        [InlineData("client/mo/MO_LEAF.pem", "ca/mo/INTERMEDIATE_MO_CA_CERTS.pem", "ca/mo/MO_ROOT_CA.pem", true)]
        [InlineData("client/cps/CPS_LEAF.pem", "ca/cps/INTERMEDIATE_CPS_CA_CERTS.pem", "ca/v2g/V2G_ROOT_CA.pem", true)]
        [InlineData("client/oem/OEM_LEAF.pem", "ca/oem/INTERMEDIATE_OEM_CA.pem", "ca/oem/OEM_ROOT_CA.pem", true)]
        [InlineData("client/cso/SECC_LEAF.pem", "client/cso/CPO_CERT_CHAIN.pem", "ca/v2g/V2G_ROOT_CA.pem", true)]
        [InlineData("CSMS_SERVER.pem", null, "ca/csms/CSMS_ROOT_CA.pem", false)]
        [InlineData("client/csms/CSMS_RSA.pem", null, "ca/csms/CSMS_ROOT_CA.pem", false)]
        public void Everest_leaves_chain_to_their_roots(string leaf, string? intermediates, string root, bool iso15118)
        {
            var result = Validate(
                Everest(leaf)[0],
                intermediates is null ? [] : Everest(intermediates),
                Everest(root),
                EverestTime,
                iso15118 ? new Iso15118Rules() : null);

            Assert.True(result.IsValid, result.Detail);
        }

        [Fact]
        public void Everest_contract_leaf_does_not_chain_to_the_v2g_root()
        {
            var result = Validate(Everest("client/mo/MO_LEAF.pem")[0], Everest("ca/mo/INTERMEDIATE_MO_CA_CERTS.pem"), Everest("ca/v2g/V2G_ROOT_CA.pem"), EverestTime);

            Assert.Equal(ChainFailureReason.UntrustedRoot, result.Reason);
        }

        private static ChainValidationResult Validate(
            X509Certificate leaf, IReadOnlyList<X509Certificate> intermediates, IReadOnlyList<X509Certificate> anchors, DateTimeOffset at, Iso15118Rules? iso = null) =>
            Validator.Validate(new ChainValidationRequest { Leaf = leaf, Intermediates = intermediates, TrustAnchors = anchors, At = at, Iso15118 = iso });

        private static string CommonName(X509Certificate certificate) =>
            "CN=" + certificate.SubjectDN.GetValueList(Org.BouncyCastle.Asn1.X509.X509Name.CN)[0];

        private static X509Certificate Switchev(string file) => CertificateReader.ReadCertificateFile(TestPaths.Vector(Path.Combine("switchev_sample_certs", file)))[0];

        private static X509Certificate Maeve(string file) => CertificateReader.ReadCertificateFile(TestPaths.Vector(Path.Combine("hubject_qa_certs_maeve", file)))[0];

        private static X509Certificate Opcp(string file) => CertificateReader.ReadCertificateFile(TestPaths.Vector(Path.Combine("hubject_opcp", file)))[0];

        private static IReadOnlyList<X509Certificate> Everest(string file) => CertificateReader.ReadCertificateFile(TestPaths.Vector(Path.Combine("everest_aux_pki", file)));

        private static List<X509Certificate> OpcpOemSubCas() =>
        [
            Opcp("pcp_subCA1Certificate_2f1656f2a5cb.der"),
            Opcp("pcp_subCA1Certificate_d669983b1ca4.der"),
            Opcp("pcp_subCA1Certificate_d75abab8ab29.der"),
            Opcp("pcp_subCA2Certificate_789e03ae1718.der"),
            Opcp("pcp_subCA2Certificate_ec67f3d903f3.der"),
        ];
    }
}
