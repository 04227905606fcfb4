using System.Collections.Concurrent;

namespace PlugAndCharge.Pki.Validation;

/// <summary>
/// A thread-safe cache that forgets everything when it grows past its capacity. Crude, but bounded memory matters more
/// here than hit rate: the working set (a few roots and sub-CAs) is tiny and refills at once.
/// </summary>
internal sealed class BoundedCache<TKey, TValue>
    where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, TValue> _items = new();
    private readonly int _capacity;
    private int _count;

    public BoundedCache(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        _capacity = capacity;
    }

    public bool TryGet(TKey key, out TValue value) => _items.TryGetValue(key, out value!);

    public void Add(TKey key, TValue value)
    {
        if (!_items.TryAdd(key, value))
        {
            return;
        }

        if (Interlocked.Increment(ref _count) > _capacity)
        {
            _items.Clear();
            Interlocked.Exchange(ref _count, 0);
        }
    }
}
