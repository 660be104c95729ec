using System.Text.Json;
using Vivace.Tokenizers.Unicode;

namespace Vivace.Tokenizers.Normalizers;

/// <summary>"Replace": every match of a string or (Oniguruma) regex pattern becomes <c>content</c>. A
/// replacement as long as its match is aligned unit by unit, any other to the whole matched range.</summary>
internal sealed class ReplaceNormalizer(OnigRegex pattern, string content) : INormalizer
{
    [ThreadStatic] private static List<(int, int)>? t_matches;

    public static ReplaceNormalizer FromJson(JsonElement e) =>
        new(PatternFromJson(e.GetProperty("pattern")), JsonRead.String(e, "content") ?? "");

    internal static OnigRegex PatternFromJson(JsonElement pattern) =>
        pattern.TryGetProperty("Regex", out var r) ? new OnigRegex(r.GetString()!)
            : OnigRegex.Literal(pattern.GetProperty("String").GetString()!);

    public void Normalize(NormalizedString text)
    {
        var src = text.Normalized;
        var matches = t_matches ??= [];
        matches.Clear();
        pattern.Matches(src, matches);
        if (matches.Count == 0) return;
        text.BeginRewrite(src.Length + matches.Count * Math.Max(0, content.Length - 1));
        int pos = 0;
        foreach (var (s, e) in matches)
        {
            if (e == s) continue;
            for (; pos < s; pos++) text.Emit(src[pos], pos);
            if (content.Length == e - s)
                for (int k = 0; k < content.Length; k++) text.Emit(content[k], s + k);
            else
                foreach (char c in content) text.Emit(c, s, e - s);
            pos = e;
        }
        for (; pos < src.Length; pos++) text.Emit(src[pos], pos);
        text.EndRewrite();
    }
}
