using PlugAndCharge.Pki.Revocation;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.X509;
using Xunit;

namespace PlugAndCharge.Pki.Tests.Validation
{
    // Imported inside the namespace so these types win over same-named ones in enclosing PlugAndCharge namespaces.
    using PlugAndCharge.Pki.Validation;

    /// <summary>ISO 15118 rules and revocation on generated contract PKIs (root → Sub-CA 1 → Sub-CA 2 → leaf).</summary>
    public sealed class Iso15118RuleTests
    {
        private static readonly ChainValidator Validator = new();
        private static readonly TestPki.Issued Root = TestPki.Root("CN=Test MO Root,O=Test,DC=MO");
        private static readonly TestPki.Issued Sub1 = TestPki.SubCa(Root, "CN=Test MO Sub1,O=Test,DC=MO", 1);
        private static readonly TestPki.Issued Sub2 = TestPki.SubCa(Sub1, "CN=Test MO Sub2,O=Test,DC=MO", 0);
        private static readonly TestPki.Issued Contract = TestPki.Leaf(Sub2, "CN=UKSWI123456789A,O=Test,DC=MO");

        [Fact]
        public void Contract_chain_with_three_certificates_below_the_root_is_valid()
        {
            var result = Validator.Validate(Request(Contract.Certificate, [Sub2, Sub1], new Iso15118Rules { ExpectedEmaid = "uk-swi-123456789-a" }));

            Assert.True(result.IsValid, result.Detail);
            Assert.Equal(ChainFailureReason.None, result.Reason);
            Assert.Equal([Contract.Certificate, Sub2.Certificate, Sub1.Certificate, Root.Certificate], result.Path);
        }

        [Fact]
        public void Four_certificates_below_the_root_are_too_many_under_iso15118()
        {
            var sub1 = TestPki.SubCa(Root, "CN=Deep Sub1,DC=MO", null);
            var sub2 = TestPki.SubCa(sub1, "CN=Deep Sub2,DC=MO", null);
            var sub3 = TestPki.SubCa(sub2, "CN=Deep Sub3,DC=MO", null);
            var leaf = TestPki.Leaf(sub3, "CN=UKSWI123456789A,DC=MO");

            var iso = Validator.Validate(Request(leaf.Certificate, [sub3, sub2, sub1], new Iso15118Rules()));
            var rfc = Validator.Validate(Request(leaf.Certificate, [sub3, sub2, sub1]));

            Assert.Equal(ChainFailureReason.ChainTooLong, iso.Reason);
            Assert.True(rfc.IsValid, rfc.Detail);
        }

        [Fact]
        public void Emaid_other_than_the_contract_cn_is_rejected()
        {
            var result = Validator.Validate(Request(Contract.Certificate, [Sub1, Sub2], new Iso15118Rules { ExpectedEmaid = "UKSWI123456790A" }));

            Assert.False(result.IsValid);
            Assert.Equal(ChainFailureReason.EmaidMismatch, result.Reason);
            Assert.Equal(0, result.FailingIndex);
        }

        [Fact]
        public void Leaf_that_is_a_ca_is_rejected_under_iso15118()
        {
            var caLeaf = TestPki.Leaf(Sub2, "CN=UKSWI123456789B,DC=MO", ca: true);

            var result = Validator.Validate(Request(caLeaf.Certificate, [Sub1, Sub2], new Iso15118Rules()));

            Assert.Equal(ChainFailureReason.BasicConstraints, result.Reason);
        }

        [Fact]
        public void Profile_delegate_violation_names_the_certificate()
        {
            var rules = new Iso15118Rules { ProfileConformance = (certificate, depth) => depth == 1 ? "Sub-CA 2 profile broken" : null };

            var result = Validator.Validate(Request(Contract.Certificate, [Sub1, Sub2], rules));

            Assert.Equal(ChainFailureReason.ProfileViolation, result.Reason);
            Assert.Equal(1, result.FailingIndex);
            Assert.Equal(Sub2.Certificate, result.Path[1]);
        }

        [Fact]
        public void Curve_outside_iso15118_is_a_profile_violation()
        {
            var leaf = TestPki.Leaf(Sub2, "CN=UKSWI123456789C,DC=MO", key: TestPki.NewKey("P-384"));

            Assert.Equal(ChainFailureReason.ProfileViolation, Validator.Validate(Request(leaf.Certificate, [Sub1, Sub2], new Iso15118Rules())).Reason);
            Assert.True(Validator.Validate(Request(leaf.Certificate, [Sub1, Sub2])).IsValid);
        }

        [Fact]
        public void Crl_of_the_issuer_revokes_with_time_and_reason()
        {
            var revokedAt = new DateTime(2025, 5, 20, 12, 0, 0, DateTimeKind.Utc);
            var crl = TestPki.Crl(Sub2, Contract.Certificate, (int)RevocationReason.KeyCompromise, revokedAt);

            var result = Validator.Validate(Request(Contract.Certificate, [Sub1, Sub2], crls: [crl]));

            Assert.False(result.IsValid);
            Assert.Equal(ChainFailureReason.Revoked, result.Reason);
            Assert.Equal(0, result.FailingIndex);
            Assert.NotNull(result.Revocation);
            Assert.Equal(RevocationStatus.Revoked, result.Revocation.Status);
            Assert.Equal(RevocationReason.KeyCompromise, result.Revocation.Reason);
            Assert.Equal(new DateTimeOffset(revokedAt), result.Revocation.RevokedAt);
            Assert.Equal(RevocationEvidence.Crl, result.Revocation.Evidence);
        }

        [Fact]
        public void Crl_without_the_serial_reports_good_and_mode_none_ignores_crls()
        {
            var clean = TestPki.Crl(Sub2, null, 0, default);
            var revoking = TestPki.Crl(Sub2, Contract.Certificate, (int)RevocationReason.Superseded, new DateTime(2025, 5, 2, 0, 0, 0, DateTimeKind.Utc));

            var good = Validator.Validate(Request(Contract.Certificate, [Sub1, Sub2], crls: [clean]));
            var ignored = Validator.Validate(Request(Contract.Certificate, [Sub1, Sub2], crls: [revoking], mode: RevocationMode.None));

            Assert.True(good.IsValid, good.Detail);
            Assert.Equal(RevocationStatus.Good, good.Revocation?.Status);
            Assert.True(ignored.IsValid, ignored.Detail);
        }

        [Fact]
        public void Crl_signed_by_another_ca_of_the_same_name_cannot_pass_as_the_issuers()
        {
            var impostor = TestPki.Root("CN=Test MO Sub2,O=Test,DC=MO");
            var forged = TestPki.Crl(impostor, null, 0, default);

            var result = Validator.Validate(Request(Contract.Certificate, [Sub1, Sub2], crls: [forged], mode: RevocationMode.Require));

            Assert.False(result.IsValid);
            Assert.Equal(ChainFailureReason.RevocationUnknown, result.Reason);
        }

        [Fact]
        public void Revocation_source_revokes()
        {
            var source = new RecordedRevocations(Contract.Certificate.SerialNumber, RevocationReason.CessationOfOperation);

            var result = Validator.Validate(Request(Contract.Certificate, [Sub1, Sub2], source: source));

            Assert.Equal(ChainFailureReason.Revoked, result.Reason);
            Assert.Equal(RevocationEvidence.RevocationSource, result.Revocation?.Evidence);
            Assert.Equal(RevocationReason.CessationOfOperation, result.Revocation?.Reason);
            Assert.Contains(Sub2.Certificate, source.AskedIssuers);
        }

        [Fact]
        public void Require_mode_without_any_revocation_data_is_unknown()
        {
            var result = Validator.Validate(Request(Contract.Certificate, [Sub1, Sub2], mode: RevocationMode.Require));

            Assert.Equal(ChainFailureReason.RevocationUnknown, result.Reason);
        }

        [Fact]
        public void Expired_sub_ca_is_reported_as_expired_at_its_index()
        {
            var oldSub2 = TestPki.Issue("CN=Old MO Sub2,DC=MO", TestPki.NewKey(), Sub1, ca: true, pathLength: 0, notAfter: new DateTime(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc));
            var leaf = TestPki.Leaf(oldSub2, "CN=UKSWI123456789D,DC=MO");

            var result = Validator.Validate(Request(leaf.Certificate, [Sub1, oldSub2]));

            Assert.Equal(ChainFailureReason.Expired, result.Reason);
            Assert.Equal(1, result.FailingIndex);
        }

        [Fact]
        public void Tampered_leaf_signature_fails_even_with_warm_caches()
        {
            Assert.True(Validator.Validate(Request(Contract.Certificate, [Sub1, Sub2])).IsValid);
            var der = Contract.Certificate.GetEncoded();
            der[^5] ^= 0x01;
            var tampered = CertificateReader.ReadCertificate(der);

            var result = Validator.Validate(Request(tampered, [Sub1, Sub2]));

            Assert.Equal(ChainFailureReason.BadSignature, result.Reason);
            Assert.Equal(0, result.FailingIndex);
        }

        [Fact]
        public void Issuer_name_that_differs_from_the_key_holders_subject_fails_name_chaining()
        {
            var key = TestPki.NewKey();
            var renamedSub2 = TestPki.Issue("CN=Renamed MO Sub2,DC=MO", Sub2.Key, Sub1, ca: true, pathLength: 0);
            var leaf = TestPki.Leaf(Sub2, "CN=UKSWI123456789E,DC=MO", key: key);

            var result = Validator.Validate(Request(leaf.Certificate, [Sub1, renamedSub2]));

            Assert.Equal(ChainFailureReason.NameChaining, result.Reason);
            Assert.Equal(0, result.FailingIndex);
        }

        [Fact]
        public void Concurrent_validations_share_the_caches_safely()
        {
            var results = new bool[256];

            Parallel.For(0, results.Length, i => results[i] = Validator.Validate(Request(Contract.Certificate, [Sub1, Sub2])).IsValid);

            Assert.All(results, Assert.True);
        }

        private static ChainValidationRequest Request(
            X509Certificate leaf,
            TestPki.Issued[] intermediates,
            Iso15118Rules? iso = null,
            X509Crl[]? crls = null,
            IRevocationSource? source = null,
            RevocationMode mode = RevocationMode.IfAvailable) => new()
        {
            Leaf = leaf,
            Intermediates = intermediates.Select(issued => issued.Certificate).ToList(),
            TrustAnchors = [Root.Certificate],
            At = TestPki.At,
            Iso15118 = iso,
            Crls = crls ?? [],
            Revocation = source,
            RevocationMode = mode,
        };

        [Fact]
        public void A_revocation_earlier_in_the_same_second_as_the_check_counts()
        {
            // The validation time is compared at whole seconds; the record carries sub-second precision.
            var revokedAt = new DateTimeOffset(TestPki.At.UtcDateTime, TimeSpan.Zero).AddMilliseconds(-TestPki.At.Millisecond).AddMilliseconds(400);
            var source = new RecordedRevocations(Contract.Certificate.SerialNumber, RevocationReason.KeyCompromise, revokedAt);
            var request = Request(Contract.Certificate, [Sub1, Sub2], source: source);
            var result = Validator.Validate(new ChainValidationRequest
            {
                Leaf = request.Leaf, Intermediates = request.Intermediates, TrustAnchors = request.TrustAnchors, Revocation = source,
                At = revokedAt.AddMilliseconds(300),
            });
            Assert.Equal(ChainFailureReason.Revoked, result.Reason);
        }

        private sealed class RecordedRevocations(BigInteger revokedSerial, RevocationReason reason, DateTimeOffset? revokedAt = null) : IRevocationSource
        {
            public List<X509Certificate> AskedIssuers { get; } = [];

            public RevocationCheck Check(X509Certificate issuer, BigInteger serialNumber)
            {
                lock (AskedIssuers)
                {
                    AskedIssuers.Add(issuer);
                }

                return serialNumber.Equals(revokedSerial)
                    ? RevocationCheck.RevokedOn(revokedAt ?? new DateTimeOffset(2025, 5, 1, 0, 0, 0, TimeSpan.Zero), reason)
                    : RevocationCheck.Good;
            }
        }
    }
}
