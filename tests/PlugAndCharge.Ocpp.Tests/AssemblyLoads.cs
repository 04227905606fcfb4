using Xunit;

namespace PlugAndCharge.Ocpp.Tests;

public sealed class AssemblyLoads
{
    [Fact]
    public void The_assembly_under_test_loads() => Assert.NotNull(typeof(AssemblyLoads).Assembly);
}
