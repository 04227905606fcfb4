using Org.BouncyCastle.Math;
using Org.BouncyCastle.X509;

namespace PlugAndCharge.Pki.Validation;

/// <summary>
/// Our own revocation records, consulted per certificate of the path. Synchronous on purpose: path validation is a CPU-bound
/// hot path, so an implementation answers from an in-memory snapshot of the store that it refreshes on its own schedule.
/// </summary>
public interface IRevocationSource
{
    /// <summary>Status of the certificate with <paramref name="serialNumber"/> issued by <paramref name="issuer"/>.</summary>
    RevocationCheck Check(X509Certificate issuer, BigInteger serialNumber);
}
