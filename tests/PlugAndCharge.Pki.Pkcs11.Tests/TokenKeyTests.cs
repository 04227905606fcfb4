using System.Security.Cryptography;
using Net.Pkcs11Interop.Common;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Security;
using PlugAndCharge.Pki.Keys;
using Xunit;

namespace PlugAndCharge.Pki.Pkcs11.Tests;

public class TokenKeyTests
{
    private static readonly byte[] Message = "to be signed: a TBSCertificate stands in here"u8.ToArray();

    private static KeyUri UriOf(string label, string token = SoftHsm.Token) => KeyUri.Parse($"pkcs11:token={token};object={label}");

    private static ECDsa Verifier(ISigningKey key)
    {
        var ec = ECDsa.Create();
        ec.ImportSubjectPublicKeyInfo(key.PublicKey.GetEncoded(Asn1Encodable.Der), out _);
        return ec;
    }

    [Theory]
    [InlineData(KeyAlgorithm.EcP256, 256)]
    [InlineData(KeyAlgorithm.EcP384, 384)]
    [InlineData(KeyAlgorithm.EcP521, 521)]
    public async Task A_generated_EC_key_signs_DER_and_raw_signatures_that_verify_with_its_public_key(KeyAlgorithm algorithm, int bits)
    {
        var key = await SoftHsm.Provider().GenerateAsync(UriOf(SoftHsm.NewLabel("ec")), algorithm);
        Assert.Equal(algorithm, key.Algorithm);
        using var ec = Verifier(key);
        Assert.Equal(bits, ec.KeySize);
        var der = await key.SignAsync(Message, SignatureFormat.Der);
        Assert.True(ec.VerifyData(Message, der, algorithm.Hash(), DSASignatureFormat.Rfc3279DerSequence));
        var raw = await key.SignAsync(Message, SignatureFormat.RawRs);
        Assert.Equal(2 * ((bits + 7) / 8), raw.Length);
        Assert.True(ec.VerifyData(Message, raw, algorithm.Hash(), DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
    }

    [Fact]
    public async Task The_private_key_is_a_sensitive_non_extractable_token_object_labelled_by_the_URI()
    {
        var label = SoftHsm.NewLabel("attrs");
        await SoftHsm.Provider().GenerateAsync(UriOf(label), KeyAlgorithm.EcP256);
        var token = Pkcs11Module.Load(SoftHsm.ModulePath).Token(SoftHsm.Token, _ => SoftHsm.UserPin, 8);
        using var lease = await token.RentAsync(default);
        var f = token.Module.Factories.ObjectAttributeFactory;
        var found = lease.Session.FindAllObjects([f.Create(CKA.CKA_CLASS, CKO.CKO_PRIVATE_KEY), f.Create(CKA.CKA_LABEL, label)]);
        var handle = Assert.Single(found);
        var a = lease.Session.GetAttributeValue(handle, [CKA.CKA_TOKEN, CKA.CKA_SENSITIVE, CKA.CKA_EXTRACTABLE, CKA.CKA_ALWAYS_SENSITIVE, CKA.CKA_NEVER_EXTRACTABLE, CKA.CKA_PRIVATE, CKA.CKA_ID]);
        Assert.True(a[0].GetValueAsBool(), "CKA_TOKEN");
        Assert.True(a[1].GetValueAsBool(), "CKA_SENSITIVE");
        Assert.False(a[2].GetValueAsBool(), "CKA_EXTRACTABLE");
        Assert.True(a[3].GetValueAsBool(), "CKA_ALWAYS_SENSITIVE");
        Assert.True(a[4].GetValueAsBool(), "CKA_NEVER_EXTRACTABLE");
        Assert.True(a[5].GetValueAsBool(), "CKA_PRIVATE");
        Assert.Equal(16, a[6].GetValueAsByteArray().Length);
        // The token refuses to reveal the private value.
        var value = lease.Session.GetAttributeValue(handle, [CKA.CKA_VALUE])[0];
        Assert.True(value.CannotBeRead);
    }

    [Fact]
    public async Task A_key_is_found_again_by_its_URI_through_a_new_provider()
    {
        var uri = UriOf(SoftHsm.NewLabel("reopen"));
        var created = await SoftHsm.Provider().GenerateAsync(uri, KeyAlgorithm.EcP384);
        var opened = await SoftHsm.Provider().OpenAsync(uri);
        Assert.Equal(created.PublicKey.GetEncoded(), opened.PublicKey.GetEncoded());
        Assert.Equal(KeyAlgorithm.EcP384, opened.Algorithm);
        using var ec = Verifier(created);
        Assert.True(ec.VerifyData(Message, await opened.SignAsync(Message), HashAlgorithmName.SHA384, DSASignatureFormat.Rfc3279DerSequence));
    }

    [Fact]
    public async Task Generating_over_an_existing_label_is_refused()
    {
        var uri = UriOf(SoftHsm.NewLabel("dup"));
        var first = await SoftHsm.Provider().GenerateAsync(uri, KeyAlgorithm.EcP256);
        var e = await Assert.ThrowsAsync<PkiException>(() => SoftHsm.Provider().GenerateAsync(uri, KeyAlgorithm.EcP256));
        Assert.Equal(PkiError.KeyAlreadyExists, e.Error);
        // The first key is untouched.
        Assert.Equal(first.PublicKey.GetEncoded(), (await SoftHsm.Provider().OpenAsync(uri)).PublicKey.GetEncoded());
    }

    [Fact]
    public async Task Concurrent_generation_of_one_label_makes_exactly_one_key()
    {
        var uri = UriOf(SoftHsm.NewLabel("race"));
        var provider = SoftHsm.Provider();
        var attempts = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(async () =>
        {
            try { await provider.GenerateAsync(uri, KeyAlgorithm.EcP256); return (PkiError?)null; }
            catch (PkiException e) { return e.Error; }
        })));
        Assert.Single(attempts, a => a == null);
        Assert.All(attempts.Where(a => a != null), a => Assert.Equal(PkiError.KeyAlreadyExists, a));
    }

    [Fact]
    public async Task Missing_keys_and_tokens_and_bad_URIs_are_named_errors()
    {
        var provider = SoftHsm.Provider();
        Assert.Equal(PkiError.KeyNotFound, (await Assert.ThrowsAsync<PkiException>(() => provider.OpenAsync(UriOf("never-made")))).Error);
        Assert.Equal(PkiError.KeyProviderUnavailable, (await Assert.ThrowsAsync<PkiException>(() => provider.OpenAsync(UriOf("x", "no-token")))).Error);
        foreach (var bad in new[] { "pkcs11:object=x", "pkcs11:token=pnc", "pkcs11:token=pnc;object=x?pin-value=1234", "pkcs11:token=pnc;object=x;type=public", "pkcs11:token=pnc;colour=red;object=x", "pkcs11:token=pnc;id=%zz" })
            Assert.Equal(PkiError.BadKeyUri, (await Assert.ThrowsAsync<PkiException>(() => provider.OpenAsync(KeyUri.Parse(bad)))).Error);
        Assert.Equal(PkiError.KeyNotAllowed, (await Assert.ThrowsAsync<PkiException>(() => provider.GenerateAsync(UriOf(SoftHsm.NewLabel("x448")), KeyAlgorithm.X448))).Error);
    }

    [Fact]
    public async Task A_key_is_found_by_its_id_as_well_as_its_label()
    {
        var label = SoftHsm.NewLabel("byid");
        var created = await SoftHsm.Provider().GenerateAsync(KeyUri.Parse($"pkcs11:token={SoftHsm.Token};object={label};id=%C0%FF%EE%01"), KeyAlgorithm.EcP256);
        var byId = await SoftHsm.Provider().OpenAsync(KeyUri.Parse($"pkcs11:token={SoftHsm.Token};id=%c0%ff%ee%01;type=private"));
        Assert.Equal(created.PublicKey.GetEncoded(), byId.PublicKey.GetEncoded());
    }

    [Fact]
    public async Task A_wrong_PIN_is_a_provider_error_that_names_the_token_but_not_the_PIN_and_is_not_retried()
    {
        var calls = 0;
        var provider = new Pkcs11KeyProvider(new Pkcs11Options { ModulePath = SoftHsm.ModulePath, Pin = _ => { calls++; return "not-the-pin-9931"; } });
        var uri = UriOf("anything", SoftHsm.WrongPinToken);
        var e = await Assert.ThrowsAsync<PkiException>(() => provider.OpenAsync(uri));
        Assert.Equal(PkiError.KeyProviderUnavailable, e.Error);
        Assert.Contains(SoftHsm.WrongPinToken, e.Message);
        Assert.Contains("CKR_PIN_INCORRECT", e.Message);
        Assert.DoesNotContain("not-the-pin-9931", e.ToString());
        // A refused PIN is not tried again (each try counts toward locking the token).
        await Assert.ThrowsAsync<PkiException>(() => provider.OpenAsync(uri));
        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task Concurrent_signatures_run_on_several_sessions_and_all_verify()
    {
        var options = SoftHsm.Options(maxSessions: 8);
        var key = await new Pkcs11KeyProvider(options).GenerateAsync(UriOf(SoftHsm.NewLabel("pool")), KeyAlgorithm.EcP256);
        using var ec = Verifier(key);
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var signatures = Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
        {
            await start.Task;
            var results = new List<(byte[], byte[])>();
            for (var j = 0; j < 20; j++)
            {
                var m = BitConverter.GetBytes(i * 1000 + j);
                results.Add((m, await key.SignAsync(m)));
            }
            return results;
        })).ToArray();
        start.SetResult();
        var all = (await Task.WhenAll(signatures)).SelectMany(r => r).ToList();
        Assert.Equal(320, all.Count);
        Assert.All(all, s => Assert.True(ec.VerifyData(s.Item1, s.Item2, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence)));
        // How many sessions the signers above happened to overlap on depends on scheduling; that the pool hands
        // concurrent borrowers distinct sessions does not: hold three leases at once.
        var token = Pkcs11Module.Load(SoftHsm.ModulePath).Token(SoftHsm.Token, _ => SoftHsm.UserPin, 8);
        var leases = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => token.RentAsync(CancellationToken.None).AsTask()));
        try
        {
            Assert.Equal(3, leases.Select(l => l.Session.SessionId).Distinct().Count());
            Assert.InRange(token.OpenSessions, 3, 8);
        }
        finally
        {
            foreach (var l in leases) l.Dispose();
        }
    }

    [Fact]
    public async Task Ed448_keys_live_on_the_token_when_it_offers_EdDSA_and_are_refused_clearly_otherwise()
    {
        var provider = SoftHsm.Provider();
        var uri = UriOf(SoftHsm.NewLabel("ed448"));
        var token = Pkcs11Module.Load(SoftHsm.ModulePath).Token(SoftHsm.Token, _ => SoftHsm.UserPin, 8);
        if (!token.Supports(Pkcs11KeyProvider.CkmEcEdwardsKeyPairGen) || !token.Supports(Pkcs11KeyProvider.CkmEddsa))
        {
            var e = await Assert.ThrowsAsync<PkiException>(() => provider.GenerateAsync(uri, KeyAlgorithm.Ed448));
            Assert.Equal(PkiError.KeyNotAllowed, e.Error);
            Assert.Contains("Ed448", e.Message);
            return;
        }
        Console.WriteLine("SoftHSM offers CKM_EC_EDWARDS_KEY_PAIR_GEN and CKM_EDDSA: Ed448 on the token.");
        var key = await provider.GenerateAsync(uri, KeyAlgorithm.Ed448);
        Assert.Equal(KeyAlgorithm.Ed448, key.Algorithm);
        var signature = await key.SignAsync(Message);
        Assert.Equal(114, signature.Length);
        var verifier = new Ed448Signer([]);
        verifier.Init(false, PublicKeyFactory.CreateKey(key.PublicKey));
        verifier.BlockUpdate(Message, 0, Message.Length);
        Assert.True(verifier.VerifySignature(signature));
        Assert.Equal(KeyAlgorithm.Ed448, (await SoftHsm.Provider().OpenAsync(uri)).Algorithm);
    }

    [Fact]
    public void The_PIN_comes_from_the_PIN_file_without_its_newline()
    {
        var file = Path.Combine(Path.GetTempPath(), "pnc-pin-" + Guid.NewGuid().ToString("N"));
        File.WriteAllText(file, "1234-from-file\n");
        try
        {
            var settings = new Dictionary<string, string?> { ["PNC_PKCS11_MODULE"] = "/x/lib.so", ["PNC_PKCS11_PIN_FILE"] = file };
            var options = Pkcs11Options.FromSettings(k => settings.GetValueOrDefault(k))!;
            Assert.Equal("1234-from-file", options.Pin("pnc"));
            Assert.Null(Pkcs11Options.FromSettings(_ => null));
            settings["PNC_PKCS11_PIN"] = "1";
            Assert.Equal(PkiError.KeyProviderUnavailable, Assert.Throws<PkiException>(() => Pkcs11Options.FromSettings(k => settings.GetValueOrDefault(k))).Error);
        }
        finally { File.Delete(file); }
    }
}
