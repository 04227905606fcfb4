using Xunit;

namespace PlugAndCharge.Pki.Tests.Validation
{
    using PlugAndCharge.Pki.Validation;

    /// <summary>
    /// A caller that verified this exact leaf under an issuer before (the provisioning certificate pool does at upload)
    /// may skip that one signature check, and only that one.
    /// </summary>
    public sealed class LeafVerifiedByTests
    {
        // Two sub-CAs with one name under one root: the leaf is signed by B, but only A is offered, so its signature fails.
        private static readonly TestPki.Issued Root = TestPki.Root();
        private static readonly TestPki.Issued SubA = TestPki.SubCa(Root, "CN=OEM Sub-CA", pathLength: 0);
        private static readonly TestPki.Issued SubB = TestPki.SubCa(Root, "CN=OEM Sub-CA", pathLength: 0);
        private static readonly TestPki.Issued Leaf = TestPki.Leaf(SubB, "CN=Vehicle");

        private static ChainValidationResult Validate(TestPki.Issued? verifiedBy, TestPki.Issued? root = null) => new ChainValidator().Validate(new ChainValidationRequest
        {
            Leaf = Leaf.Certificate, LeafVerifiedBy = verifiedBy?.Certificate, Intermediates = [SubA.Certificate],
            TrustAnchors = [(root ?? Root).Certificate], At = TestPki.At,
        });

        [Fact]
        public void Without_it_the_leaf_signature_is_checked()
        {
            var result = Validate(null);
            Assert.False(result.IsValid);
            Assert.Equal(ChainFailureReason.BadSignature, result.Reason);
        }

        [Fact]
        public void It_covers_only_the_named_issuer()
        {
            // The caller vouches for B, the path goes through A: A's (failing) check still runs.
            Assert.Equal(ChainFailureReason.BadSignature, Validate(SubB).Reason);
        }

        [Fact]
        public void It_skips_the_leaf_link_under_that_issuer_and_nothing_else()
        {
            Assert.True(Validate(SubA).IsValid);
            // The CA links are still verified: A under a root that did not sign it fails.
            var otherRoot = TestPki.Root("CN=Test V2G Root,DC=V2G");
            var result = Validate(SubA, otherRoot);
            Assert.False(result.IsValid);
            Assert.Equal(ChainFailureReason.BadSignature, result.Reason);
        }
    }
}
