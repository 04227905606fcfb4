namespace PlugAndCharge.Exi.Grammar;

/// <summary>
/// The uri and local-name partitions of the EXI string table (EXI 1.0 §7.3.1, Appendix D), pre-populated from
/// the schema and extended copy-on-write as a stream adds names.
/// </summary>
internal sealed class QNameTable
{
    private readonly SchemaGrammar _g;
    private List<string>? _uris;
    private Dictionary<string, int>? _uriIndex;
    private List<List<string>?>? _added;
    private List<Dictionary<string, int>?>? _addedIndex;

    public QNameTable(SchemaGrammar g) { _g = g; }

    public int UriCount => _uris?.Count ?? _g.InitialUris.Length;

    public string Uri(int i) => _uris != null ? _uris[i] : _g.InitialUris[i];

    public int FindUri(string uri)
    {
        if (_uriIndex != null) return _uriIndex.TryGetValue(uri, out int j) ? j : -1;
        return _g.UriIndex.TryGetValue(uri, out int i) ? i : -1;
    }

    public int AddUri(string uri)
    {
        if (_uris == null)
        {
            _uris = new List<string>(_g.InitialUris);
            _uriIndex = new Dictionary<string, int>(_g.UriIndex, StringComparer.Ordinal);
        }
        _uris.Add(uri);
        _uriIndex!.TryAdd(uri, _uris.Count - 1);
        return _uris.Count - 1;
    }

    private int InitialCount(int uri) => uri < _g.InitialLocalNames.Length ? _g.InitialLocalNames[uri].Length : 0;

    public int LocalCount(int uri)
    {
        int n = InitialCount(uri);
        if (_added != null && uri < _added.Count && _added[uri] is { } a) n += a.Count;
        return n;
    }

    public string Local(int uri, int i)
    {
        int n = InitialCount(uri);
        return i < n ? _g.InitialLocalNames[uri][i] : _added![uri]![i - n];
    }

    public int FindLocal(int uri, string name)
    {
        if (uri < _g.LocalNameIndex.Length && _g.LocalNameIndex[uri].TryGetValue(name, out int i)) return i;
        if (_addedIndex != null && uri < _addedIndex.Count && _addedIndex[uri] is { } d && d.TryGetValue(name, out int j))
            return InitialCount(uri) + j;
        return -1;
    }

    public void AddLocal(int uri, string name)
    {
        _added ??= new List<List<string>?>();
        _addedIndex ??= new List<Dictionary<string, int>?>();
        while (_added.Count <= uri) { _added.Add(null); _addedIndex.Add(null); }
        var list = _added[uri] ??= new List<string>();
        var index = _addedIndex[uri] ??= new Dictionary<string, int>(StringComparer.Ordinal);
        index.TryAdd(name, list.Count);
        list.Add(name);
    }
}

/// <summary>Value partitions (EXI 1.0 §7.3.3) when enabled: a global partition and one local partition per qname.</summary>
internal sealed class ValueTable
{
    private readonly List<string> _global = new();
    private readonly Dictionary<string, int> _globalIndex = new(StringComparer.Ordinal);
    private readonly Dictionary<QName, (List<string> List, Dictionary<string, int> Index)> _local = new();

    public int GlobalCount => _global.Count;
    public string Global(int i) => _global[i];
    public int FindGlobal(string s) => _globalIndex.TryGetValue(s, out int i) ? i : -1;

    public int LocalCount(QName q) => _local.TryGetValue(q, out var l) ? l.List.Count : 0;
    public string Local(QName q, int i) => _local[q].List[i];
    public int FindLocal(QName q, string s) => _local.TryGetValue(q, out var l) && l.Index.TryGetValue(s, out int i) ? i : -1;

    public void Add(QName q, string s)
    {
        if (!_local.TryGetValue(q, out var l)) _local[q] = l = (new List<string>(), new Dictionary<string, int>(StringComparer.Ordinal));
        l.Index.TryAdd(s, l.List.Count);
        l.List.Add(s);
        _globalIndex.TryAdd(s, _global.Count);
        _global.Add(s);
    }
}
