using System.Diagnostics;
using Org.BouncyCastle.X509;
using Xunit;

namespace PlugAndCharge.Pki.Tests.Validation
{
    // Imported inside the namespace so these types win over same-named ones in enclosing PlugAndCharge namespaces.
    using PlugAndCharge.Pki.Validation;

    /// <summary>Path building over adversarial bundles stays bounded.</summary>
    public sealed class PathBuildingTests
    {
        [Fact]
        public void Forty_same_name_cas_without_a_trusted_root_are_rejected_within_the_work_bound()
        {
            // Every CA is named alike, so each one is an issuer candidate of every other (Go's TestPathologicalChains).
            var previous = TestPki.Issue("CN=Loop CA", TestPki.NewKey(), issuer: null, ca: true, pathLength: null);
            var bundle = new List<X509Certificate> { previous.Certificate };
            for (var i = 0; i < 40; i++)
            {
                previous = TestPki.Issue("CN=Loop CA", TestPki.NewKey(), previous, ca: true, pathLength: null);
                bundle.Add(previous.Certificate);
            }

            var leaf = TestPki.Leaf(previous, "CN=victim");
            var unrelatedRoot = TestPki.Root("CN=Unrelated Root");
            var stopwatch = Stopwatch.StartNew();

            var result = new ChainValidator().Validate(new ChainValidationRequest
            {
                Leaf = leaf.Certificate,
                Intermediates = bundle,
                TrustAnchors = [unrelatedRoot.Certificate],
                At = TestPki.At,
            });

            Assert.False(result.IsValid);
            Assert.Contains("work limit", result.Detail, StringComparison.Ordinal);
            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(2), $"took {stopwatch.Elapsed}");
        }
    }
}
