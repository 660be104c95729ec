using System.Text.Json;
using Vivace.Formats;

namespace Vivace.Models.SentenceTransformers;

/// <summary>
/// What sentence-transformers does after the transformer, read from <c>modules.json</c>,
/// <c>1_Pooling/config.json</c> and <c>sentence_bert_config.json</c>: pooling, optional Dense layers, optional
/// Normalize, and the maximum sequence length inputs are truncated to. A directory without <c>modules.json</c>
/// gets sentence-transformers' fallback: mean pooling, no normalization.
/// </summary>
public sealed record SentenceTransformerConfig
{
    public required PoolingConfig Pooling { get; init; }
    public IReadOnlyList<DenseModuleConfig> DenseLayers { get; init; } = [];
    public bool Normalize { get; init; }
    public int? MaxSeqLength { get; init; }
    public bool? DoLowerCase { get; init; }
    /// <summary>Named prompts (config_sentence_transformers.json "prompts"), put before an input that asks for one.</summary>
    public IReadOnlyDictionary<string, string> Prompts { get; init; } = new Dictionary<string, string>();
    /// <summary>The prompt used when a request names none ("default_prompt_name"), or null.</summary>
    public string? DefaultPromptName { get; init; }
    /// <summary>True when the directory is a sentence-transformers model (has modules.json).</summary>
    public bool IsSentenceTransformer { get; init; }

    private const string TransformerType = "sentence_transformers.models.Transformer";
    private const string PoolingType = "sentence_transformers.models.Pooling";
    private const string NormalizeType = "sentence_transformers.models.Normalize";
    private const string DenseType = "sentence_transformers.models.Dense";

    public static SentenceTransformerConfig Load(string modelDirectory)
    {
        string modulesPath = Path.Combine(modelDirectory, "modules.json");
        (int? maxSeq, bool? lower) = ReadSentenceBertConfig(modelDirectory);
        (var prompts, string? defaultPrompt) = ReadPrompts(modelDirectory);
        if (!File.Exists(modulesPath))
            return new SentenceTransformerConfig { Pooling = PoolingConfig.Mean, MaxSeqLength = maxSeq, DoLowerCase = lower, Prompts = prompts, DefaultPromptName = defaultPrompt };

        PoolingConfig? pooling = null;
        var dense = new List<DenseModuleConfig>();
        bool normalize = false;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(modulesPath));
            if (doc.RootElement.ValueKind != JsonValueKind.Array)
                throw new ModelFormatException(modulesPath, $"expected a JSON array of modules");
            foreach (JsonElement module in doc.RootElement.EnumerateArray())
            {
                string type = module.TryGetProperty("type", out JsonElement t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "";
                string path = module.TryGetProperty("path", out JsonElement p) && p.ValueKind == JsonValueKind.String ? p.GetString()! : "";
                string moduleDir = Path.Combine(modelDirectory, path);
                if (path.Contains("..")) throw new ModelFormatException(modulesPath, "path", $"module path '{path}' leaves the model directory");
                switch (type)
                {
                    case TransformerType:
                        break;
                    case PoolingType:
                        pooling = PoolingConfig.Load(Path.Combine(moduleDir, "config.json"));
                        break;
                    case DenseType:
                        dense.Add(DenseModuleConfig.Load(moduleDir));
                        break;
                    case NormalizeType:
                        normalize = true;
                        break;
                    default:
                        throw new ModelFormatException(modulesPath, "type", $"module type '{type}' is not supported");
                }
            }
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(modulesPath, $"not valid JSON ({e.Message})");
        }
        return new SentenceTransformerConfig
        {
            Pooling = pooling ?? PoolingConfig.Mean,
            DenseLayers = dense,
            Normalize = normalize,
            MaxSeqLength = maxSeq,
            DoLowerCase = lower,
            IsSentenceTransformer = true,
            Prompts = prompts,
            DefaultPromptName = defaultPrompt,
        };
    }

    /// <summary>config_sentence_transformers.json's "prompts" (name → text) and "default_prompt_name".</summary>
    private static (Dictionary<string, string>, string?) ReadPrompts(string modelDirectory)
    {
        var prompts = new Dictionary<string, string>(StringComparer.Ordinal);
        string path = Path.Combine(modelDirectory, "config_sentence_transformers.json");
        if (!File.Exists(path)) return (prompts, null);
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            JsonElement root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new ModelFormatException(path, "expected a JSON object");
            if (root.TryGetProperty("prompts", out JsonElement p) && p.ValueKind == JsonValueKind.Object)
                foreach (JsonProperty prompt in p.EnumerateObject())
                {
                    if (prompt.Value.ValueKind != JsonValueKind.String)
                        throw new ModelFormatException(path, $"prompts.{prompt.Name}", "must be a string");
                    prompts[prompt.Name] = prompt.Value.GetString()!;
                }
            string? defaultName = root.TryGetProperty("default_prompt_name", out JsonElement d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
            if (defaultName != null && !prompts.ContainsKey(defaultName))
                throw new ModelFormatException(path, "default_prompt_name", $"'{defaultName}' is not one of the prompts");
            return (prompts, defaultName);
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(path, $"not valid JSON ({e.Message})");
        }
    }

    private static (int?, bool?) ReadSentenceBertConfig(string modelDirectory)
    {
        string path = Path.Combine(modelDirectory, "sentence_bert_config.json");
        if (!File.Exists(path)) return (null, null);
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            JsonElement root = doc.RootElement;
            int? maxSeq = null;
            bool? lower = null;
            if (root.TryGetProperty("max_seq_length", out JsonElement m) && m.ValueKind != JsonValueKind.Null)
            {
                if (m.ValueKind != JsonValueKind.Number || !m.TryGetInt32(out int v) || v <= 0)
                    throw new ModelFormatException(path, "max_seq_length", $"must be a positive integer, got {m.GetRawText()}");
                maxSeq = v;
            }
            if (root.TryGetProperty("do_lower_case", out JsonElement l) && l.ValueKind is JsonValueKind.True or JsonValueKind.False)
                lower = l.GetBoolean();
            return (maxSeq, lower);
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(path, $"not valid JSON ({e.Message})");
        }
    }
}

/// <summary>A sentence-transformers Dense module: <c>config.json</c> (in/out features, bias, activation) and its weights.</summary>
public sealed record DenseModuleConfig(string Directory, int InFeatures, int OutFeatures, bool Bias, Vivace.Tensors.Activation Activation)
{
    public static DenseModuleConfig Load(string directory)
    {
        string path = Path.Combine(directory, "config.json");
        if (!File.Exists(path)) throw new ModelFormatException(path, $"Dense module config {path} is missing");
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            JsonElement root = doc.RootElement;
            int Int(string field) => root.TryGetProperty(field, out JsonElement v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) && i > 0
                ? i : throw new ModelFormatException(path, field, $"must be a positive integer");
            bool bias = !root.TryGetProperty("bias", out JsonElement b) || b.ValueKind != JsonValueKind.False;
            string act = root.TryGetProperty("activation_function", out JsonElement a) && a.ValueKind == JsonValueKind.String ? a.GetString()! : "torch.nn.modules.linear.Identity";
            Vivace.Tensors.Activation activation = act switch
            {
                "torch.nn.modules.linear.Identity" => Vivace.Tensors.Activation.None,
                "torch.nn.modules.activation.Tanh" => Vivace.Tensors.Activation.Tanh,
                "torch.nn.modules.activation.ReLU" => Vivace.Tensors.Activation.Relu,
                "torch.nn.modules.activation.GELU" => Vivace.Tensors.Activation.Gelu,
                _ => throw new ModelFormatException(path, "activation_function", $"'{act}' is not supported"),
            };
            return new DenseModuleConfig(directory, Int("in_features"), Int("out_features"), bias, activation);
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(path, $"not valid JSON ({e.Message})");
        }
    }
}
