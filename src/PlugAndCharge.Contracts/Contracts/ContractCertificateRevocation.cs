using PlugAndCharge.Pki.Revocation;

namespace PlugAndCharge.Contracts.Contracts;

/// <summary>
/// Revokes the hub-issued certificates of contracts that end (termination, vehicle deletion), in two passes around the
/// store's change. The first pass, before it, makes a charger's status check fail at once. The second, after it, catches
/// a certificate that an installation or a re-issue committed between the first pass and the change: until the change
/// commits the contract is still active, so such a certificate becomes current and reaches the vehicle, and the
/// termination then purges its key without anyone revoking it. The change waits for that commit (the certificate
/// commit holds the contract row), so the second read sees every certificate the contract will ever have.
/// </summary>
internal sealed class ContractCertificateRevocation(CertificateRevoker revoker, string actor)
{
    private readonly HashSet<(string IssuerId, string Serial)> _revoked = [];

    /// <summary>Revokes each contract's current hub-issued certificate that this instance has not revoked yet.</summary>
    public async Task RevokeAsync(IEnumerable<Contract> contracts, CancellationToken ct)
    {
        foreach (var c in contracts)
            if (c.Certificate is { IssuerId: { } issuer } cert && _revoked.Add((issuer, cert.Serial)))
                await revoker.RevokeAsync(issuer, cert.Serial, RevocationReason.CessationOfOperation, actor, ct);
    }
}
