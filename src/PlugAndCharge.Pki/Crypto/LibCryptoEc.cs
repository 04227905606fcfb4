using System.Runtime.InteropServices;

namespace PlugAndCharge.Pki.Crypto;

/// <summary>
/// The few EC_KEY functions of OpenSSL's libcrypto 3 that <see cref="P256"/> calls directly: the library .NET's own
/// cryptography already loaded on Linux, so the arithmetic is the same OpenSSL code, without the per-key overhead of the
/// .NET wrapper (a new EC_GROUP per key, a provider export per operation, a full n·Q check on every import and ECDH
/// peer). All functions are resolved once; when the library or one of them is missing (another platform, a libcrypto
/// built without the deprecated EC_KEY API), <see cref="Available"/> is false and P256 uses System.Security.Cryptography.
/// </summary>
internal static unsafe class LibCryptoEc
{
    /// <summary>NID_X9_62_prime256v1 (obj_mac.h).</summary>
    private const int NidPrime256v1 = 415;

    /// <summary>POINT_CONVERSION_UNCOMPRESSED (ec.h): 04 ‖ X ‖ Y.</summary>
    private const int Uncompressed = 4;

    public static readonly bool Available;

    /// <summary>The P-256 group, built once; EC_KEY_set_group copies it into each key, which is cheap (a reference to the precomputed tables).</summary>
    public static readonly IntPtr Group;

    public static readonly delegate* unmanaged<IntPtr> EC_KEY_new;
    public static readonly delegate* unmanaged<IntPtr, void> EC_KEY_free;
    public static readonly delegate* unmanaged<IntPtr, IntPtr, int> EC_KEY_set_group;
    public static readonly delegate* unmanaged<IntPtr, int> EC_KEY_generate_key;
    public static readonly delegate* unmanaged<IntPtr, byte*, nuint, nuint> EC_KEY_priv2oct;
    public static readonly delegate* unmanaged<IntPtr, byte*, nuint, IntPtr, int> EC_KEY_oct2key;
    public static readonly delegate* unmanaged<IntPtr, IntPtr> EC_KEY_get0_public_key;
    public static readonly delegate* unmanaged<IntPtr, IntPtr, int, byte*, nuint, IntPtr, nuint> EC_POINT_point2oct;
    public static readonly delegate* unmanaged<int, byte*, int, byte*, int, IntPtr, int> ECDSA_verify;
    public static readonly delegate* unmanaged<byte*, nuint, IntPtr, IntPtr, IntPtr, int> ECDH_compute_key;
    public static readonly delegate* unmanaged<void> ERR_clear_error;

    static LibCryptoEc()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("PNC_CRYPTO_NATIVE") == "0") return;
        // The soname .NET itself binds to for OpenSSL 3; an already loaded library is returned, not a second copy.
        if (!NativeLibrary.TryLoad("libcrypto.so.3", out var lib)) return;
        var missing = false;
        IntPtr F(string name)
        {
            if (!NativeLibrary.TryGetExport(lib, name, out var f)) missing = true;
            return f;
        }
        EC_KEY_new = (delegate* unmanaged<IntPtr>)F("EC_KEY_new");
        EC_KEY_free = (delegate* unmanaged<IntPtr, void>)F("EC_KEY_free");
        EC_KEY_set_group = (delegate* unmanaged<IntPtr, IntPtr, int>)F("EC_KEY_set_group");
        EC_KEY_generate_key = (delegate* unmanaged<IntPtr, int>)F("EC_KEY_generate_key");
        EC_KEY_priv2oct = (delegate* unmanaged<IntPtr, byte*, nuint, nuint>)F("EC_KEY_priv2oct");
        EC_KEY_oct2key = (delegate* unmanaged<IntPtr, byte*, nuint, IntPtr, int>)F("EC_KEY_oct2key");
        EC_KEY_get0_public_key = (delegate* unmanaged<IntPtr, IntPtr>)F("EC_KEY_get0_public_key");
        EC_POINT_point2oct = (delegate* unmanaged<IntPtr, IntPtr, int, byte*, nuint, IntPtr, nuint>)F("EC_POINT_point2oct");
        ECDSA_verify = (delegate* unmanaged<int, byte*, int, byte*, int, IntPtr, int>)F("ECDSA_verify");
        ECDH_compute_key = (delegate* unmanaged<byte*, nuint, IntPtr, IntPtr, IntPtr, int>)F("ECDH_compute_key");
        ERR_clear_error = (delegate* unmanaged<void>)F("ERR_clear_error");
        var groupByName = (delegate* unmanaged<int, IntPtr>)F("EC_GROUP_new_by_curve_name");
        if (missing) return;
        Group = groupByName(NidPrime256v1);
        Available = Group != IntPtr.Zero;
    }

    /// <summary>A new EC_KEY on the P-256 group, owned by the returned handle.</summary>
    public static EcKeyHandle NewKey()
    {
        var key = new EcKeyHandle(EC_KEY_new());
        if (key.IsInvalid || EC_KEY_set_group(key.DangerousGetHandle(), Group) != 1)
        {
            key.Dispose();
            throw Failure("EC_KEY_new");
        }
        return key;
    }

    /// <summary>A new key pair from OpenSSL's random generator; its public point, 04 ‖ X ‖ Y, goes to <paramref name="point"/>.</summary>
    public static EcKeyHandle GenerateKey(Span<byte> point)
    {
        var key = NewKey();
        var k = key.DangerousGetHandle();
        fixed (byte* q = point)
        {
            if (EC_KEY_generate_key(k) != 1 || EC_POINT_point2oct(Group, EC_KEY_get0_public_key(k), Uncompressed, q, (nuint)point.Length, IntPtr.Zero) != (nuint)point.Length)
            {
                key.Dispose();
                throw Failure("EC_KEY_generate_key");
            }
        }
        return key;
    }

    /// <summary>
    /// An exception for a failed call, after clearing this thread's OpenSSL error queue: .NET reads the same queue after
    /// its own calls and must not find our errors there.
    /// </summary>
    public static System.Security.Cryptography.CryptographicException Failure(string what)
    {
        ERR_clear_error();
        return new System.Security.Cryptography.CryptographicException($"OpenSSL {what} failed.");
    }
}

/// <summary>An EC_KEY; EC_KEY_free clears its private scalar before releasing it.</summary>
internal sealed class EcKeyHandle : SafeHandle
{
    public EcKeyHandle(IntPtr key) : base(IntPtr.Zero, ownsHandle: true) => SetHandle(key);

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override unsafe bool ReleaseHandle()
    {
        LibCryptoEc.EC_KEY_free(handle);
        return true;
    }
}
