using System.Text;

namespace PlugAndCharge.Exi;

/// <summary>A node of the decoded document: an element or a run of (untyped) character data.</summary>
public abstract class ExiNode
{
}

/// <summary>Character data that is not a schema-typed simple value: mixed content, or content of relaxed/built-in grammars.</summary>
public sealed class ExiText : ExiNode
{
    public ExiText(string text) { Text = text ?? throw new ArgumentNullException(nameof(text)); }

    public string Text { get; set; }

    public override string ToString() => Text;
}

public sealed class ExiAttribute
{
    public ExiAttribute(QName name, ExiValue value)
    {
        Name = name;
        Value = value;
    }

    public QName Name { get; }
    public ExiValue Value { get; set; }

    public override string ToString() => $"{Name}=\"{Value}\"";
}

/// <summary>
/// An element: qualified name, attributes, children (elements and text) and, for simple content, a typed value.
/// Decoded trees and trees built by hand are the same type, so a message can be read, changed and encoded again.
/// </summary>
public sealed class ExiElement : ExiNode
{
    private List<ExiAttribute>? _attributes;
    private List<ExiNode>? _children;

    public ExiElement(QName name) { Name = name; }

    public ExiElement(string ns, string localName) : this(new QName(ns, localName)) { }

    public ExiElement(QName name, ExiValue value) : this(name) { Value = value; }

    public QName Name { get; set; }

    /// <summary>Typed simple content (the CH event of a simple-typed element); <see cref="ExiValue.None"/> when absent.</summary>
    public ExiValue Value { get; set; }

    /// <summary>xsi:type, when the element carries one.</summary>
    public QName? XsiType { get; set; }

    /// <summary>xsi:nil, when the element carries one.</summary>
    public bool? XsiNil { get; set; }

    public List<ExiAttribute> Attributes => _attributes ??= new List<ExiAttribute>(2);
    public List<ExiNode> Children => _children ??= new List<ExiNode>(4);

    public bool HasAttributes => _attributes is { Count: > 0 };
    public bool HasChildren => _children is { Count: > 0 };

    internal List<ExiAttribute>? AttributesOrNull => _attributes;
    internal List<ExiNode>? ChildrenOrNull => _children;

    public IEnumerable<ExiElement> Elements()
    {
        if (_children == null) yield break;
        foreach (var c in _children)
            if (c is ExiElement e) yield return e;
    }

    public IEnumerable<ExiElement> Elements(string localName) => Elements().Where(e => e.Name.LocalName == localName);

    /// <summary>First child element with this local name, or null.</summary>
    public ExiElement? Element(string localName)
    {
        if (_children == null) return null;
        foreach (var c in _children)
            if (c is ExiElement e && e.Name.LocalName == localName) return e;
        return null;
    }

    public ExiElement? Element(QName name)
    {
        if (_children == null) return null;
        foreach (var c in _children)
            if (c is ExiElement e && e.Name == name) return e;
        return null;
    }

    /// <summary>First descendant (depth first, self excluded) with this local name, or null.</summary>
    public ExiElement? Descendant(string localName)
    {
        foreach (var e in Elements())
        {
            if (e.Name.LocalName == localName) return e;
            var d = e.Descendant(localName);
            if (d != null) return d;
        }
        return null;
    }

    /// <summary>The descendant-or-self element carrying an attribute with this local name and value (e.g. Id="ID1").</summary>
    public ExiElement? FindById(string id, string attributeLocalName = "Id")
    {
        if (_attributes != null)
            foreach (var a in _attributes)
                if (a.Name.LocalName == attributeLocalName && a.Value.ToString() == id) return this;
        foreach (var e in Elements())
        {
            var f = e.FindById(id, attributeLocalName);
            if (f != null) return f;
        }
        return null;
    }

    public ExiAttribute? Attribute(string localName)
    {
        if (_attributes == null) return null;
        foreach (var a in _attributes)
            if (a.Name.LocalName == localName) return a;
        return null;
    }

    public ExiElement Add(ExiNode child)
    {
        Children.Add(child ?? throw new ArgumentNullException(nameof(child)));
        return this;
    }

    public ExiElement SetAttribute(QName name, ExiValue value)
    {
        var list = Attributes;
        for (int i = 0; i < list.Count; i++)
        {
            if (list[i].Name == name) { list[i].Value = value; return this; }
        }
        list.Add(new ExiAttribute(name, value));
        return this;
    }

    /// <summary>The element's text: the typed value, or the concatenated text children.</summary>
    public string Text
    {
        get
        {
            if (!Value.IsNone) return Value.ToString();
            if (_children == null) return "";
            var sb = new StringBuilder();
            foreach (var c in _children)
                if (c is ExiText t) sb.Append(t.Text);
            return sb.ToString();
        }
    }

    public override string ToString() => ExiXml.ToXml(this);
}
