using System.Diagnostics;
using System.Text.RegularExpressions;
using PlugAndCharge.Tests;
using Xunit;

namespace PlugAndCharge.Core.Tests.Repository;

/// <summary>
/// A user's clone has nothing beside it: no tracked file may read or cite a folder next to the repository. Only docs/
/// and the SOURCE.md of each vendored data set may name where their material came from.
/// </summary>
public partial class RepositoryStandsAloneTests
{
    [Fact]
    public void No_tracked_file_refers_to_a_path_outside_the_repository()
    {
        var findings = new List<string>();
        foreach (var file in TrackedFiles())
        {
            if (Exempt(file)) continue;
            var full = Path.Combine(TestPaths.RepoRoot, file);
            if (!File.Exists(full)) continue; // deleted in the work tree, not yet committed
            var bytes = File.ReadAllBytes(full);
            if (Array.IndexOf(bytes, (byte)0) >= 0) continue; // binary: certificates, EXI
            findings.AddRange(OutsideReferences(file, System.Text.Encoding.UTF8.GetString(bytes)));
        }
        Assert.True(findings.Count == 0, "References outside the repository:\n" + string.Join("\n", findings));
    }

    [Theory]
    [InlineData("src/A/B.cs", "// see .." + "/shared/docs/domain.md §6")] // split so this file does not name the folder itself
    [InlineData("tests/A/B.cs", "var v = Path.Combine(root, \"..\", \"shared\", \"vectors\");")]
    [InlineData("tests/A/A.csproj", "<None Include=\"../../../limbo/limbo.json\" />")]
    [InlineData("scripts/x.sh", "cp ../../vectors/a.pem .")]
    [InlineData("README.md", "read /work/shared/README.md first")]
    public void The_guard_sees_each_kind_of_outside_reference(string file, string text) =>
        Assert.NotEmpty(OutsideReferences(file, text));

    [Theory]
    [InlineData("tests/A/A.csproj", "<Compile Include=\"../Shared/TestPaths.cs\" />")]
    [InlineData("src/A/A.csproj", "<Import Project=\"../ServiceRuntime.props\" />")]
    [InlineData("tests/A/B/C.cs", "Assert.Equal(Unauthorized, Respond(\"../../etc/passwd\"));")]
    [InlineData("src/A/B.cs", "// a 401 names https://login.../TENANT")]
    [InlineData("src/A/B.cs", "// the shared secret Z")]
    public void The_guard_leaves_paths_inside_the_repository_alone(string file, string text) =>
        Assert.Empty(OutsideReferences(file, text));

    [Fact]
    public void Every_vendored_data_set_says_where_it_comes_from()
    {
        var vectors = TestPaths.Vector("");
        var missing = Directory.GetDirectories(vectors).Where(d => !File.Exists(Path.Combine(d, "SOURCE.md"))).Select(Path.GetFileName).ToList();
        Assert.True(missing.Count == 0, "tests/vectors sets without SOURCE.md: " + string.Join(", ", missing));
    }

    /// <summary>
    /// docs/ may cite the material a fact came from; so may each data set's SOURCE.md; and this file names what it looks
    /// for.
    /// </summary>
    private static bool Exempt(string file) =>
        file.StartsWith("docs/", StringComparison.Ordinal) || Path.GetFileName(file) == "SOURCE.md" ||
        file == "tests/PlugAndCharge.Core.Tests/Repository/RepositoryStandsAloneTests.cs";

    internal static IEnumerable<string> OutsideReferences(string file, string text)
    {
        var directory = Path.GetDirectoryName(file) ?? "";
        var lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (SiblingFolder().IsMatch(line))
            {
                yield return $"{file}:{i + 1}: {line.Trim()}";
                continue;
            }
            foreach (Match m in RelativePath().Matches(line))
            {
                if (Escapes(directory, m.Value))
                {
                    yield return $"{file}:{i + 1}: {line.Trim()}";
                    break;
                }
            }
        }
    }

    /// <summary>True when <paramref name="relative"/>, read from the file's folder, climbs above the repository root.</summary>
    private static bool Escapes(string directory, string relative)
    {
        int depth = directory.Length == 0 ? 0 : directory.Split('/').Length;
        foreach (var part in relative.Split('/'))
        {
            if (part == "..") depth--;
            else if (part.Length > 0 && part != ".") depth++;
            if (depth < 0) return true;
        }
        return false;
    }

    /// <summary>The folder that sits beside the checkout on the developers' machines, in any spelling the code used.</summary>
    [GeneratedRegex("""\.\./shared\b|"\.\."\s*,\s*"shared"|/work/shared\b""")]
    private static partial Regex SiblingFolder();

    /// <summary>A relative path that starts with "../" at a word boundary ("login.../x" is prose, not a path).</summary>
    [GeneratedRegex("""(?<![\w.])(?:\.\./)+[\w.\-/]*""")]
    private static partial Regex RelativePath();

    private static IEnumerable<string> TrackedFiles()
    {
        var start = new ProcessStartInfo("git", "ls-files -z")
        {
            WorkingDirectory = TestPaths.RepoRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var git = Process.Start(start)!;
        var output = git.StandardOutput.ReadToEnd();
        git.WaitForExit();
        Assert.True(git.ExitCode == 0, "git ls-files failed: " + git.StandardError.ReadToEnd());
        return output.Split('\0', StringSplitOptions.RemoveEmptyEntries);
    }
}
