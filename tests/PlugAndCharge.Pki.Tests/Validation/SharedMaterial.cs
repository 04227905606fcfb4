
namespace PlugAndCharge.Pki.Tests.Validation
{
    /// <summary>
    /// Finds the shared test material: the repository root is the directory holding PlugAndCharge.sln (or PNC_REPO_ROOT), and
    /// shared/ sits beside it. The walk starts from the test binaries and from the current directory.
    /// </summary>
    internal static class SharedMaterial
    {
        private static readonly Lazy<string> Root = new(Locate);

        public static string Directory => Root.Value;

        public static string PathOf(params string[] parts) => Path.Combine([Directory, .. parts]);

        private static string Locate()
        {
            var starts = new List<string>();
            var fromEnvironment = Environment.GetEnvironmentVariable("PNC_REPO_ROOT");
            if (!string.IsNullOrEmpty(fromEnvironment))
            {
                starts.Add(fromEnvironment);
            }

            starts.Add(AppContext.BaseDirectory);
            starts.Add(System.IO.Directory.GetCurrentDirectory());
            foreach (var start in starts)
            {
                for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
                {
                    if (File.Exists(Path.Combine(directory.FullName, "PlugAndCharge.sln")))
                    {
                        var shared = Path.GetFullPath(Path.Combine(directory.FullName, "..", "shared"));
                        if (System.IO.Directory.Exists(shared))
                        {
                            return shared;
                        }
                    }
                }
            }

            throw new DirectoryNotFoundException("shared/ not found: no PlugAndCharge.sln above the test binaries or the current directory; set PNC_REPO_ROOT");
        }
    }
}
