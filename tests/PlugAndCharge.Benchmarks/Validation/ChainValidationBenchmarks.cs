using BenchmarkDotNet.Attributes;
using Org.BouncyCastle.X509;

namespace PlugAndCharge.Benchmarks.Validation
{
    // Imported inside the namespace so these types win over same-named ones in enclosing PlugAndCharge namespaces.
    using PlugAndCharge.Pki.Validation;

    /// <summary>
    /// Validation of the EVerest ISO 15118-2 contract chain (V2G-style MO root → Sub-CA 1 → Sub-CA 2 → contract leaf, P-256).
    /// Warm: one long-lived validator, as in production, so only the leaf signature is verified per call. Cold: a new validator
    /// per call, so every certificate is parsed and every signature verified.
    /// </summary>
    [MemoryDiagnoser]
    public class ChainValidationBenchmarks
    {
        private ChainValidator _warm = null!;
        private ChainValidationRequest _request = null!;
        private ChainValidationRequest _isoRequest = null!;

        [GlobalSetup]
        public void Setup()
        {
            var directory = PlugAndCharge.Tests.TestPaths.Vector("everest_aux_pki");
            var leaf = CertificateReader.ReadCertificateFile(Path.Combine(directory, "client", "mo", "MO_LEAF.pem"))[0];
            var intermediates = CertificateReader.ReadCertificateFile(Path.Combine(directory, "ca", "mo", "INTERMEDIATE_MO_CA_CERTS.pem"));
            var root = CertificateReader.ReadCertificateFile(Path.Combine(directory, "ca", "mo", "MO_ROOT_CA.pem"));
            var at = new DateTimeOffset(2025, 6, 1, 0, 0, 0, TimeSpan.Zero);
            _request = new ChainValidationRequest { Leaf = leaf, Intermediates = intermediates, TrustAnchors = root, At = at };
            _isoRequest = new ChainValidationRequest
            {
                Leaf = leaf,
                Intermediates = intermediates,
                TrustAnchors = root,
                At = at,
                Iso15118 = new Iso15118Rules { ExpectedEmaid = "UKSWI123456789A" },
            };
            _warm = new ChainValidator();
            if (!_warm.Validate(_request).IsValid || !_warm.Validate(_isoRequest).IsValid)
            {
                throw new InvalidOperationException("benchmark chain does not validate");
            }
        }

        [Benchmark(Baseline = true)]
        public bool WarmCache() => _warm.Validate(_request).IsValid;

        [Benchmark]
        public bool WarmCacheIso15118() => _warm.Validate(_isoRequest).IsValid;

        [Benchmark]
        public bool ColdCache() => new ChainValidator().Validate(_request).IsValid;
    }
}
