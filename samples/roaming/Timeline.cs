using System.Diagnostics;
using System.Globalization;

namespace PlugAndCharge.Samples.Roaming;

/// <summary>One message of the story: who sent what to whom, how long the answer took, and what came back.</summary>
public sealed record TimelineEntry(TimeSpan At, string From, string To, string Message, TimeSpan Took, string Outcome);

/// <summary>
/// The readable log of the scenario: chapters, and per message the sender, the receiver, the protocol call, its
/// duration and its outcome. Entries are kept for the automated test.
/// </summary>
public sealed class Timeline(TextWriter? output)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<TimelineEntry> _entries = [];

    public IReadOnlyList<TimelineEntry> Entries => _entries;

    public void Chapter(string title)
    {
        output?.WriteLine();
        output?.WriteLine(title);
    }

    /// <summary>Runs one exchange and logs it with its duration; a failure is logged and rethrown.</summary>
    public async Task<T> StepAsync<T>(string from, string to, string message, Func<Task<T>> exchange, Func<T, string> outcome)
    {
        var at = _clock.Elapsed;
        var sw = Stopwatch.StartNew();
        T result;
        try
        {
            result = await exchange();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Write(new TimelineEntry(at, from, to, message, sw.Elapsed, "FAILED: " + e.Message));
            throw;
        }
        Write(new TimelineEntry(at, from, to, message, sw.Elapsed, outcome(result)));
        return result;
    }

    /// <summary>Something an actor does on its own (the car checking a signature), timed like a message.</summary>
    public T Local<T>(string actor, string what, Func<T> work, Func<T, string> outcome)
    {
        var at = _clock.Elapsed;
        var sw = Stopwatch.StartNew();
        var result = work();
        Write(new TimelineEntry(at, actor, actor, what, sw.Elapsed, outcome(result)));
        return result;
    }

    /// <summary>A line of narrative between messages (no duration of its own).</summary>
    public void Note(string actor, string text)
    {
        var e = new TimelineEntry(_clock.Elapsed, actor, actor, text, TimeSpan.Zero, "");
        _entries.Add(e);
        output?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {e.At.TotalSeconds,6:0.000}s  {actor,-22} {text}"));
    }

    private void Write(TimelineEntry e)
    {
        _entries.Add(e);
        if (output == null) return;
        var route = e.From == e.To ? e.From : $"{e.From} -> {e.To}";
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {e.At.TotalSeconds,6:0.000}s  {route,-22} {e.Message,-58} {e.Took.TotalMilliseconds,7:0.0} ms"));
        output.WriteLine($"{"",32}{e.Outcome}");
    }
}
