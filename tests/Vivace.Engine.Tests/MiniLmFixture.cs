using Vivace.Engine;

namespace Vivace.Engine.Tests;

/// <summary>The default model, loaded once per test class (extracted into the model cache on first use).</summary>
public sealed class MiniLmFixture
{
    public MiniLmFixture()
    {
        Embedder = SentenceEmbedder.Load("sentence-transformers/all-MiniLM-L6-v2");
    }

    public SentenceEmbedder Embedder { get; }
}
