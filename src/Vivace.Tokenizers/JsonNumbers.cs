using System.Text.Json;

namespace Vivace.Tokenizers;

/// <summary>
/// Reads a JSON number the way the reference's JSON reader (serde_json without float_roundtrip) does: the
/// decimal digits as a u64, converted to double, then multiplied or divided once by an exact power of ten.
/// That is not always the correctly rounded value (about a quarter of T5's scores differ by one ulp), and
/// Unigram ties are decided by those last bits, so the scores must be read the same way.
/// </summary>
internal static class JsonNumbers
{
    private static readonly double[] Pow10 = BuildPow10();

    private static double[] BuildPow10()
    {
        var t = new double[309];
        for (int i = 0; i < t.Length; i++) t[i] = double.Parse("1e" + i, System.Globalization.CultureInfo.InvariantCulture);
        return t;
    }

    public static double ReadDouble(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Number) throw new InvalidDataException($"Expected a number, got {e.ValueKind}.");
        return ParseLikeSerde(e.GetRawText());
    }

    internal static double ParseLikeSerde(ReadOnlySpan<char> s)
    {
        int i = 0;
        bool positive = true;
        if (i < s.Length && s[i] == '-') { positive = false; i++; }
        ulong sig = 0;
        int exponent = 0;
        bool overflow = false;
        for (; i < s.Length && char.IsAsciiDigit(s[i]); i++)
        {
            if (overflow) { exponent++; continue; }
            ulong d = (ulong)(s[i] - '0');
            if (sig > (ulong.MaxValue - d) / 10) { overflow = true; exponent++; continue; }
            sig = sig * 10 + d;
        }
        if (i < s.Length && s[i] == '.')
        {
            for (i++; i < s.Length && char.IsAsciiDigit(s[i]); i++)
            {
                if (overflow) continue;
                ulong d = (ulong)(s[i] - '0');
                if (sig > (ulong.MaxValue - d) / 10) { overflow = true; continue; }
                sig = sig * 10 + d;
                exponent--;
            }
        }
        if (i < s.Length && (s[i] == 'e' || s[i] == 'E'))
        {
            i++;
            bool negExp = false;
            if (i < s.Length && (s[i] == '+' || s[i] == '-')) { negExp = s[i] == '-'; i++; }
            int e = 0;
            for (; i < s.Length && char.IsAsciiDigit(s[i]); i++) e = Math.Min(e * 10 + (s[i] - '0'), 100000);
            exponent += negExp ? -e : e;
        }
        double f = sig;
        while (true)
        {
            int abs = Math.Abs(exponent);
            if (abs < Pow10.Length)
            {
                if (exponent >= 0) f *= Pow10[abs];
                else f /= Pow10[abs];
                break;
            }
            if (f == 0) break;
            if (exponent >= 0) return positive ? double.PositiveInfinity : double.NegativeInfinity;
            f /= 1e308;
            exponent += 308;
        }
        return positive ? f : -f;
    }
}
