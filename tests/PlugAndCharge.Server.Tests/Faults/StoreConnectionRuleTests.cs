using System.Text.RegularExpressions;
using Xunit;

namespace PlugAndCharge.Server.Tests.Faults;

/// <summary>
/// The stores fail fast while PostgreSQL is silent only if they take their connections through
/// <c>DatabaseReachability.ConnectAsync</c> (the <c>ConnectAsync</c> extension): a store that opens one from the data
/// source directly waits out the connect timeout on every request instead. The OCPI location store did (issue 22's
/// silent-database row); this keeps the next store from doing it again.
/// </summary>
public sealed class StoreConnectionRuleTests
{
    [Fact]
    public void Every_store_opens_its_connections_through_the_reachability_watch()
    {
        var storage = Path.Combine(TestPaths.RepoRoot, "src", "PlugAndCharge.Storage");
        var direct = new Regex(@"\.OpenConnection(Async)?\(");
        var offenders = Directory.EnumerateFiles(storage, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Where(f => Path.GetFileName(f) != "DatabaseReachability.cs")
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (f, line, i)))
            .Where(x => direct.IsMatch(x.line))
            .Select(x => $"{Path.GetRelativePath(storage, x.f)}:{x.i + 1}: {x.line.Trim()}")
            .ToList();
        Assert.True(offenders.Count == 0, "Stores open connections past the reachability watch:\n" + string.Join("\n", offenders));
    }
}
