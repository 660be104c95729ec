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
        var quantize = PrecisionOption.CreateQuantize();
        var dtype = PrecisionOption.CreateDtype();
        var command = new Command("embed", "embed JSON Lines of strings from stdin; print one JSON array of floats per line") { model, quantize, dtype };
        command.SetAction(result => CliApp.Guard(() =>
            Run(result.GetValue(model)!, Console.In, Console.Out, PrecisionOption.Ops(result.GetValue(quantize), result.GetValue(dtype)))));
        return command;
    }

    public static int Run(string modelId, TextReader input, TextWriter output, Vivace.Tensors.ITensorOps? ops = null)
    {
        SentenceEmbedder embedder = SentenceEmbedder.Load(modelId, ops);
        foreach (List<string> chunk in JsonLines.ReadStringChunks(input, LinesPerBatch)) Flush(embedder, chunk, output);
        output.Flush();
        return 0;
    }

    private static void Flush(SentenceEmbedder embedder, List<string> batch, TextWriter output)
    {
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
    }
}
