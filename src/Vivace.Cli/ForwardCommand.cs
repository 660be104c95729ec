using System.CommandLine;
using System.Text.Json;
using Vivace.Cpu;
using Vivace.Engine;
using Vivace.Models;

namespace Vivace.Cli;

/// <summary>
/// <c>vivace forward --model DIR</c>: one JSON object <c>{"input_ids", "attention_mask", "token_type_ids"?}</c> of
/// nested arrays on stdin; the model's outputs under their HF names on stdout.
/// </summary>
public static class ForwardCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "model directory", Required = true };
        var command = new Command("forward", "run the model on input tensors (JSON on stdin) and print its outputs by HF name") { model };
        command.SetAction(result => CliApp.Guard(() => Run(result.GetValue(model)!, Console.In, Console.Out)));
        return command;
    }

    public static int Run(string modelDir, TextReader input, TextWriter output)
    {
        string text = input.ReadToEnd();
        using var doc = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 16 });
        JsonElement root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new InvalidInputException("stdin must hold one JSON object");
        (long[] ids, int batch, int seq) = ReadMatrix(root, "input_ids", required: true)!.Value;
        long[] mask = ReadMatrix(root, "attention_mask", required: false) is { } m ? Check(m, batch, seq, "attention_mask") : Ones(batch * seq);
        long[] types = ReadMatrix(root, "token_type_ids", required: false) is { } t ? Check(t, batch, seq, "token_type_ids") : [];
        foreach (JsonProperty p in root.EnumerateObject())
            if (p.Name is not ("input_ids" or "attention_mask" or "token_type_ids"))
                throw new InvalidInputException($"unknown input '{p.Name}' (expected input_ids, attention_mask, token_type_ids)");

        IEncoderModel encoder = EncoderModelLoader.Load(ModelResolver.Resolve(modelDir), CpuOps.Default);
        EncoderBatch encoderBatch;
        try
        {
            encoderBatch = EncoderBatch.FromPadded(batch, seq, ids, mask, types);
        }
        catch (ArgumentException e)
        {
            throw new InvalidInputException(e.Message);
        }
        foreach (int id in encoderBatch.InputIds)
            if ((uint)id >= (uint)encoder.VocabSize) throw new InvalidInputException($"input_ids holds {id}, outside the vocabulary [0, {encoder.VocabSize})");
        for (int s = 0; s < encoderBatch.Sequences.Count; s++)
        {
            int last = encoderBatch.Sequences.Length(s) == 0 ? 0 : encoderBatch.Columns[encoderBatch.Sequences.Start(s) + encoderBatch.Sequences.Length(s) - 1];
            if (last >= encoder.MaxPositions)
                throw new InvalidInputException($"sequence {s} needs position {last}; the model has {encoder.MaxPositions} positions");
        }
        EncoderOutput result = encoder.Forward(encoderBatch);

        var buffer = new MemoryStream();
        using var writer = new Utf8JsonWriter(buffer);
        writer.WriteStartObject();
        writer.WritePropertyName("last_hidden_state");
        WriteNested(writer, encoderBatch.ToPadded(result.LastHiddenState, seq), batch, seq, encoder.HiddenSize);
        if (result.PoolerOutput != null)
        {
            writer.WritePropertyName("pooler_output");
            WriteNested(writer, result.PoolerOutput.AsSpan().ToArray(), 1, batch, encoder.HiddenSize, outerless: true);
        }
        writer.WriteEndObject();
        writer.Flush();
        output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        output.Flush();
        return 0;
    }

    private static (long[] Values, int Rows, int Cols)? ReadMatrix(JsonElement root, string name, bool required)
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
        return ([.. values], rows, cols);
    }

    private static long[] Check((long[] Values, int Rows, int Cols) m, int batch, int seq, string name) =>
        m.Rows == batch && m.Cols == seq ? m.Values
        : throw new InvalidInputException($"'{name}' is [{m.Rows}, {m.Cols}] but input_ids is [{batch}, {seq}]");

    private static long[] Ones(int n)
    {
        var a = new long[n];
        Array.Fill(a, 1L);
        return a;
    }

    /// <summary>Writes <c>[a][b][c]</c> nested arrays (or <c>[b][c]</c> when <paramref name="outerless"/>).</summary>
    private static void WriteNested(Utf8JsonWriter writer, float[] values, int a, int b, int c, bool outerless = false)
    {
        if (!outerless) writer.WriteStartArray();
        for (int i = 0; i < a; i++)
        {
            writer.WriteStartArray();
            for (int j = 0; j < b; j++)
            {
                writer.WriteStartArray();
                for (int k = 0; k < c; k++) writer.WriteNumberValue(values[((long)i * b + j) * c + k]);
                writer.WriteEndArray();
            }
            writer.WriteEndArray();
        }
        if (!outerless) writer.WriteEndArray();
    }
}
