using PlugAndCharge.Tests;
using Xunit;

namespace PlugAndCharge.Core.Tests.Repository;

/// <summary>
/// The project graph says what the code does: every ProjectReference is used, every project whose namespaces a project
/// uses is referenced directly (not reached through another), and arrows point down the layers (docs/architecture.md):
/// Core &lt;- Pki &lt;- Contracts &lt;- Ocpp / Ocpi &lt;- Storage (implements their ports) &lt;- Server &lt;- Cli; Exi depends on
/// nothing; key backends plug into Pki; production never references test support, samples or tests.
/// </summary>
public class ProjectGraphTests
{
    /// <summary>Each production project's layer; a project may reference only lower layers.</summary>
    private static readonly Dictionary<string, int> ProductionLayers = new()
    {
        ["PlugAndCharge.Core"] = 0,
        ["PlugAndCharge.Exi"] = 0,
        ["PlugAndCharge.Pki"] = 1,
        ["PlugAndCharge.Pki.Pkcs11"] = 2,
        ["PlugAndCharge.Pki.AzureKeyVault"] = 2,
        ["PlugAndCharge.Contracts"] = 2,
        ["PlugAndCharge.Ocpp"] = 3,
        ["PlugAndCharge.Ocpi"] = 3,
        ["PlugAndCharge.Storage"] = 4,
        ["PlugAndCharge.Server"] = 5,
        ["PlugAndCharge.Cli"] = 6,
    };

    private const int TestSupportLayer = 10, SampleLayer = 11, TestLayer = 12;

    [Fact]
    public void Every_reference_is_used_and_every_used_project_is_referenced()
    {
        var graph = ProjectGraph.Load(TestPaths.RepoRoot);
        var findings = graph.Projects.SelectMany(p => ReferenceFindings(graph, p)).ToList();
        Assert.True(findings.Count == 0, "Project references that do not match the code:\n" + string.Join("\n", findings));
    }

    [Fact]
    public void References_point_down_the_layers()
    {
        var graph = ProjectGraph.Load(TestPaths.RepoRoot);
        var findings = graph.Projects.SelectMany(p => LayerFindings(graph, p)).ToList();
        Assert.True(findings.Count == 0, "References against the layers:\n" + string.Join("\n", findings));
    }

    [Fact]
    public void Detects_an_unused_and_a_missing_reference()
    {
        var graph = ProjectGraph.Load(TestPaths.RepoRoot);
        var ocpi = graph.Projects.Single(p => p.Name == "PlugAndCharge.Ocpi");
        var withUnused = ocpi with { References = [.. ocpi.References, "PlugAndCharge.Exi"] };
        Assert.Contains(ReferenceFindings(graph, withUnused), f => f.Contains("PlugAndCharge.Exi") && f.Contains("unused"));
        var withoutCore = ocpi with { References = [.. ocpi.References.Where(r => r != "PlugAndCharge.Core")] };
        Assert.Contains(ReferenceFindings(graph, withoutCore), f => f.Contains("PlugAndCharge.Core") && f.Contains("does not reference"));
    }

    [Fact]
    public void Detects_an_arrow_up_the_layers_and_production_depending_on_test_support()
    {
        var graph = ProjectGraph.Load(TestPaths.RepoRoot);
        var pki = graph.Projects.Single(p => p.Name == "PlugAndCharge.Pki");
        Assert.NotEmpty(LayerFindings(graph, pki with { References = [.. pki.References, "PlugAndCharge.Contracts"] }));
        var server = graph.Projects.Single(p => p.Name == "PlugAndCharge.Server");
        Assert.NotEmpty(LayerFindings(graph, server with { References = [.. server.References, "PlugAndCharge.TestSupport"] }));
        var exi = graph.Projects.Single(p => p.Name == "PlugAndCharge.Exi");
        Assert.NotEmpty(LayerFindings(graph, exi with { References = ["PlugAndCharge.Core"] }));
    }

    private static IEnumerable<string> ReferenceFindings(ProjectGraph graph, ProjectGraph.Project p)
    {
        var used = graph.UsedProjects(p);
        foreach (var r in p.References.Where(r => !used.Contains(r) && !graph.IsParentNamespaceOf(r, p)))
            yield return $"{p.Name} references {r}, unused by its code: remove the reference";
        foreach (var u in used.Where(u => !p.References.Contains(u)))
            yield return $"{p.Name} uses {u} ({string.Join(", ", graph.Evidence(p, u).Take(2))}) but does not reference it: add the reference";
    }

    private static IEnumerable<string> LayerFindings(ProjectGraph graph, ProjectGraph.Project p)
    {
        var from = Layer(p);
        if (p.Name == "PlugAndCharge.Exi" && p.References.Count > 0)
            yield return "PlugAndCharge.Exi stands alone but references " + string.Join(", ", p.References);
        foreach (var r in p.References)
        {
            var to = Layer(graph.Projects.Single(q => q.Name == r));
            if (to >= from) yield return $"{p.Name} (layer {from}) references {r} (layer {to}): arrows point down only";
        }
    }

    private static int Layer(ProjectGraph.Project p) =>
        ProductionLayers.TryGetValue(p.Name, out var layer) ? layer
        : p.Name == "PlugAndCharge.TestSupport" ? TestSupportLayer
        : p.Folder.StartsWith("samples/", StringComparison.Ordinal) ? SampleLayer
        : p.Folder.StartsWith("tests/", StringComparison.Ordinal) ? TestLayer
        : throw new InvalidOperationException($"{p.Name} in {p.Folder} has no layer: add it to {nameof(ProductionLayers)} (and docs/architecture.md).");
}
