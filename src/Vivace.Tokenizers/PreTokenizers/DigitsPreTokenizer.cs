using System.Globalization;

namespace Vivace.Tokenizers.PreTokenizers;

/// <summary>"Digits": splits out numeric characters (Nd, Nl, No), each on its own with individual_digits,
/// else as contiguous runs.</summary>
internal sealed class DigitsPreTokenizer(bool individualDigits) : IPreTokenizer
{
    private static readonly Func<int, bool> IsNumeric = cp => cp < 0x80
        ? cp is >= '0' and <= '9'
        : CharUnicodeInfo.GetUnicodeCategory(cp) is UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber;

    public bool IndividualDigits { get; } = individualDigits;

    public void Split(ReadOnlySpan<char> text, Piece piece, List<Piece> output) =>
        PieceSplitter.Split(text, piece, IsNumeric, IndividualDigits ? DelimiterBehavior.Isolated : DelimiterBehavior.Contiguous, output);
}
