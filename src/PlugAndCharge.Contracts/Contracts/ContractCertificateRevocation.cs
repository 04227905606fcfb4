using PlugAndCharge.Contracts.Stores;
using PlugAndCharge.Pki.Revocation;

namespace PlugAndCharge.Contracts.Contracts;

/// <summary>
/// Revokes the hub-issued certificates of contracts that end (termination, vehicle deletion), in two passes around the
/// store's change. The first pass, before it, makes a charger's status check fail at once. The second, after it, catches
/// a certificate that an installation or a re-issue committed between the first pass and the change: until the change
/// commits the contract is still active, so such a certificate becomes current and reaches the vehicle, and the
/// termination then purges its key without anyone revoking it. The change waits for that commit (the certificate
/// commit holds the contract row), so the second read sees every certificate the contract will ever have.
/// Each pass revokes every certificate the contract ever had (its history, migration 0010), not only the current one:
/// renewals, updates and concurrent installations leave earlier certificates that a vehicle may still hold.
/// </summary>
internal sealed class ContractCertificateRevocation(CertificateRevoker revoker, IContractStore store, string actor)
{
    private readonly HashSet<(string IssuerId, string Serial)> _revoked = [];

    /// <summary>Revokes each contract's hub-issued certificates, current and earlier, that this instance has not revoked yet.</summary>
    public async Task RevokeAsync(IEnumerable<Contract> contracts, CancellationToken ct)
    {
        foreach (var c in contracts)
        {
            if (c.Certificate is { IssuerId: { } issuer } cert) await RevokeOnceAsync(issuer, cert.Serial, ct);
            foreach (var earlier in await store.ListContractCertificatesAsync(c.Id, ct))
                if (earlier.IssuerId is { } earlierIssuer) await RevokeOnceAsync(earlierIssuer, earlier.Serial, ct);
        }
    }

    private async Task RevokeOnceAsync(string issuer, string serial, CancellationToken ct)
    {
        // Idempotent in the CA (a repeat returns the first revocation); the set only saves the round trip.
        if (_revoked.Add((issuer, serial))) await revoker.RevokeAsync(issuer, serial, RevocationReason.CessationOfOperation, actor, ct);
    }
}
