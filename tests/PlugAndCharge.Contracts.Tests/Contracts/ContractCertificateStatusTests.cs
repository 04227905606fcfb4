using PlugAndCharge.Contracts.Contracts;
using Xunit;

namespace PlugAndCharge.Contracts.Tests.Contracts;

/// <summary>The one verdict on a contract certificate: revocation outranks the validity period, whose bounds are inclusive.</summary>
public class ContractCertificateStatusTests
{
    private static readonly DateTimeOffset NotBefore = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset NotAfter = new(2027, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("2026-06-01", false, ContractCertificateState.Valid)]
    [InlineData("2026-01-01", false, ContractCertificateState.Valid)]
    [InlineData("2027-01-01", false, ContractCertificateState.Valid)]
    [InlineData("2025-12-31", false, ContractCertificateState.NotYetValid)]
    [InlineData("2027-01-02", false, ContractCertificateState.Expired)]
    [InlineData("2026-06-01", true, ContractCertificateState.Revoked)]
    [InlineData("2027-01-02", true, ContractCertificateState.Revoked)]
    [InlineData("2025-12-31", true, ContractCertificateState.Revoked)]
    public void Decides_from_the_certificates_facts(string at, bool revoked, ContractCertificateState expected) =>
        Assert.Equal(expected, ContractCertificateStatus.Decide(NotBefore, NotAfter, revoked, DateTimeOffset.Parse(at + "T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture)));
}
