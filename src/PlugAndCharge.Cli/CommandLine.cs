namespace PlugAndCharge.Cli;

/// <summary>A user mistake on the command line: printed as one line, exit code 2, never a stack trace.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>Parsed arguments: positionals plus --name value / --flag options (repeatable options keep every value).</summary>
public sealed class CommandLine
{
    private readonly Dictionary<string, List<string>> _options = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);
    public List<string> Positionals { get; } = [];

    public CommandLine(IEnumerable<string> args, IReadOnlySet<string> flags)
    {
        var list = args.ToList();
        for (var i = 0; i < list.Count; i++)
        {
            var a = list[i];
            if (a.StartsWith("--", StringComparison.Ordinal) && a.Length > 2)
            {
                var eq = a.IndexOf('=');
                string name, value;
                if (eq > 0) { name = a[2..eq]; value = a[(eq + 1)..]; }
                else if (flags.Contains(a[2..])) { name = a[2..]; value = "true"; }
                else
                {
                    if (i + 1 >= list.Count) throw new UsageException($"Option {a} needs a value.");
                    name = a[2..]; value = list[++i];
                }
                if (!_options.TryGetValue(name, out var values)) _options[name] = values = [];
                values.Add(value);
            }
            else Positionals.Add(a);
        }
    }

    public bool Has(string name) { _used.Add(name); return _options.ContainsKey(name); }
    public string? Get(string name) { _used.Add(name); return _options.TryGetValue(name, out var v) ? v[^1] : null; }
    public IReadOnlyList<string> GetAll(string name) { _used.Add(name); return _options.TryGetValue(name, out var v) ? v : []; }
    public string Require(string name) => Get(name) ?? throw new UsageException($"--{name} is required.");

    public string Positional(int index, string what) =>
        index < Positionals.Count ? Positionals[index] : throw new UsageException($"Missing {what}.");

    /// <summary>Refuses options the command does not know, so a typo is not silently ignored.</summary>
    public void RejectUnknown()
    {
        var unknown = _options.Keys.Where(k => !_used.Contains(k)).ToList();
        if (unknown.Count > 0) throw new UsageException($"Unknown option --{unknown[0]}.");
    }
}
