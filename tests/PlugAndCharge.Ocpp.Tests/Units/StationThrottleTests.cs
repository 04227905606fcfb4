using System.Net;
using PlugAndCharge.Ocpp.Stations;
using Xunit;

namespace PlugAndCharge.Ocpp.Tests.Units;

public sealed class StationThrottleTests
{
    [Fact]
    public void Failed_logins_count_per_source_and_per_station_and_only_failures_count()
    {
        using var throttle = new StationThrottle(new OcppOptions
        {
            FailedLoginsPerSource = new RateBudget(2, TimeSpan.FromHours(1)),
            FailedLoginsPerStation = new RateBudget(3, TimeSpan.FromHours(1)),
        });
        var a = IPAddress.Parse("192.0.2.1");
        var b = IPAddress.Parse("192.0.2.2");
        var c = IPAddress.Parse("192.0.2.3");
        for (var i = 0; i < 10; i++) Assert.True(throttle.MayTryLogin("CS-1", a));
        throttle.LoginFailed("CS-1", a);
        throttle.LoginFailed("CS-1", a);
        Assert.False(throttle.MayTryLogin("CS-1", a));
        Assert.False(throttle.MayTryLogin("CS-2", a));
        Assert.True(throttle.MayTryLogin("CS-1", b));
        throttle.LoginFailed("CS-1", b);
        Assert.False(throttle.MayTryLogin("CS-1", c));
        Assert.True(throttle.MayTryLogin("CS-2", c));
    }

    [Fact]
    public async Task A_bucket_refilled_by_a_fraction_of_a_permit_still_refuses()
    {
        using var throttle = new StationThrottle(new OcppOptions
        {
            FailedLoginsPerSource = new RateBudget(2, TimeSpan.FromSeconds(4)),
            FailedLoginsPerStation = new RateBudget(2, TimeSpan.FromSeconds(4)),
        });
        var a = IPAddress.Parse("192.0.2.1");
        throttle.LoginFailed("CS-1", a);
        throttle.LoginFailed("CS-1", a);
        await Task.Delay(300);
        Assert.False(throttle.MayTryLogin("CS-1", a));
    }

    [Fact]
    public void IPv6_sources_count_by_their_64_prefix()
    {
        Assert.Equal(StationThrottle.SourceKey(IPAddress.Parse("2001:db8::1")), StationThrottle.SourceKey(IPAddress.Parse("2001:db8::ffff:2")));
        Assert.Equal("192.0.2.1", StationThrottle.SourceKey(IPAddress.Parse("::ffff:192.0.2.1")));
    }
}
