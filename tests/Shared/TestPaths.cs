namespace PlugAndCharge.Tests;

/// <summary>Finds the repository root (the folder with PlugAndCharge.sln) and the shared material beside it.</summary>
internal static class TestPaths
{
    public static string RepoRoot { get; } = FindRoot();

    public static string Shared(string relative) => Path.Combine(RepoRoot, "..", "shared", relative);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "PlugAndCharge.sln"))) return dir.FullName;
        throw new InvalidOperationException("PlugAndCharge.sln not found above " + AppContext.BaseDirectory);
    }
}
