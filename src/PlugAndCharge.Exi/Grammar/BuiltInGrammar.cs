namespace PlugAndCharge.Exi.Grammar;

/// <summary>A production learned by a built-in element grammar (EXI 1.0 §8.4.3).</summary>
internal readonly record struct LearnedProduction(EventType Type, QName Name);

/// <summary>
/// Built-in element grammar for elements without a schema declaration (reached through SE(*)). It evolves as
/// the stream goes: a production matched through the generic second-level event is learned at code 0.
/// One instance per qname per stream, shared by encoder and decoder logic so both evolve alike.
/// </summary>
internal sealed class BuiltInGrammar
{
    /// <summary>StartTagContent learned productions, index = event code.</summary>
    public readonly List<LearnedProduction> StartTag = new();

    /// <summary>ElementContent productions: initially just EE at code 0.</summary>
    public readonly List<LearnedProduction> Content = new() { new LearnedProduction(EventType.EndElement, default) };

    // Second-level events of StartTagContent with default fidelity options: EE, AT(*), SE(*), CH (2 bits).
    public const int StartSecondBits = 2;
    public const int StartSecondEnd = 0, StartSecondAttribute = 1, StartSecondElement = 2, StartSecondCharacters = 3;

    // Second-level events of ElementContent: SE(*), CH (1 bit).
    public const int ContentSecondBits = 1;
    public const int ContentSecondElement = 0, ContentSecondCharacters = 1;

    public static void Learn(List<LearnedProduction> list, LearnedProduction p) => list.Insert(0, p);
}
