using System.CommandLine;
using System.Text;
using System.Text.Json;
using Vivace.Engine;
using Vivace.Tokenizers;

namespace Vivace.Cli;

/// <summary><c>vivace tokenize</c>: JSON Lines of strings in, one JSON array of token ids per line out, encoded
/// as Hugging Face's <c>encode</c> does one text (the file's truncation and padding applied).</summary>
public static class TokenizeCommand
{
    /// <summary>Lines read before they are encoded (in parallel) and written in order.</summary>
    private const int LinesPerChunk = 256;

    public static Command Create()
    {
        var tokenizer = new Option<string>("--tokenizer") { Description = "tokenizer.json, a model directory, or a .gguf file", Required = true };
        var noSpecial = new Option<bool>("--no-special-tokens") { Description = "do not add the post-processor's special tokens" };
        var command = new Command("tokenize", "tokenize JSON Lines of strings from stdin; print one JSON array of ids per line") { tokenizer, noSpecial };
        command.SetAction(result => CliApp.Guard(() => Run(result.GetValue(tokenizer)!, !result.GetValue(noSpecial), Console.In, Console.Out)));
        return command;
    }

    public static Tokenizer Load(string path)
    {
        if (Directory.Exists(path)) return Tokenizer.FromDirectory(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"tokenizer not found: '{path}'");
        return path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) ? Tokenizer.FromGguf(path) : Tokenizer.FromFile(path);
    }

    public static int Run(string tokenizerPath, bool addSpecialTokens, TextReader input, TextWriter output)
    {
        Tokenizer tokenizer;
        try
        {
            tokenizer = Load(tokenizerPath);
        }
        catch (JsonException e)
        {
            throw new InvalidInputException($"'{tokenizerPath}' is not valid JSON: {e.Message}");
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidInputException($"'{tokenizerPath}' is not a usable tokenizer: {e.Message}");
        }

        foreach (List<string> chunk in JsonLines.ReadStringChunks(input, LinesPerChunk)) Flush(tokenizer, addSpecialTokens, chunk, output);
        output.Flush();
        return 0;
    }

    private static void Flush(Tokenizer tokenizer, bool addSpecialTokens, List<string> chunk, TextWriter output)
    {
        var ids = new int[chunk.Count][];
        try
        {
            if (chunk.Count > 8 && Environment.ProcessorCount > 1)
                Parallel.For(0, chunk.Count, i => ids[i] = tokenizer.Encode(chunk[i], addSpecialTokens).Ids);
            else
                for (int i = 0; i < chunk.Count; i++) ids[i] = tokenizer.Encode(chunk[i], addSpecialTokens).Ids;
        }
        catch (AggregateException e) when (e.InnerException is InvalidOperationException inner)
        {
            throw new InvalidInputException(inner.Message);
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidInputException(e.Message);
        }
        var sb = new StringBuilder();
        foreach (int[] line in ids)
        {
            sb.Clear().Append('[');
            for (int i = 0; i < line.Length; i++)
            {
                if (i > 0) sb.Append(',');
                sb.Append(line[i]);
            }
            output.WriteLine(sb.Append(']').ToString());
        }
    }
}
