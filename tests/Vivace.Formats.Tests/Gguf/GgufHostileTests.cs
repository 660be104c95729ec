using System.Text;
using Vivace.Formats.Gguf;
using Vivace.Tensors;

namespace Vivace.Formats.Tests.Gguf;

/// <summary>
/// Truncated, malformed and hostile GGUF files are refused at open with a <see cref="ModelFormatException"/> naming
/// the file: never an out-of-range read, an out-of-memory from a forged count, or a stack overflow.
/// </summary>
public class GgufHostileTests
{
    private const uint Magic = 0x46554747;

    /// <summary>A hand-assembled GGUF: header with the given counts, <paramref name="body"/> (key/values then tensor
    /// infos), zero padding to 32, then <paramref name="dataBytes"/> bytes of data.</summary>
    private static byte[] Build(ulong tensors, ulong kvs, Action<BinaryWriter> body, int dataBytes = 0, uint version = 3, uint magic = Magic)
    {
        var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(magic);
            w.Write(version);
            w.Write(tensors);
            w.Write(kvs);
            body(w);
            w.Flush();
            while (ms.Length % 32 != 0) w.Write((byte)0);
            w.Write(new byte[dataBytes]);
        }
        return ms.ToArray();
    }

    private static void Str(BinaryWriter w, string s)
    {
        byte[] b = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)b.Length);
        w.Write(b);
    }

    private static void Info(BinaryWriter w, string name, ulong[] dims, uint type, ulong offset)
    {
        Str(w, name);
        w.Write((uint)dims.Length);
        foreach (ulong d in dims) w.Write(d);
        w.Write(type);
        w.Write(offset);
    }

    private static Action<BinaryWriter> OneTensor(ulong[] dims, uint type = 0, ulong offset = 0) => w => Info(w, "t", dims, type, offset);

    public static TheoryData<string, byte[]> Hostile => new()
    {
        { "bad magic", Build(0, 0, _ => { }, magic: 0x46554746) },
        { "version 1", Build(0, 0, _ => { }, version: 1) },
        { "version 4", Build(0, 0, _ => { }, version: 4) },
        { "huge kv count", Build(0, 1UL << 62, _ => { }) },
        { "huge tensor count", Build(ulong.MaxValue, 0, _ => { }) },
        { "kv count beyond the file", Build(0, 1000, w => { Str(w, "a"); w.Write(4u); w.Write(1u); }) },
        { "huge key length", Build(0, 1, w => { w.Write(ulong.MaxValue); w.Write(4u); w.Write(1u); }) },
        { "huge string value", Build(0, 1, w => { Str(w, "k"); w.Write(8u); w.Write(1UL << 40); }) },
        { "huge array count", Build(0, 1, w => { Str(w, "k"); w.Write(9u); w.Write(5u); w.Write(1UL << 61); }) },
        { "string array count beyond the file", Build(0, 1, w => { Str(w, "k"); w.Write(9u); w.Write(8u); w.Write(1UL << 20); }) },
        { "unknown value type", Build(0, 1, w => { Str(w, "k"); w.Write(99u); w.Write(0u); }) },
        { "unknown array element type", Build(0, 1, w => { Str(w, "k"); w.Write(9u); w.Write(13u); w.Write(1UL); w.Write(0u); }) },
        { "bool byte 2", Build(0, 1, w => { Str(w, "k"); w.Write(7u); w.Write((byte)2); }) },
        { "duplicate key", Build(0, 2, w => { Str(w, "k"); w.Write(4u); w.Write(1u); Str(w, "k"); w.Write(4u); w.Write(2u); }) },
        { "arrays nested 100 deep", Build(0, 1, w => { Str(w, "k"); w.Write(9u); for (int i = 0; i < 100; i++) { w.Write(9u); w.Write(1UL); } w.Write(4u); w.Write(0UL); }) },
        { "alignment not a power of two", Build(0, 1, w => { Str(w, "general.alignment"); w.Write(4u); w.Write(48u); }) },
        { "alignment zero", Build(0, 1, w => { Str(w, "general.alignment"); w.Write(4u); w.Write(0u); }) },
        { "alignment of type i32", Build(0, 1, w => { Str(w, "general.alignment"); w.Write(5u); w.Write(32); }) },
        { "five dims", Build(1, 0, OneTensor([1, 1, 1, 1, 1]), 32) },
        { "zero dims", Build(1, 0, OneTensor([]), 32) },
        { "dims overflow", Build(1, 0, OneTensor([1UL << 40, 1UL << 40]), 32) },
        { "negative dim", Build(1, 0, OneTensor([(1UL << 63) + 4]), 32) },
        { "partial block", Build(1, 0, OneTensor([33], type: 8), 64) },
        { "unknown tensor type", Build(1, 0, OneTensor([8], type: 99), 32) },
        { "removed tensor type 4", Build(1, 0, OneTensor([8], type: 4), 32) },
        { "misaligned offset", Build(1, 0, OneTensor([4], offset: 4), 64) },
        { "offset past the end", Build(1, 0, OneTensor([4], offset: 1UL << 40), 64) },
        { "offset 2^64-32", Build(1, 0, OneTensor([4], offset: ulong.MaxValue - 31), 64) },
        { "data past the end", Build(1, 0, OneTensor([64]), 32) },
        { "duplicate tensor", Build(2, 0, w => { Info(w, "t", [4], 0, 0); Info(w, "t", [4], 0, 32); }, 64) },
        { "tensor infos truncated", Build(3, 0, OneTensor([4]), 0) },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public void HostileHeadersAreRefused(string why, byte[] file)
    {
        using var dir = new TempDir();
        string path = dir.File("h.gguf");
        File.WriteAllBytes(path, file);
        var e = Assert.Throws<ModelFormatException>(() => GgufFile.Open(path).Dispose());
        Assert.True(e.FilePath == Path.GetFullPath(path), $"{why}: {e.Message}");
    }

    [Fact]
    public void ControlFileOpens()
    {
        using var dir = new TempDir();
        string path = dir.File("ok.gguf");
        File.WriteAllBytes(path, Build(1, 1, w => { Str(w, "k"); w.Write(4u); w.Write(1u); Info(w, "t", [8], 0, 0); }, 32));
        using var f = GgufFile.Open(path);
        Assert.Equal(new float[8], f.ReadF32(f.GetTensorInfo("t")).AsSpan().ToArray());
    }

    [Fact]
    public void EveryTruncationIsRefused()
    {
        using var dir = new TempDir();
        string full = dir.File("full.gguf");
        // Tensor sizes are multiples of 32 bytes, so every cut removes bytes that some tensor needs.
        new GgufWriter()
            .AddMetadata("general.architecture", "llama").AddMetadata("tokens", Enumerable.Range(0, 50).Select(i => $"tok{i}").ToArray())
            .AddMetadata("scores", new float[40]).AddMetadata("nested", new Array[] { new[] { 1, 2 }, new[] { "a" } })
            .AddTensor("a", Tensor.FromArray(new float[24], 3, 8))
            .AddQuantized("q", QuantizedMatrix.Quantize(Tensor.FromArray(new float[16 * 32], 16, 32), BlockFormat.Q8_0))
            .AddTensor("h", Tensor.FromArray(new float[16], 16), GgmlType.F16)
            .Write(full);
        byte[] bytes = File.ReadAllBytes(full);
        string cut = dir.File("cut.gguf");
        for (int n = 0; n < bytes.Length; n += 97)
        {
            File.WriteAllBytes(cut, bytes[..n]);
            var e = Assert.Throws<ModelFormatException>(() => GgufFile.Open(cut).Dispose());
            Assert.Equal(Path.GetFullPath(cut), e.FilePath);
        }
        using var ok = GgufFile.Open(full);
        Assert.Equal(3, ok.Tensors.Count);
    }

    [Fact]
    public void TypesVivaceCannotReadAreListedButNotRead()
    {
        using var dir = new TempDir();
        string path = dir.File("k.gguf");
        File.WriteAllBytes(path, Build(1, 0, w => Info(w, "blk.0.ffn_down.weight", [256, 2], 12, 0), 288));
        using var f = GgufFile.Open(path);
        GgufTensorInfo t = Assert.Single(f.Tensors);
        Assert.Equal(GgmlType.Q4_K, t.Type);
        Assert.Equal(288, t.ByteSize);
        var e = Assert.Throws<ModelFormatException>(() => f.ReadF32(t));
        Assert.Equal("blk.0.ffn_down.weight", e.Field);
        Assert.Contains("Q4_K", e.Message);
        Assert.Throws<ModelFormatException>(() => f.ReadQuantized(t));
        Assert.Throws<ModelFormatException>(() => f.GetTensorInfo("missing"));
    }
}
