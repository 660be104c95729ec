using System.CommandLine;
using System.Text;
using System.Text.Json;
using Vivace.Engine;

namespace Vivace.Cli;

/// <summary><c>vivace embed</c>: JSON Lines of strings in, one JSON array of floats per line out.</summary>
public static class EmbedCommand
{
    /// <summary>Lines embedded per forward pass.</summary>
    private const int LinesPerBatch = 64;

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "model directory or id", DefaultValueFactory = _ => CliApp.DefaultModel };
        var command = new Command("embed", "embed JSON Lines of strings from stdin; print one JSON array of floats per line") { model };
        command.SetAction(result => CliApp.Guard(() => Run(result.GetValue(model)!, Console.In, Console.Out)));
        return command;
    }

    public static int Run(string modelId, TextReader input, TextWriter output)
    {
        SentenceEmbedder embedder = SentenceEmbedder.Load(modelId);
        var batch = new List<string>(LinesPerBatch);
        int lineNumber = 0;
        for (string? line; (line = input.ReadLine()) != null;)
        {
            lineNumber++;
            if (line.Length == 0) continue;
            batch.Add(ParseLine(line, lineNumber));
            if (batch.Count == LinesPerBatch) Flush(embedder, batch, output);
        }
        Flush(embedder, batch, output);
        output.Flush();
        return 0;
    }

    private static string ParseLine(string line, int lineNumber)
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
    }

    private static void Flush(SentenceEmbedder embedder, List<string> batch, TextWriter output)
    {
        if (batch.Count == 0) return;
        float[][] vectors = embedder.Embed(batch);
        var buffer = new MemoryStream();
        foreach (float[] v in vectors)
        {
            buffer.SetLength(0);
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartArray();
                foreach (float x in v) writer.WriteNumberValue(x);
                writer.WriteEndArray();
            }
            output.WriteLine(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        }
        batch.Clear();
    }
}
