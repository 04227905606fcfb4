using PlugAndCharge.Samples.Roaming;
using PlugAndCharge.Server.Tests.Hosting;
using Xunit;

namespace PlugAndCharge.Server.Tests.Scenario;

/// <summary>
/// The README's first command, as a test: the roaming scenario against the real host (PostgreSQL, mutual TLS, EST, OCPI
/// with a separate eMSP platform, an npm OCPP charger, OCSP). Played twice on the same database, as a user who runs
/// the command again does: onboarding, root registration, the OCPI party and the station are found and reused.
/// </summary>
public sealed class RoamingScenarioTests(ServiceFixture f) : IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task A_roaming_session_runs_end_to_end_and_again_on_the_same_database()
    {
        foreach (var run in new[] { 1, 2 })
        {
            var log = new StringWriter();
            var timeline = new Timeline(log);
            var credentials = Path.Combine(f.WorkDir, "participants");
            await using var session = await RoamingScenario.RunAsync(new ServiceConnection(f.HttpUrl, f.HttpsUrl, f.ParticipantCa, f.AdminCertificate), timeline,
                new ScenarioOptions { CredentialDirectory = credentials });

            Assert.True(PlugAndCharge.Core.Identifiers.Emaid.TryParse(session.Emaid, PlugAndCharge.Core.Identifiers.IdentifierStrictness.Strict, out _, out var why), why);
            Assert.StartsWith("DESMP", session.Emaid.Replace("-", "", StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase);
            Assert.Equal("Accepted/Accepted", session.FirstAuthorization);
            Assert.Equal("ALLOWED", session.EmspAnswer);
            Assert.Equal("Blocked/CertificateRevoked", session.SecondAuthorization);
            Assert.StartsWith("revoked", session.OcspStatus, StringComparison.Ordinal);
            Assert.Contains("CessationOfOperation", session.OcspStatus, StringComparison.Ordinal);

            // The timeline names every actor and every protocol step, each with its duration.
            var text = log.ToString();
            foreach (var step in new[] { "PCP PUT /v1/oem/provCerts", "POST credentials", "POST /admin/ocpi/agreements", "POST /v1/contracts", "Get15118EVCertificate", "verifies CertificateInstallationRes", "Authorize", "GetCertificateStatus" })
                Assert.Contains(step, text, StringComparison.Ordinal);
            Assert.DoesNotContain("FAILED", text, StringComparison.Ordinal);
            Assert.All(timeline.Entries, e => Assert.True(e.Took >= TimeSpan.Zero));
            Assert.Equal(3, session.CredentialFiles.Count);
            Assert.All(session.CredentialFiles.Values, c => Assert.True(File.Exists(c.Cert) && File.Exists(c.Key)));
        }
    }
}
