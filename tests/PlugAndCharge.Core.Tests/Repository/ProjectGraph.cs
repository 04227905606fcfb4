using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace PlugAndCharge.Core.Tests.Repository;

/// <summary>
/// The repository's projects read from their .csproj files and sources: direct references, the namespaces each
/// declares, and the PlugAndCharge namespaces its code names (using directives and qualified names outside comments).
/// Source files a project links from elsewhere (Compile Include) count as its own.
/// </summary>
internal sealed partial class ProjectGraph
{
    public sealed record Project(string Name, string Folder, IReadOnlyList<string> References, IReadOnlyList<string> SourceFiles, IReadOnlyList<string> LinkedFiles);

    public IReadOnlyList<Project> Projects { get; }
    private readonly Dictionary<string, string> _namespaceOwner; // declared namespace -> project (own files only)
    private readonly Dictionary<string, HashSet<string>> _declared = [];
    private readonly Dictionary<string, List<(string File, string Namespace)>> _mentions = [];

    private ProjectGraph(IReadOnlyList<Project> projects)
    {
        Projects = projects;
        var owners = new Dictionary<string, HashSet<string>>();
        foreach (var p in projects)
        {
            _declared[p.Name] = [.. p.SourceFiles.Concat(p.LinkedFiles).SelectMany(f => DeclaredNamespaces(File.ReadAllText(f)))];
            foreach (var ns in p.SourceFiles.SelectMany(f => DeclaredNamespaces(File.ReadAllText(f))))
                (owners.TryGetValue(ns, out var set) ? set : owners[ns] = []).Add(p.Name);
            _mentions[p.Name] = [.. p.SourceFiles.Concat(p.LinkedFiles).SelectMany(f => MentionedNames(File.ReadAllText(f)).Select(n => (f, n)))];
        }
        _namespaceOwner = owners.Where(o => o.Value.Count == 1).ToDictionary(o => o.Key, o => o.Value.Single());
    }

    public static ProjectGraph Load(string root)
    {
        var projects = new List<Project>();
        foreach (var top in new[] { "src", "tests", "samples" })
            foreach (var csproj in Directory.EnumerateFiles(Path.Combine(root, top), "*.csproj", SearchOption.AllDirectories))
            {
                var dir = Path.GetDirectoryName(csproj)!;
                if (IsBuildOutput(Path.GetRelativePath(root, dir))) continue;
                var xml = XDocument.Load(csproj);
                var references = xml.Descendants("ProjectReference")
                    .Where(r => (string?)r.Attribute("ReferenceOutputAssembly") != "false") // build order only, not code
                    .Select(r => Path.GetFileNameWithoutExtension((string)r.Attribute("Include")!)).ToList();
                var linked = xml.Descendants("Compile").Select(c => (string?)c.Attribute("Include")).OfType<string>()
                    .SelectMany(include => Expand(dir, include)).ToList();
                var own = Directory.EnumerateFiles(dir, "*.cs", SearchOption.AllDirectories)
                    .Where(f => !IsBuildOutput(Path.GetRelativePath(dir, f))).ToList();
                projects.Add(new Project(Path.GetFileNameWithoutExtension(csproj), Path.GetRelativePath(root, dir).Replace('\\', '/'), references, own, linked));
            }
        return new ProjectGraph(projects);
    }

    /// <summary>The other projects whose namespaces <paramref name="p"/>'s code names.</summary>
    public IReadOnlySet<string> UsedProjects(Project p) =>
        _mentions[p.Name].Select(m => Owner(p, m.Namespace)).OfType<string>().ToHashSet();

    /// <summary>Where <paramref name="p"/> names <paramref name="used"/>: file and namespace.</summary>
    public IEnumerable<string> Evidence(Project p, string used) =>
        _mentions[p.Name].Where(m => Owner(p, m.Namespace) == used).Select(m => $"{Path.GetFileName(m.File)}: {m.Namespace}");

    /// <summary>
    /// Code inside namespace A.B.C sees A.B's types without naming them (a key backend in PlugAndCharge.Pki.Pkcs11 uses
    /// PlugAndCharge.Pki's): such a reference cannot be shown unused from the sources.
    /// </summary>
    public bool IsParentNamespaceOf(string referenced, Project p) =>
        _declared.TryGetValue(referenced, out var theirs) && _declared[p.Name].Any(ns => theirs.Any(t => ns.StartsWith(t + ".", StringComparison.Ordinal)));

    private string? Owner(Project p, string name)
    {
        // The longest declared namespace that the name starts with; the project's own (and linked) namespaces are its own.
        for (var candidate = name; candidate.Contains('.'); candidate = candidate[..candidate.LastIndexOf('.')])
        {
            if (_declared[p.Name].Contains(candidate)) return null;
            if (_namespaceOwner.TryGetValue(candidate, out var owner)) return owner == p.Name ? null : owner;
        }
        return null;
    }

    private static IEnumerable<string> Expand(string dir, string include)
    {
        var full = Path.GetFullPath(Path.Combine(dir, include.Replace('\\', '/')));
        var folder = Path.GetDirectoryName(full)!;
        var pattern = Path.GetFileName(full);
        return Directory.Exists(folder) ? Directory.EnumerateFiles(folder, pattern) : [];
    }

    private static bool IsBuildOutput(string relative) =>
        relative.Replace('\\', '/').Split('/').Any(s => s is "bin" or "obj" or "node_modules");

    private static IEnumerable<string> DeclaredNamespaces(string source) =>
        NamespaceDeclaration().Matches(source).Select(m => m.Groups[1].Value);

    /// <summary>PlugAndCharge.* names in code: comments and string literals do not count.</summary>
    private static IEnumerable<string> MentionedNames(string source) =>
        QualifiedName().Matches(CommentsAndStrings().Replace(source, " ")).Select(m => m.Value);

    [GeneratedRegex(@"^\s*namespace\s+([A-Za-z_][A-Za-z0-9_.]*)", RegexOptions.Multiline)]
    private static partial Regex NamespaceDeclaration();

    [GeneratedRegex(@"\bPlugAndCharge(?:\.[A-Za-z_][A-Za-z0-9_]*)+")]
    private static partial Regex QualifiedName();

    // Line and block comments, verbatim/raw and regular string literals (interpolation holes are rare in names).
    [GeneratedRegex(@"//[^\n]*|/\*.*?\*/|""""""[\s\S]*?""""""|@""(?:[^""]|"""")*""|""(?:\\.|[^""\\\n])*""", RegexOptions.Singleline)]
    private static partial Regex CommentsAndStrings();
}
