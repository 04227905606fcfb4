namespace PlugAndCharge.Ocpp.Handlers;

/// <summary>
/// How many BootNotifications this instance takes on at once, so that a fleet reconnecting after a restart does not queue
/// behind the database ahead of the Authorize and Get15118EVCertificate calls of stations already accepted. A boot is
/// admitted while fewer than <see cref="OcppOptions.MaxBootsInFlight"/> are being recorded and the per-instance token
/// bucket (<see cref="OcppOptions.BootsPerSecond"/>, a second's worth of burst) has a token; any other boot is answered
/// Pending (OCPP 2.0.1 B02, 1.6 §4.2) with a retry interval from <see cref="RetryAfterSeconds"/>.
/// </summary>
public sealed class BootAdmission
{
    private readonly OcppOptions _options;
    private readonly TimeProvider _clock;
    private readonly Lock _gate = new();
    private int _inFlight;
    private double _tokens;
    private long _refilledAt;
    // The retry calendar: how many Pending stations were told to come back in each coming second (slot i holds the
    // count of second _second[i]; a slot whose second has passed counts from zero again).
    private readonly int[] _booked;
    private readonly long[] _second;

    public BootAdmission(OcppOptions options, TimeProvider clock)
    {
        _options = options;
        _clock = clock;
        _tokens = options.BootsPerSecond;
        _refilledAt = clock.GetTimestamp();
        var slots = (int)options.BootRetryMax.TotalSeconds + 1;
        _booked = new int[slots];
        _second = new long[slots];
    }

    /// <summary>Boots being recorded now.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Takes a place for one boot; false when the instance is saturated. Every true is followed by <see cref="Exit"/>.</summary>
    public bool TryEnter()
    {
        lock (_gate)
        {
            var now = _clock.GetTimestamp();
            _tokens = Math.Min(_options.BootsPerSecond, _tokens + _clock.GetElapsedTime(_refilledAt, now).TotalSeconds * _options.BootsPerSecond);
            _refilledAt = now;
            if (_inFlight >= _options.MaxBootsInFlight || _tokens < 1) return false;
            _tokens--;
            _inFlight++;
            return true;
        }
    }

    public void Exit()
    {
        lock (_gate) _inFlight--;
    }

    /// <summary>
    /// When a station answered Pending should boot again: the first second, from BootRetryMin plus a random part of it
    /// on, that has fewer than 80% of BootsPerSecond stations booked (the rest is left to stations booting for the first
    /// time), so a burst spreads itself over as many seconds as the instance needs to absorb it; BootRetryMax when all are full.
    /// </summary>
    public int RetryAfterSeconds()
    {
        var min = Math.Max(1, (int)_options.BootRetryMin.TotalSeconds);
        var max = Math.Max(min, _booked.Length - 1);
        var perSecond = Math.Max(1, _options.BootsPerSecond * 4 / 5);
        var now = _clock.GetUtcNow().ToUnixTimeSeconds();
        lock (_gate)
        {
            for (var after = min + Random.Shared.Next(0, min + 1); after <= max; after++)
            {
                var i = (int)((now + after) % _booked.Length);
                if (_second[i] != now + after) (_second[i], _booked[i]) = (now + after, 0);
                if (_booked[i] < perSecond)
                {
                    _booked[i]++;
                    return after;
                }
            }
            return max;
        }
    }
}
