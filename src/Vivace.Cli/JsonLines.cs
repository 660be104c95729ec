using System.Text.Json;
using Vivace.Engine;

namespace Vivace.Cli;

/// <summary>stdin as the verbs take it: one JSON string per line (blank lines skipped), read in chunks.</summary>
public static class JsonLines
{
    /// <summary>The strings of <paramref name="input"/>, <paramref name="chunkSize"/> at a time; a line that is not a
    /// JSON string is an <see cref="InvalidInputException"/> naming its line number.</summary>
    public static IEnumerable<List<string>> ReadStringChunks(TextReader input, int chunkSize)
    {
        var chunk = new List<string>(chunkSize);
        int lineNumber = 0;
        for (string? line; (line = input.ReadLine()) != null;)
        {
            lineNumber++;
            if (line.Length == 0) continue;
            chunk.Add(ParseString(line, lineNumber));
            if (chunk.Count == chunkSize)
            {
                yield return chunk;
                chunk = new List<string>(chunkSize);
            }
        }
        if (chunk.Count > 0) yield return chunk;
    }

    private static string ParseString(string line, int lineNumber)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            if (doc.RootElement.ValueKind != JsonValueKind.String)
                throw new InvalidInputException($"stdin line {lineNumber}: expected a JSON string, got {doc.RootElement.ValueKind.ToString().ToLowerInvariant()}");
            return doc.RootElement.GetString()!;
        }
        catch (JsonException e)
        {
            throw new InvalidInputException($"stdin line {lineNumber}: not valid JSON ({e.Message})");
        }
        catch (InvalidOperationException)
        {
            throw new InvalidInputException($"stdin line {lineNumber}: the string is not valid UTF-8");
        }
    }
}
