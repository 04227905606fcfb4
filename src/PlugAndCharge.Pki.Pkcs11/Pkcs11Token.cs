using System.Collections.Concurrent;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace PlugAndCharge.Pki.Pkcs11;

/// <summary>
/// One token: its slot, one login, and a pool of sessions. A PKCS#11 session runs one operation at a time
/// (v2.40 §5.6), so each signature checks out its own session; concurrent signatures run on as many sessions as the
/// pool allows instead of queuing behind one.
/// </summary>
internal sealed class Pkcs11Token
{
    private readonly ISlot _slot;
    private readonly Func<string, string> _pin;
    private readonly ConcurrentBag<ISession> _idle = new();
    private readonly SemaphoreSlim _capacity;
    private readonly Lock _login = new();
    private readonly Lazy<HashSet<CKM>> _mechanisms;
    private PkiException? _loginFailure;
    private int _open;

    public Pkcs11Module Module { get; }
    public string Label { get; }
    /// <summary>Serializes key generation so the "label is free" check and the generation are one step.</summary>
    public SemaphoreSlim GenerationLock { get; } = new(1, 1);

    public Pkcs11Token(Pkcs11Module module, ISlot slot, string label, Func<string, string> pin, int maxSessions)
    {
        Module = module; _slot = slot; Label = label; _pin = pin;
        _capacity = new SemaphoreSlim(Math.Max(1, maxSessions));
        _mechanisms = new Lazy<HashSet<CKM>>(() => [.. _slot.GetMechanismList()]);
    }

    /// <summary>Sessions currently open on the token by this process (idle or checked out).</summary>
    public int OpenSessions => Volatile.Read(ref _open);

    public bool Supports(CKM mechanism) => _mechanisms.Value.Contains(mechanism);

    public async ValueTask<SessionLease> RentAsync(CancellationToken ct)
    {
        await _capacity.WaitAsync(ct);
        if (_idle.TryTake(out var session)) return new SessionLease(this, session);
        try { return new SessionLease(this, Open()); }
        catch { _capacity.Release(); throw; }
    }

    internal void Return(ISession session, bool broken)
    {
        if (broken)
        {
            try { session.CloseSession(); } catch (Pkcs11Exception) { /* the session is already gone */ }
            Interlocked.Decrement(ref _open);
        }
        else _idle.Add(session);
        _capacity.Release();
    }

    private ISession Open()
    {
        ISession session;
        try { session = _slot.OpenSession(SessionType.ReadWrite); }
        catch (Pkcs11Exception e) { throw Unavailable("open a session on", e); }
        try
        {
            EnsureLoggedIn(session);
            Interlocked.Increment(ref _open);
            return session;
        }
        catch
        {
            try { session.CloseSession(); } catch (Pkcs11Exception) { /* best effort */ }
            throw;
        }
    }

    /// <summary>
    /// Logs the application in once (v2.40 §6.7.1: a login applies to every session of the application on the token).
    /// A refused PIN is remembered and not retried: retrying on every signature would lock the token (CKR_PIN_LOCKED).
    /// </summary>
    private void EnsureLoggedIn(ISession session)
    {
        if (IsUserSession(session)) return;
        lock (_login)
        {
            if (_loginFailure != null) throw _loginFailure;
            if (IsUserSession(session)) return;
            var pin = _pin(Label);
            try { session.Login(CKU.CKU_USER, pin); }
            catch (Pkcs11Exception e) when (e.RV == CKR.CKR_USER_ALREADY_LOGGED_IN) { }
            catch (Pkcs11Exception e) when (e.RV is CKR.CKR_PIN_INCORRECT or CKR.CKR_PIN_LOCKED or CKR.CKR_PIN_INVALID or CKR.CKR_PIN_LEN_RANGE or CKR.CKR_PIN_EXPIRED)
            {
                _loginFailure = new PkiException(PkiError.KeyProviderUnavailable,
                    $"PKCS#11 token '{Label}' refused the configured PIN ({e.RV}); fix PNC_PKCS11_PIN / PNC_PKCS11_PIN_FILE and restart.", e);
                throw _loginFailure;
            }
            catch (Pkcs11Exception e) { throw Unavailable("log in to", e); }
        }
    }

    private static bool IsUserSession(ISession session)
    {
        var state = session.GetSessionInfo().State;
        return state is CKS.CKS_RW_USER_FUNCTIONS or CKS.CKS_RO_USER_FUNCTIONS;
    }

    public PkiException Unavailable(string action, Pkcs11Exception e) =>
        new(PkiError.KeyProviderUnavailable, $"Could not {action} PKCS#11 token '{Label}': {e.Method} returned {e.RV}.", e);
}

/// <summary>A session checked out of a token's pool; disposing returns it (or closes it when marked broken).</summary>
internal sealed class SessionLease(Pkcs11Token token, ISession session) : IDisposable
{
    private bool _broken, _returned;
    public ISession Session { get; } = session;

    /// <summary>Errors that leave the session unusable: it is closed instead of pooled.</summary>
    public void MarkBrokenIf(Pkcs11Exception e)
    {
        if (e.RV is CKR.CKR_SESSION_HANDLE_INVALID or CKR.CKR_SESSION_CLOSED or CKR.CKR_DEVICE_REMOVED or CKR.CKR_DEVICE_ERROR
            or CKR.CKR_TOKEN_NOT_PRESENT or CKR.CKR_OPERATION_ACTIVE or CKR.CKR_USER_NOT_LOGGED_IN or CKR.CKR_GENERAL_ERROR)
            _broken = true;
    }

    public void Dispose()
    {
        if (_returned) return;
        _returned = true;
        token.Return(Session, _broken);
    }
}
