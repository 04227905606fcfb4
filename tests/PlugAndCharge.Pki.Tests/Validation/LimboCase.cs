using System.Net;
using System.Text;
using System.Text.Json;
using Org.BouncyCastle.X509;

namespace PlugAndCharge.Pki.Tests.Validation
{
    // Imported inside the namespace so these types win over same-named ones in enclosing PlugAndCharge namespaces.
    using PlugAndCharge.Pki.Validation;

    /// <summary>One x509-limbo test case and its translation into a <see cref="ChainValidationRequest"/>.</summary>
    internal sealed class LimboCase
    {
        /// <summary>
        /// limbo features the validator deliberately does not implement. Everything else in the suite is expected to pass.
        /// </summary>
        public static readonly IReadOnlyDictionary<string, string> UnsupportedFeatures = new Dictionary<string, string>
        {
            ["pedantic-public-suffix-wildcard"] = "needs the Public Suffix List, which the validator does not ship (it only refuses '*.<single label>')",
            ["pedantic-rfc5280"] = "a trust anchor is trusted out of band (RFC 5280 §6.1.1 (d)), so its missing AKI is accepted; cve::cve-2024-0567 relies on that",
            ["pedantic-serial-number"] = "RFC 5280 §4.1.2.2 asks certificate users to gracefully handle zero, negative or over-long serials",
        };

        // When limbo gives no validation time it means "now"; a fixed instant keeps the run reproducible.
        private static readonly DateTimeOffset DefaultTime = new(2025, 6, 1, 0, 0, 0, TimeSpan.Zero);

        private static readonly Dictionary<string, string> ExtendedKeyUsages = new()
        {
            ["serverAuth"] = "1.3.6.1.5.5.7.3.1",
            ["clientAuth"] = "1.3.6.1.5.5.7.3.2",
            ["codeSigning"] = "1.3.6.1.5.5.7.3.3",
            ["emailProtection"] = "1.3.6.1.5.5.7.3.4",
            ["timeStamping"] = "1.3.6.1.5.5.7.3.8",
            ["OCSPSigning"] = "1.3.6.1.5.5.7.3.9",
            ["anyExtendedKeyUsage"] = "2.5.29.37.0",
        };

        private static readonly Dictionary<string, KeyUsageBits> KeyUsages = new()
        {
            ["digitalSignature"] = KeyUsageBits.DigitalSignature,
            ["contentCommitment"] = KeyUsageBits.NonRepudiation,
            ["keyEncipherment"] = KeyUsageBits.KeyEncipherment,
            ["dataEncipherment"] = KeyUsageBits.DataEncipherment,
            ["keyAgreement"] = KeyUsageBits.KeyAgreement,
            ["keyCertSign"] = KeyUsageBits.KeyCertSign,
            ["cRLSign"] = KeyUsageBits.CrlSign,
            ["encipherOnly"] = KeyUsageBits.EncipherOnly,
            ["decipherOnly"] = KeyUsageBits.DecipherOnly,
        };

        private static readonly Lazy<IReadOnlyList<LimboCase>> Suite = new(Load);

        private readonly JsonElement _json;

        private LimboCase(JsonElement json)
        {
            _json = json;
            Id = json.GetProperty("id").GetString()!;
            ExpectSuccess = json.GetProperty("expected_result").GetString() == "SUCCESS";
            SkipReason = FindSkipReason(json);
        }

        public string Id { get; }

        public bool ExpectSuccess { get; }

        public string? SkipReason { get; }

        public static IReadOnlyList<LimboCase> All => Suite.Value;

        public static LimboCase Get(string id)
        {
            foreach (var testCase in All)
            {
                if (testCase.Id == id)
                {
                    return testCase;
                }
            }

            throw new KeyNotFoundException(id);
        }

        /// <summary>Runs the case; a leaf that cannot even be parsed is a rejection, as in every limbo harness.</summary>
        public ChainValidationResult? Run(ChainValidator validator, out string? parseError)
        {
            parseError = null;
            X509Certificate leaf;
            try
            {
                leaf = CertificateReader.ReadCertificate(Ascii(_json.GetProperty("peer_certificate").GetString()!));
            }
            catch (FormatException e)
            {
                parseError = e.Message;
                return null;
            }

            var request = new ChainValidationRequest
            {
                Leaf = leaf,
                Intermediates = Certificates("untrusted_intermediates"),
                TrustAnchors = Certificates("trusted_certs"),
                At = _json.GetProperty("validation_time").ValueKind == JsonValueKind.String
                    ? DateTimeOffset.Parse(_json.GetProperty("validation_time").GetString()!, System.Globalization.CultureInfo.InvariantCulture)
                    : DefaultTime,
                Crls = Crls(),
                ExpectedPeerName = PeerName(),
                RequiredExtendedKeyUsages = Strings("extended_key_usage").Select(name => ExtendedKeyUsages[name]).ToList(),
                RequiredLeafKeyUsage = Strings("key_usage").Aggregate(KeyUsageBits.None, (bits, name) => bits | KeyUsages[name]),
                MaxIntermediates = _json.GetProperty("max_chain_depth").ValueKind == JsonValueKind.Number ? _json.GetProperty("max_chain_depth").GetInt32() : null,
                // The webpki:: and online:: namespaces hold CA/Browser Forum expectations; the rest are RFC 5280's.
                Profile = Id.StartsWith("webpki::", StringComparison.Ordinal) || Id.StartsWith("online::", StringComparison.Ordinal)
                    ? ConformanceProfile.WebPki
                    : ConformanceProfile.Rfc5280,
            };
            return validator.Validate(request);
        }

        public override string ToString() => Id;

        private static string? FindSkipReason(JsonElement json)
        {
            foreach (var feature in json.GetProperty("features").EnumerateArray())
            {
                if (UnsupportedFeatures.TryGetValue(feature.GetString()!, out var reason))
                {
                    return feature.GetString() + ": " + reason;
                }
            }

            if (json.GetProperty("signature_algorithms").GetArrayLength() > 0)
            {
                return "restricting signature algorithms per request is not supported";
            }

            return null;
        }

        private static IReadOnlyList<LimboCase> Load()
        {
            using var stream = File.OpenRead(TestPaths.Vector("limbo/limbo.json"));
            using var document = JsonDocument.Parse(stream);
            var result = new List<LimboCase>();
            foreach (var testCase in document.RootElement.GetProperty("testcases").EnumerateArray())
            {
                result.Add(new LimboCase(testCase.Clone()));
            }

            return result;
        }

        private static byte[] Ascii(string pem) => Encoding.ASCII.GetBytes(pem);

        private List<X509Certificate> Certificates(string property)
        {
            // A certificate the parser refuses is left out, as a TLS stack would drop it from the bundle.
            var result = new List<X509Certificate>();
            foreach (var pem in _json.GetProperty(property).EnumerateArray())
            {
                try
                {
                    result.Add(CertificateReader.ReadCertificate(Ascii(pem.GetString()!)));
                }
                catch (FormatException)
                {
                }
            }

            return result;
        }

        private List<X509Crl> Crls()
        {
            var result = new List<X509Crl>();
            foreach (var pem in _json.GetProperty("crls").EnumerateArray())
            {
                result.Add(CertificateReader.ReadCrl(Ascii(pem.GetString()!)));
            }

            return result;
        }

        private IEnumerable<string> Strings(string property)
        {
            var value = _json.GetProperty(property);
            if (value.ValueKind != JsonValueKind.Array)
            {
                yield break;
            }

            foreach (var item in value.EnumerateArray())
            {
                yield return item.GetString()!;
            }
        }

        private PeerName? PeerName()
        {
            var peer = _json.GetProperty("expected_peer_name");
            if (peer.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            var value = peer.GetProperty("value").GetString()!;
            return peer.GetProperty("kind").GetString() switch
            {
                "DNS" => Pki.Validation.PeerName.Dns(value),
                "IP" => Pki.Validation.PeerName.Ip(IPAddress.Parse(value)),
                var other => throw new NotSupportedException("peer name kind " + other),
            };
        }
    }
}
