using Vivace.Tokenizers.Unicode;

namespace Vivace.Tokenizers.PreTokenizers;

/// <summary>"UnicodeScripts": splits where the Unicode script changes. As the reference: a space belongs to
/// any script (never splits and does not reset the current one; leading spaces are dropped), Hiragana, Katakana and U+30FC count as Han;
/// Common and Inherited are scripts of their own.</summary>
internal sealed class UnicodeScriptsPreTokenizer : IPreTokenizer
{
    private const int Any = -1;
    private static readonly int Han = UnicodeTables.ScriptIndex("Han");
    private static readonly int Hiragana = UnicodeTables.ScriptIndex("Hiragana");
    private static readonly int Katakana = UnicodeTables.ScriptIndex("Katakana");

    private static int FixedScript(int cp)
    {
        if (cp == 0x30FC) return Han;
        if (cp == ' ') return Any;
        int s = UnicodeTables.Script(cp);
        if (s == 0) return Any; // characters the table does not know (unassigned, private use) join any script
        return s == Hiragana || s == Katakana ? Han : s;
    }

    public void Split(ReadOnlySpan<char> text, Piece piece, List<Piece> output)
    {
        // As the reference: a piece starts at every character whose script differs from the last non-space
        // one, the first such character included; text before it (leading spaces) belongs to no piece.
        int last = int.MinValue;
        int start = -1;
        for (int i = piece.Start; i < piece.End;)
        {
            int cp = CharClass.CodePointAt(text, i, out int w);
            int script = FixedScript(cp);
            if (script != Any && script != last)
            {
                if (start >= 0 && i > start) output.Add(new Piece(start, i));
                start = i;
            }
            if (script != Any) last = script;
            i += w;
        }
        if (start >= 0 && piece.End > start) output.Add(new Piece(start, piece.End));
    }
}
