namespace PlugAndCharge.Tests;

/// <summary>Finds the repository root (the folder with PlugAndCharge.sln) and the test data vendored under tests/vectors.</summary>
internal static class TestPaths
{
    public static string RepoRoot { get; } = FindRoot();

    /// <summary>A file or folder of tests/vectors (each set says where it comes from in its SOURCE.md).</summary>
    public static string Vector(string relative) => Path.Combine(RepoRoot, "tests", "vectors", relative);

    /// <summary>
    /// PNC_REPO_ROOT first, then upwards from the binaries and from the current directory (BenchmarkDotNet runs its
    /// benchmarks from generated projects of its own).
    /// </summary>
    private static string FindRoot()
    {
        string?[] starts = [Environment.GetEnvironmentVariable("PNC_REPO_ROOT"), AppContext.BaseDirectory, Directory.GetCurrentDirectory()];
        foreach (var start in starts)
        {
            if (string.IsNullOrEmpty(start)) continue;
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "PlugAndCharge.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("PlugAndCharge.sln not found above " + AppContext.BaseDirectory + "; set PNC_REPO_ROOT");
    }
}
