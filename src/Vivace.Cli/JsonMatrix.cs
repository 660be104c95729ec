using System.Text.Json;
using Vivace.Engine;

namespace Vivace.Cli;

/// <summary>Integer matrices (<c>[[...], ...]</c>) and id lists read from a JSON object on stdin, checked at the boundary.</summary>
public static class JsonMatrix
{
    public static (long[] Values, int Rows, int Cols)? Read(JsonElement root, string name, bool required)
    {
        if (!root.TryGetProperty(name, out JsonElement m) || m.ValueKind == JsonValueKind.Null)
            return required ? throw new InvalidInputException($"missing '{name}'") : null;
        if (m.ValueKind != JsonValueKind.Array || m.GetArrayLength() == 0)
            throw new InvalidInputException($"'{name}' must be a non-empty array of arrays of integers");
        int rows = m.GetArrayLength(), cols = -1;
        var values = new List<long>();
        foreach (JsonElement row in m.EnumerateArray())
        {
            if (row.ValueKind != JsonValueKind.Array) throw new InvalidInputException($"'{name}' must be an array of arrays of integers");
            if (cols < 0) cols = row.GetArrayLength();
            else if (row.GetArrayLength() != cols) throw new InvalidInputException($"'{name}' rows have different lengths ({cols} and {row.GetArrayLength()})");
            foreach (JsonElement v in row.EnumerateArray())
            {
                if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out long x))
                    throw new InvalidInputException($"'{name}' holds {v.GetRawText()}, not an integer");
                values.Add(x);
            }
        }
        if (cols == 0) throw new InvalidInputException($"'{name}' rows are empty");
        return ([.. values], rows, cols);
    }

    public static long[] Check((long[] Values, int Rows, int Cols) m, int batch, int seq, string name) =>
        m.Rows == batch && m.Cols == seq ? m.Values
        : throw new InvalidInputException($"'{name}' is [{m.Rows}, {m.Cols}] but input_ids is [{batch}, {seq}]");

    public static long[] Ones(int n)
    {
        var a = new long[n];
        Array.Fill(a, 1L);
        return a;
    }

    /// <summary>An id field given as an integer or a list of integers; null when absent.</summary>
    public static long[]? Ids(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out JsonElement e) || e.ValueKind == JsonValueKind.Null) return null;
        if (e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out long one)) return [one];
        if (e.ValueKind == JsonValueKind.Array && e.EnumerateArray().All(x => x.ValueKind == JsonValueKind.Number && x.TryGetInt64(out _)))
            return e.EnumerateArray().Select(x => x.GetInt64()).ToArray();
        throw new InvalidInputException($"'{name}' must be an integer or a list of integers (got {e.GetRawText()})");
    }
}
