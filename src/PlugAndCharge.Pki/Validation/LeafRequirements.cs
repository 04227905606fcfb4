namespace PlugAndCharge.Pki.Validation;

/// <summary>What the caller asks of the leaf beyond path validity: ISO 15118 leaf rules, key usages, the peer's name.</summary>
internal static class LeafRequirements
{
    public static Failure? Check(CertificateView leaf, ChainValidationRequest request)
    {
        if (request.Iso15118 is { } iso)
        {
            if (iso.LeafMustNotBeCa && leaf.IsCa)
            {
                return new Failure(ChainFailureReason.BasicConstraints, "ISO 15118 leaf certificate is a CA", 0);
            }

            if (iso.ExpectedEmaid is { } expected)
            {
                var commonName = leaf.Subject.CommonNames.Count > 0 ? leaf.Subject.CommonNames[0] : string.Empty;
                if (!string.Equals(NormalizeEmaid(commonName), NormalizeEmaid(expected), StringComparison.Ordinal))
                {
                    return new Failure(ChainFailureReason.EmaidMismatch, $"contract certificate CN '{commonName}' is not EMAID '{expected}'", 0);
                }
            }
        }

        if (request.RequiredLeafKeyUsage != KeyUsageBits.None && !leaf.AllowsKeyUsage(request.RequiredLeafKeyUsage))
        {
            return new Failure(ChainFailureReason.KeyUsage, "leaf keyUsage lacks " + request.RequiredLeafKeyUsage, 0);
        }

        foreach (var purpose in request.RequiredExtendedKeyUsages)
        {
            if (!AllowsPurpose(leaf, purpose, request.Profile))
            {
                return new Failure(ChainFailureReason.ExtendedKeyUsage, "leaf extendedKeyUsage does not allow " + purpose, 0);
            }
        }

        return request.ExpectedPeerName is { } peer ? MatchPeer(leaf, peer) : null;
    }

    /// <summary>
    /// RFC 5280 §4.2.1.12: without the extension every purpose is allowed, and anyExtendedKeyUsage allows all. The WebPki
    /// profile, like webpki, wants the purpose itself listed.
    /// </summary>
    public static bool AllowsPurpose(CertificateView view, string purpose, ConformanceProfile profile)
    {
        var purposes = view.ExtendedKeyUsages;
        if (purposes is null)
        {
            return profile != ConformanceProfile.WebPki;
        }

        foreach (var listed in purposes)
        {
            if (string.Equals(listed, purpose, StringComparison.Ordinal) ||
                (profile != ConformanceProfile.WebPki && string.Equals(listed, CertificateView.OidAnyExtendedKeyUsage, StringComparison.Ordinal)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>EMAIDs are compared upper-case without the optional '-' separators (ISO 15118-2 Annex H).</summary>
    public static string NormalizeEmaid(string emaid) => emaid.Replace("-", string.Empty, StringComparison.Ordinal).ToUpperInvariant();

    /// <summary>RFC 6125 §6: only subjectAltName entries of the reference's type count; the CN is never a fallback.</summary>
    private static Failure? MatchPeer(CertificateView leaf, PeerName peer)
    {
        if (peer.Kind == PeerNameKind.Dns)
        {
            var reference = peer.DnsName!;
            if (!DnsNameRules.IsValidHostName(reference))
            {
                return new Failure(ChainFailureReason.NameMismatch, "expected DNS name '" + reference + "' is not a valid host name", 0);
            }

            foreach (var presented in leaf.Names.DnsNames)
            {
                if (DnsNameRules.IsValidPresented(presented) && DnsNameRules.Matches(presented, reference))
                {
                    return null;
                }
            }
        }
        else
        {
            var expected = peer.Address!.GetAddressBytes();
            foreach (var presented in leaf.Names.IpAddresses)
            {
                if (presented.AsSpan().SequenceEqual(expected))
                {
                    return null;
                }
            }
        }

        return new Failure(ChainFailureReason.NameMismatch, "leaf subjectAltName does not match " + peer, 0);
    }
}
