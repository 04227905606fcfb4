#!/usr/bin/env python3
"""A second, independent EVCC-side implementation of ISO 15118 contract key delivery (issue 25).

Written from the requirement text of ISO 15118-2 clause 7.9.2.4.3 and ISO 15118-20 clauses 7.9.2.5.2 to 7.9.2.5.4
(as quoted in docs/iso15118-20.md), NOT from the C# code, so that a byte placed differently by either side shows up
as a failed test. Uses only the Python standard library and Debian's python3-cryptography.

Reads one JSON object on stdin, writes one JSON object on stdout. Binary values are base64. Operations:

  iso2-decrypt   {evcc_private_key, dh_public_key, encrypted_private_key, contract_certificate}
  iso20-decrypt  {curve: "SECP521"|"X448", evcc_private_key, dh_public_key, encrypted_private_key, pcid,
                  contract_certificate}
  iso20-sign     {oem_private_key, fragment_exi, signed_info_exi}

evcc_private_key / oem_private_key are PKCS#8 DER or a raw 57-byte Ed448 key (for X448: the EVCC's X448 key or its
Ed448 key). A decryption answers {"private_key": hex, ...}; any violation of
the text answers {"error": "..."} with exit code 2.
"""
import base64
import hashlib
import json
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, x448
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

# Order of the base point of secp256r1 and secp521r1 (SEC 2), and of Curve448's prime-order subgroup (RFC 7748).
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
P521_N = int(
    "01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFA51868783"
    "BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409", 16)
CURVE448_N = 2**446 - 0x8335DC163BB124B65129C96FDE933D8D723A70AADC873D6D54A7BB0D


class Refused(Exception):
    """The input breaks a requirement; the EVCC would reject the CertificateInstallationRes."""


def b64(value):
    return base64.b64decode(value)


def concat_kdf(hash_name, z, other_info, key_bytes):
    """NIST SP 800-56A concatenation KDF: Hash(counter32 || Z || OtherInfo), counter from 1, leftmost key_bytes."""
    out = b""
    counter = 1
    while len(out) < key_bytes:
        out += hashlib.new(hash_name, counter.to_bytes(4, "big") + z + other_info).digest()
        counter += 1
    return out[:key_bytes]


# AlgorithmID 0x01, PartyUInfo "U" (the sender, the eMSP), PartyVInfo "V" (the receiver, the EVCC):
# ISO 15118-2 [V2G2-818] and ISO 15118-20 [V2G20-2535] name the same three one-byte values.
OTHER_INFO = bytes([0x01, 0x55, 0x56])


def load_private_key(value):
    """PKCS#8 DER, or the 57 raw bytes of an RFC 8032 Ed448 private key."""
    raw = b64(value)
    if len(raw) == 57:
        return ed448.Ed448PrivateKey.from_private_bytes(raw)
    return serialization.load_der_private_key(raw, None)


def certificate_public_key(der):
    return x509.load_der_x509_certificate(der).public_key()


def raw_public(key):
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


# ---------------------------------------------------------------- ISO 15118-2

def iso2_decrypt(req):
    static = load_private_key(req["evcc_private_key"])
    if not isinstance(static, ec.EllipticCurvePrivateKey) or static.curve.name != "secp256r1":
        raise Refused("-2 uses secp256r1 for the ECDH")
    dh = b64(req["dh_public_key"])
    # [V2G2-819]: DHpublickey is the sender's ephemeral public key, uncompressed point 0x04 || X || Y (65 bytes).
    if len(dh) != 65 or dh[0] != 0x04:
        raise Refused("DHpublickey is not a 65-byte uncompressed secp256r1 point")
    ephemeral = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), dh)
    z = static.exchange(ec.ECDH(), ephemeral)  # the x-coordinate of the shared point, 32 bytes big-endian
    # [V2G2-818]: concatenation KDF with SHA-256, 128-bit key.
    key = concat_kdf("sha256", z, OTHER_INFO, 16)
    field = b64(req["encrypted_private_key"])
    # [V2G2-817]: the IV is the 16 most significant bytes; [V2G2-815]/[V2G2-816]: AES-128-CBC over the 256-bit key,
    # big-endian, no padding (32 bytes are two whole blocks).
    if len(field) != 48:
        raise Refused("ContractSignatureEncryptedPrivateKey is not IV(16) || ciphertext(32)")
    iv, ciphertext = field[:16], field[16:]
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    plain = decryptor.update(ciphertext) + decryptor.finalize()
    d = int.from_bytes(plain, "big")
    # [V2G2-823]: smaller than the base point order and d*G equals the contract certificate's public key.
    if not 0 < d < P256_N:
        raise Refused("decrypted scalar is not below the order of secp256r1")
    contract = certificate_public_key(b64(req["contract_certificate"]))
    derived = ec.derive_private_key(d, ec.SECP256R1()).public_key()
    if derived.public_numbers() != contract.public_numbers():
        raise Refused("decrypted key does not match the contract certificate")
    return {"private_key": plain.hex(), "session_key": key.hex()}


# ---------------------------------------------------------------- ISO 15118-20

def subject_key_identifier(cert_der):
    cert = x509.load_der_x509_certificate(cert_der)
    ext = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    return ext.value.digest


def aad_for(pcid, cert_der):
    # [V2G20-2492]: PCID as sent in CertificateInstallationReq (capital letters and digits, no separators), then the
    # contract certificate's SKI as a hexadecimal string with capital letters and digits. Both as ASCII octets.
    if not pcid.isalnum() or pcid.upper() != pcid:
        raise Refused("PCID is not capital letters and digits")
    return pcid.encode("ascii") + subject_key_identifier(cert_der).hex().upper().encode("ascii")


def read_dh_public_key(curve, dh):
    """Returns (peer public key, which reading of the text the bytes follow)."""
    if curve == "SECP521":
        # [V2G20-2489] with NOTE 6/7: uncompressed point, 0x04 || X(66) || Y(66) = 133 bytes.
        if len(dh) != 133 or dh[0] != 0x04:
            raise Refused("SECP521 DHPublicKey is not a 133-byte uncompressed point")
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP521R1(), dh), "uncompressed-133"
    if curve == "X448":
        # [V2G20-2495]: no filler up to 133 bytes. NOTE 6 + NOTE 7: 57 bytes whose first byte is 0x04, i.e.
        # 0x04 || the 56-byte RFC 7748 u-coordinate. RFC 7748 / RFC 8410 alone give the bare 56 bytes.
        # Both readings are accepted; anything else (e.g. zero filler to 133) is refused.
        if len(dh) == 57 and dh[0] == 0x04:
            return x448.X448PublicKey.from_public_bytes(dh[1:]), "note7-57"
        if len(dh) == 56:
            return x448.X448PublicKey.from_public_bytes(dh), "raw-56"
        raise Refused("X448 DHPublicKey is %d bytes, neither 57 (0x04 || u) nor 56" % len(dh))
    raise Refused("unknown ECDHCurve " + curve)


def iso20_decrypt(req):
    curve = req["curve"]
    static = load_private_key(req["evcc_private_key"])
    peer, reading = read_dh_public_key(curve, b64(req["dh_public_key"]))
    # [V2G20-2535]: One-Pass Diffie-Hellman C(1, 1, ECC CDH); Z is the x-coordinate (secp521r1, 66 bytes) or the
    # RFC 7748 X448 output (56 bytes). [V2G20-2533]/[V2G20-2534]: the EVCC's key is the OEM provisioning key
    # (secp521r1) or the private key of its alternate (X448) public key.
    if curve == "SECP521":
        if not isinstance(static, ec.EllipticCurvePrivateKey) or static.curve.name != "secp521r1":
            raise Refused("SECP521 needs the EVCC's secp521r1 key")
        z = static.exchange(ec.ECDH(), peer)
    else:
        if isinstance(static, ed448.Ed448PrivateKey):
            static = x448_key_of_ed448(static)
        if not isinstance(static, x448.X448PrivateKey):
            raise Refused("X448 needs the EVCC's X448 (or Ed448) key")
        z = static.exchange(peer)
    # [V2G20-2535]: concatenation KDF, SHA-512, OtherInfo 0x01 || "U" || "V", exactly 256 bits.
    key = concat_kdf("sha512", z, OTHER_INFO, 32)
    cert_der = b64(req["contract_certificate"])
    aad = aad_for(req["pcid"], cert_der)
    field = b64(req["encrypted_private_key"])
    body = 66 if curve == "SECP521" else 56
    # [V2G20-2499]/[V2G20-2502]: IV = 12 most significant bytes, then the ciphertext (66 / 56 bytes), then the
    # 16-byte tag ([V2G20-2494]) as the least significant bytes: 94 / 84 bytes.
    if len(field) != 12 + body + 16:
        raise Refused("encrypted private key field is %d bytes, not %d" % (len(field), 12 + body + 16))
    iv, ciphertext_and_tag = field[:12], field[12:]
    try:
        # [V2G20-2505]/[V2G20-2508]: AES-GCM-256 (NIST SP 800-38D), 96-bit IV, 128-bit tag, the AAD above.
        plain = AESGCM(key).decrypt(iv, ciphertext_and_tag, aad)
    except Exception:
        raise Refused("AES-GCM authentication failed [V2G20-2504]")
    contract = certificate_public_key(cert_der)
    if curve == "SECP521":
        # [V2G20-2678]: the 7 most significant bits are zero; [V2G20-2506]: the 521 low bits are the key.
        if plain[0] & 0xFE:
            raise Refused("the 7 leading bits of the decrypted 528 bits are not zero")
        d = int.from_bytes(plain, "big")
        # [V2G20-2507]: below the order, and d*G is the contract certificate's public key.
        if not 0 < d < P521_N:
            raise Refused("decrypted scalar is not below the order of secp521r1")
        derived = ec.derive_private_key(d, ec.SECP521R1()).public_key()
        if not isinstance(contract, ec.EllipticCurvePublicKey) or derived.public_numbers() != contract.public_numbers():
            raise Refused("decrypted key does not match the contract certificate")
    else:
        # [V2G20-2509]: the 56 decrypted bytes are the key; [V2G20-2510]: it reproduces the certificate's key.
        if len(plain) != 56:
            raise Refused("decrypted X448-delivery key is not 56 bytes")
        check_448_key(plain, contract)
    return {"private_key": plain.hex(), "session_key": key.hex(), "dh_public_key_reading": reading}


def x448_key_of_ed448(key):
    """The X448 private key of an Ed448 key pair: RFC 8032 5.2.5 hashes the 57-byte secret with SHAKE256 to 114
    bytes and clamps the first 57 (two low bits cleared, top byte zero, bit 447 set); RFC 7748 decodeScalar448 clamps
    a 56-byte X448 key the same way, so those first 56 bytes are the X448 key whose public key is the birational image
    of the Ed448 one (RFC 7748 4.2)."""
    secret = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    h = bytearray(hashlib.shake_256(secret).digest(114)[:56])
    h[0] &= 0xFC
    h[55] |= 0x80
    return x448.X448PrivateKey.from_private_bytes(bytes(h))


def check_448_key(secret, contract):
    if isinstance(contract, x448.X448PublicKey):
        if raw_public(x448.X448PrivateKey.from_private_bytes(secret).public_key()) != raw_public(contract):
            raise Refused("decrypted key does not match the contract certificate's X448 key")
        return
    if isinstance(contract, ed448.Ed448PublicKey):
        # An Ed448 certificate key comes from a 57-byte RFC 8032 secret; a 56-byte value cannot be such a secret, so
        # it is read as what [V2G20-2510] names: the scalar that multiplies the base point (little-endian, RFC 8032).
        # Its first bullet ("strictly smaller than the order") cannot hold for a clamped scalar (bit 447 set, the
        # order is about 2^446), so the witness reduces modulo the order, as the point multiplication does anyway.
        if raw_public(ed448_public_from_scalar(int.from_bytes(secret, "little") % CURVE448_N)) != raw_public(contract):
            raise Refused("decrypted scalar does not match the contract certificate's Ed448 key")
        return
    raise Refused("the contract certificate has no Curve448 key")


# Edwards448 ("Ed448-Goldilocks", RFC 8032 5.2): x^2 + y^2 = 1 + d x^2 y^2 over p = 2^448 - 2^224 - 1, d = -39081.
ED448_P = 2**448 - 2**224 - 1
ED448_D = -39081 % ED448_P
ED448_B = (
    0x4F1970C66BED0DED221D15A622BF36DA9E146570470F1767EA6DE324A3D3A46412AE1AF72AB66511433B80E18B00938E2626A82BC70CC05E,
    0x693F46716EB6BC248876203756C9C7624BEA73736CA3984087789C1E05A0C2D73AD3FF1CE67C39C4FDBD132C4ED7C8AD9808795BF230FA14,
)


def ed448_add(p1, p2):
    (x1, y1), (x2, y2) = p1, p2
    t = ED448_D * x1 * x2 * y1 * y2 % ED448_P
    x3 = (x1 * y2 + y1 * x2) * pow(1 + t, -1, ED448_P) % ED448_P
    y3 = (y1 * y2 - x1 * x2) * pow(1 - t, -1, ED448_P) % ED448_P
    return x3, y3


def ed448_public_from_scalar(s):
    if s == 0:
        raise Refused("the decrypted scalar is zero modulo the order of Curve448")
    result, addend = (0, 1), ED448_B
    while s:
        if s & 1:
            result = ed448_add(result, addend)
        addend = ed448_add(addend, addend)
        s >>= 1
    x, y = result
    encoded = bytearray(y.to_bytes(57, "little"))
    encoded[56] |= (x & 1) << 7
    return ed448.Ed448PublicKey.from_public_bytes(bytes(encoded))


def iso20_sign(req):
    """The OEM side of a -20 CertificateInstallationReq signature: digest of the EXI-encoded
    OEMProvisioningCertificateChain fragment, and the signature over the EXI-encoded SignedInfo."""
    key = load_private_key(req["oem_private_key"])
    fragment, signed_info = b64(req["fragment_exi"]), b64(req["signed_info_exi"])
    if isinstance(key, ec.EllipticCurvePrivateKey):
        # secp521r1 with ECDSA over SHA-512 ([V2G20-2674], [V2G20-2317]); XML-DSig carries r || s, each 66 bytes.
        digest = hashlib.sha512(fragment).digest()
        r, s = decode_dss_signature(key.sign(signed_info, ec.ECDSA(hashes.SHA512())))
        signature = r.to_bytes(66, "big") + s.to_bytes(66, "big")
    elif isinstance(key, ed448.Ed448PrivateKey):
        # Ed448 ([V2G20-2319]); the Reference digest stays SHA-512, the hash of the signature process [V2G20-2673].
        digest = hashlib.sha512(fragment).digest()
        signature = key.sign(signed_info)
    else:
        raise Refused("the OEM key is neither secp521r1 nor Ed448")
    return {"digest": base64.b64encode(digest).decode(), "signature": base64.b64encode(signature).decode()}


OPERATIONS = {"iso2-decrypt": iso2_decrypt, "iso20-decrypt": iso20_decrypt, "iso20-sign": iso20_sign}


def main():
    req = json.load(sys.stdin)
    try:
        answer = OPERATIONS[req["operation"]](req)
    except Refused as refused:
        json.dump({"error": str(refused)}, sys.stdout)
        return 2
    json.dump(answer, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
