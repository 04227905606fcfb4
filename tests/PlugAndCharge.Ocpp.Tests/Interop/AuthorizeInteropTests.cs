using PlugAndCharge.Ocpp.Authorization;
using PlugAndCharge.Ocpp.Certificates;
using PlugAndCharge.Ocpp.Tests.Infrastructure;
using PlugAndCharge.Pki.Revocation;
using Xunit;

namespace PlugAndCharge.Ocpp.Tests.Interop;

/// <summary>Authorize with contract certificates from the development PKI: the C07 status pairs of docs/domain.md §6.</summary>
[Collection(OcppServerCollection.Name)]
public sealed class AuthorizeInteropTests(OcppServerFixture server)
{
    private static object Authorize(string emaid, string? chainPem = null, object[]? hashData = null) => new
    {
        call = "Authorize",
        @params = chainPem != null
            ? new { idToken = new { idToken = emaid, type = "eMAID" }, certificate = chainPem } as object
            : hashData != null ? new { idToken = new { idToken = emaid, type = "eMAID" }, iso15118CertificateHashData = hashData } : new { idToken = new { idToken = emaid, type = "eMAID" } },
    };

    private static (string Token, string? Certificate) Statuses(System.Text.Json.JsonElement result) =>
        (result.GetProperty("idTokenInfo").GetProperty("status").GetString()!,
         result.TryGetProperty("certificateStatus", out var c) ? c.GetString() : null);

    private async Task<StationRun> RunAsync(string protocol, params object[] steps)
    {
        var id = await server.RegisterStationAsync();
        var config = server.StationConfig(id, protocol, steps);
        config["strict"] = protocol == "ocpp2.0.1"; // ocpp-rpc checks our AuthorizeResponse against its 2.0.1 schema
        var run = await NodeStation.RunAsync(config);
        Assert.True(run.Connected, run.ToString());
        return run;
    }

    [Theory]
    [InlineData("ocpp2.0.1")]
    [InlineData("ocpp2.1")]
    public async Task Chain_statuses_map_to_the_C07_pairs(string protocol)
    {
        var active = OcppServerFixture.NewEmaid();
        var blocked = OcppServerFixture.NewEmaid();
        var unknown = OcppServerFixture.NewEmaid();
        var expired = OcppServerFixture.NewEmaid();
        var revoked = OcppServerFixture.NewEmaid();
        server.Contracts.Set(active, ContractVerdict.Active);
        server.Contracts.Set(blocked, ContractVerdict.Blocked);
        server.Contracts.Set(expired, ContractVerdict.Active);
        server.Contracts.Set(revoked, ContractVerdict.Active);
        var activeCert = await server.IssueContractAsync(active);
        var blockedCert = await server.IssueContractAsync(blocked);
        var unknownCert = await server.IssueContractAsync(unknown);
        var expiredCert = await server.IssueExpiredContractAsync(expired);
        var revokedCert = await server.IssueContractAsync(revoked);
        await server.Ca.Revoker.RevokeAsync("iso2-mo-subca2", revokedCert.Record.Serial, RevocationReason.KeyCompromise, "test");

        var run = await RunAsync(protocol,
            Authorize(active, OcppServerFixture.ChainPem(activeCert)),
            Authorize(blocked, OcppServerFixture.ChainPem(blockedCert)),
            Authorize(unknown, OcppServerFixture.ChainPem(unknownCert)),
            Authorize(expired, OcppServerFixture.ChainPem(expiredCert)),
            Authorize(revoked, OcppServerFixture.ChainPem(revokedCert)),
            // the EMAID must be the leaf's CN
            Authorize(blocked, OcppServerFixture.ChainPem(activeCert)),
            // the EMAID compared normalized: lower case with separators names the same contract
            Authorize(active[..2].ToLowerInvariant() + "-" + active[2..5] + "-" + active[5..], OcppServerFixture.ChainPem(activeCert)),
            // a leaf without its sub-CAs still chains through our own sub-CA certificates
            Authorize(active, System.Security.Cryptography.PemEncoding.WriteString("CERTIFICATE", activeCert.Certificate.GetEncoded())),
            // garbage instead of a certificate
            Authorize(active, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"));

        Assert.Equal(("Accepted", "Accepted"), Statuses(run.Ok(0)));
        Assert.Equal(("Blocked", "ContractCancelled"), Statuses(run.Ok(1)));
        Assert.Equal(("Unknown", "ContractCancelled"), Statuses(run.Ok(2)));
        Assert.Equal(("Expired", "CertificateExpired"), Statuses(run.Ok(3)));
        Assert.Equal(("Blocked", "CertificateRevoked"), Statuses(run.Ok(4)));
        Assert.Equal(("Invalid", "CertChainError"), Statuses(run.Ok(5)));
        Assert.Equal(("Accepted", "Accepted"), Statuses(run.Ok(6)));
        Assert.Equal(("Accepted", "Accepted"), Statuses(run.Ok(7)));
        Assert.Equal(("Invalid", "CertChainError"), Statuses(run.Ok(8)));
    }

    [Fact]
    public async Task A_chain_from_a_foreign_root_is_a_chain_error()
    {
        // A contract-shaped certificate signed by a root we do not trust.
        using var rootKey = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var rootReq = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=Foreign MO Root,DC=MO", rootKey, System.Security.Cryptography.HashAlgorithmName.SHA256);
        rootReq.CertificateExtensions.Add(new System.Security.Cryptography.X509Certificates.X509BasicConstraintsExtension(true, false, 0, true));
        using var root = rootReq.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        var emaid = OcppServerFixture.NewEmaid();
        using var leafKey = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var leafReq = new System.Security.Cryptography.X509Certificates.CertificateRequest($"CN={emaid},DC=MO", leafKey, System.Security.Cryptography.HashAlgorithmName.SHA256);
        using var leaf = leafReq.Create(root, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(30), [1, 2, 3, 4]);
        server.Contracts.Set(emaid, ContractVerdict.Active);

        var run = await RunAsync("ocpp2.0.1", Authorize(emaid, leaf.ExportCertificatePem() + "\n" + root.ExportCertificatePem()));
        Assert.Equal(("Invalid", "CertChainError"), Statuses(run.Ok(0)));
    }

    [Fact]
    public async Task Hash_data_of_our_certificates_is_checked_against_our_records()
    {
        var good = OcppServerFixture.NewEmaid();
        var revoked = OcppServerFixture.NewEmaid();
        var expired = OcppServerFixture.NewEmaid();
        foreach (var e in new[] { good, revoked, expired }) server.Contracts.Set(e, ContractVerdict.Active);
        var goodCert = await server.IssueContractAsync(good);
        var revokedCert = await server.IssueContractAsync(revoked);
        var expiredCert = await server.IssueExpiredContractAsync(expired);
        await server.Ca.Revoker.RevokeAsync("iso2-mo-subca2", revokedCert.Record.Serial, RevocationReason.CessationOfOperation, "test");
        var subCa = await server.CaCertificateAsync("iso2-mo-subca2");

        object HashOf(Pki.Issuance.IssuedCertificate c)
        {
            var (name, key, serial) = CertificateHashes.Of(c.Certificate, subCa);
            return new { hashAlgorithm = "SHA256", issuerNameHash = name.ToUpperInvariant(), issuerKeyHash = key, serialNumber = serial, responderURL = "http://127.0.0.1:9/ocsp" };
        }

        var run = await RunAsync("ocpp2.0.1",
            Authorize(good, hashData: [HashOf(goodCert)]),
            Authorize(revoked, hashData: [HashOf(revokedCert)]),
            Authorize(expired, hashData: [HashOf(expiredCert)]),
            Authorize(revoked, hashData: [HashOf(goodCert)]),
            Authorize(good, hashData: [new { hashAlgorithm = "SHA256", issuerNameHash = new string('a', 64), issuerKeyHash = new string('b', 64), serialNumber = "1234", responderURL = "http://169.254.169.254/latest" }]),
            Authorize(good));

        Assert.Equal(("Accepted", "Accepted"), Statuses(run.Ok(0)));
        Assert.Equal(("Blocked", "CertificateRevoked"), Statuses(run.Ok(1)));
        Assert.Equal(("Expired", "CertificateExpired"), Statuses(run.Ok(2)));
        Assert.Equal(("Invalid", "CertChainError"), Statuses(run.Ok(3)));
        // A foreign issuer whose responder is not allow-listed is unverifiable; the URL is never fetched.
        Assert.Equal(("Invalid", "CertChainError"), Statuses(run.Ok(4)));
        // EMAID alone: the contract state, no certificate status.
        Assert.Equal(("Accepted", null), Statuses(run.Ok(5)));
    }

    [Fact]
    public async Task A_16_station_authorizes_through_DataTransfer()
    {
        var emaid = OcppServerFixture.NewEmaid();
        var revoked = OcppServerFixture.NewEmaid();
        server.Contracts.Set(emaid, ContractVerdict.Active);
        server.Contracts.Set(revoked, ContractVerdict.Active);
        var cert = await server.IssueContractAsync(emaid);
        var revokedCert = await server.IssueContractAsync(revoked);
        await server.Ca.Revoker.RevokeAsync("iso2-mo-subca2", revokedCert.Record.Serial, RevocationReason.KeyCompromise, "test");

        object Wrapped(string e, string pem) => new
        {
            call = "DataTransfer",
            @params = new { vendorId = "org.openchargealliance.iso15118pnc", messageId = "Authorize", data = System.Text.Json.JsonSerializer.Serialize(new { idToken = new { idToken = e, type = "eMAID" }, certificate = pem }) },
        };
        var run = await RunAsync("ocpp1.6",
            Wrapped(emaid, OcppServerFixture.ChainPem(cert)),
            Wrapped(revoked, OcppServerFixture.ChainPem(revokedCert)),
            new { call = "DataTransfer", @params = new { vendorId = "org.openchargealliance.iso15118pnc", messageId = "Authorize", data = "{\"idToken\":{\"type\":\"eMAID\"}}" } },
            new { call = "DataTransfer", @params = new { vendorId = "com.example.other", messageId = "Authorize", data = "{}" } },
            new { call = "DataTransfer", @params = new { vendorId = "org.openchargealliance.iso15118pnc", messageId = "InstallCertificate", data = "{}" } });

        var first = run.Ok(0);
        Assert.Equal("Accepted", first.GetProperty("status").GetString());
        Assert.Equal(("Accepted", "Accepted"), Statuses(System.Text.Json.JsonDocument.Parse(first.GetProperty("data").GetString()!).RootElement));
        Assert.Equal(("Blocked", "CertificateRevoked"), Statuses(System.Text.Json.JsonDocument.Parse(run.Ok(1).GetProperty("data").GetString()!).RootElement));
        // The inner 2.0.1 payload is schema-checked; the answer uses 1.6's spelling.
        Assert.Equal("OccurenceConstraintViolation", run.ErrorCode(2));
        Assert.Equal("UnknownVendorId", run.Ok(3).GetProperty("status").GetString());
        Assert.Equal("UnknownMessageId", run.Ok(4).GetProperty("status").GetString());
    }
}
