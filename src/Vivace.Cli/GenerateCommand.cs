using System.CommandLine;
using System.Text;
using System.Text.Json;
using Vivace.Cpu;
using Vivace.Engine;
using Vivace.Engine.Generation;
using Vivace.Models.Decoders;
using Vivace.Tensors;

namespace Vivace.Cli;

/// <summary>
/// <c>vivace generate --model DIR --prompt TEXT</c> streams the continuation to stdout as it is produced.
/// <c>vivace generate --model DIR --json</c> reads <c>{"input_ids", "attention_mask"?, "max_new_tokens", "do_sample", ...}</c>
/// on stdin and prints <c>{"generated_ids": [[...]]}</c> as transformers' <c>generate()</c> returns them for a decoder-only
/// model: prompt (left padding kept) + new tokens, finished rows padded with pad_token_id.
/// </summary>
public static class GenerateCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "decoder model directory (config.json, safetensors, tokenizer.json)", Required = true };
        var prompt = new Option<string?>("--prompt") { Description = "prompt text (streams the generated text to stdout)" };
        var json = new Option<bool>("--json") { Description = "read token ids as JSON on stdin, print {\"generated_ids\": [[...]]}" };
        var maxNew = new Option<int?>("--max-new-tokens") { Description = "new tokens at most (default: generation_config.json, else 20)" };
        var temperature = new Option<float?>("--temperature") { Description = "sampling temperature; 0 or absent: greedy" };
        var topK = new Option<int?>("--top-k") { Description = "sample from the k most likely tokens" };
        var topP = new Option<float?>("--top-p") { Description = "nucleus sampling: smallest set with this probability mass, in (0, 1]" };
        var repetition = new Option<float?>("--repetition-penalty") { Description = "penalize tokens already present (> 0; 1 = off)" };
        var seed = new Option<ulong?>("--seed") { Description = "sampling seed: the same seed gives the same text" };
        var stop = new Option<string[]>("--stop") { Description = "stop when this text is generated (repeatable)", AllowMultipleArgumentsPerToken = false };
        var quantize = PrecisionOption.CreateQuantize();
        var dtype = PrecisionOption.CreateDtype();
        var command = new Command("generate", "generate text with a decoder model")
        {
            model, prompt, json, maxNew, temperature, topK, topP, repetition, seed, stop, quantize, dtype,
        };
        command.SetAction(result => CliApp.Guard(() =>
        {
            string dir = result.GetValue(model)!;
            ITensorOps ops = PrecisionOption.Ops(result.GetValue(quantize), result.GetValue(dtype));
            if (result.GetValue(json))
            {
                if (result.GetValue(prompt) != null) throw new InvalidInputException("--json reads token ids from stdin; drop --prompt");
                return RunJson(dir, Console.In, Console.Out, ops);
            }
            string text = result.GetValue(prompt) ?? throw new InvalidInputException("give --prompt TEXT (or --json with ids on stdin)");
            float? t = result.GetValue(temperature);
            var sampling = new SamplingParameters
            {
                // Any sampling knob turns sampling on; temperature 0 means greedy, as TGI and OpenAI treat it.
                DoSample = t is > 0 || (t is null && (result.GetValue(topK) != null || result.GetValue(topP) != null)),
                Temperature = t ?? 1f,
                TopK = result.GetValue(topK),
                TopP = result.GetValue(topP),
                RepetitionPenalty = result.GetValue(repetition),
                Seed = result.GetValue(seed),
            };
            var request = new GenerationRequest
            {
                Prompt = text,
                MaxNewTokens = result.GetValue(maxNew),
                Sampling = sampling,
                Stop = result.GetValue(stop) ?? [],
            };
            return RunText(dir, request, Console.Out, ops);
        }));
        return command;
    }

    /// <summary>Streams the text of <paramref name="request"/> to <paramref name="output"/> as it is produced.</summary>
    public static int RunText(string modelDir, GenerationRequest request, TextWriter output, ITensorOps? ops = null)
    {
        TextGenerator generator = TextGenerator.Load(ModelResolver.Resolve(modelDir), ops ?? CpuOps.Default);
        foreach (GenerationStep step in generator.Stream(request))
        {
            output.Write(step.SafeText);
            output.Flush();
        }
        output.WriteLine();
        output.Flush();
        return 0;
    }

    private static readonly HashSet<string> JsonFields =
    [
        "input_ids", "attention_mask", "max_new_tokens", "do_sample", "temperature", "top_k", "top_p", "typical_p", "min_p",
        "repetition_penalty", "seed", "eos_token_id", "pad_token_id",
    ];

    /// <summary>The <c>--json</c> mode: transformers' <c>generate()</c> on the given ids.</summary>
    public static int RunJson(string modelDir, TextReader input, TextWriter output, ITensorOps? ops = null)
    {
        using var doc = JsonDocument.Parse(input.ReadToEnd(), new JsonDocumentOptions { MaxDepth = 16 });
        JsonElement root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new InvalidInputException("stdin must hold one JSON object");
        foreach (JsonProperty p in root.EnumerateObject())
            if (!JsonFields.Contains(p.Name))
                throw new InvalidInputException($"unknown field '{p.Name}' (expected {string.Join(", ", JsonFields)})");
        (long[] ids, int batch, int seq) = JsonMatrix.Read(root, "input_ids", required: true)!.Value;
        long[] mask = JsonMatrix.Read(root, "attention_mask", required: false) is { } m ? JsonMatrix.Check(m, batch, seq, "attention_mask") : JsonMatrix.Ones(batch * seq);
        foreach (long x in mask)
            if (x is not (0 or 1)) throw new InvalidInputException($"attention_mask holds {x}; it must be 0 or 1");
        int maxNew = Int(root, "max_new_tokens") ?? throw new InvalidInputException("missing 'max_new_tokens'");
        if (maxNew < 0) throw new InvalidInputException($"max_new_tokens must be >= 0 (got {maxNew})");
        var sampling = new SamplingParameters
        {
            DoSample = root.TryGetProperty("do_sample", out JsonElement ds) && ds.ValueKind == JsonValueKind.True,
            Temperature = Float(root, "temperature") ?? 1f,
            TopK = Int(root, "top_k"),
            TopP = Float(root, "top_p"),
            TypicalP = Float(root, "typical_p"),
            MinP = Float(root, "min_p"),
            RepetitionPenalty = Float(root, "repetition_penalty"),
            Seed = Int(root, "seed") is int s ? (ulong)s : null,
        };
        try { sampling.Validate(); }
        catch (ArgumentException e) { throw InvalidInputException.From(e); }

        string dir = ModelResolver.Resolve(modelDir);
        ICausalLM model = CausalLMLoader.Load(dir, ops ?? CpuOps.Default);
        foreach (long id in ids)
            if ((ulong)id >= (ulong)model.VocabSize) throw new InvalidInputException($"input_ids holds {id}, outside the vocabulary [0, {model.VocabSize})");
        if (seq + maxNew > model.MaxPositions)
            throw new InvalidInputException($"input length {seq} + max_new_tokens {maxNew} exceeds the model's {model.MaxPositions} positions");
        GenerationSettings settings = GenerationDefaults.Load(dir).ToSettings(maxNew);
        if (JsonMatrix.Ids(root, "eos_token_id") is { } eos) settings = settings with { EosTokenIds = eos };
        if (Int(root, "pad_token_id") is int pad) settings = settings with { PadTokenId = pad };

        (long[] generated, int length) = BatchedGeneration.Generate(model, batch, seq, ids, mask, settings, sampling);

        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("generated_ids");
            for (int b = 0; b < batch; b++)
            {
                writer.WriteStartArray();
                for (int t = 0; t < length; t++) writer.WriteNumberValue(generated[b * length + t]);
                writer.WriteEndArray();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        output.WriteLine(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        output.Flush();
        return 0;
    }

    private static int? Int(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out JsonElement e) || e.ValueKind == JsonValueKind.Null) return null;
        return e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int v) ? v
            : throw new InvalidInputException($"'{name}' must be an integer (got {e.GetRawText()})");
    }

    private static float? Float(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out JsonElement e) || e.ValueKind == JsonValueKind.Null) return null;
        return e.ValueKind == JsonValueKind.Number ? e.GetSingle()
            : throw new InvalidInputException($"'{name}' must be a number (got {e.GetRawText()})");
    }
}
