using System.Buffers.Binary;
using Vivace.Formats.Gguf;
using Vivace.Tensors;

namespace Vivace.Formats.Tests.Gguf;

/// <summary><see cref="GgufWriter"/> → <see cref="GgufFile"/>: every metadata type, every tensor type, and the byte
/// layout llama.cpp's loader checks (tensor offsets contiguous at the alignment, data padded to it).</summary>
public class GgufRoundTripTests
{
    private static readonly Random Rng = new(7);

    private static Tensor RandomTensor(params int[] dims)
    {
        var data = new float[dims.Aggregate(1, (a, b) => a * b)];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(Rng.NextDouble() * 4 - 2);
        return Tensor.FromArray(data, dims);
    }

    public static TheoryData<string, object> MetadataValues => new()
    {
        { "u8", (byte)200 }, { "i8", (sbyte)-100 }, { "u16", (ushort)60000 }, { "i16", (short)-30000 },
        { "u32", 4_000_000_000u }, { "i32", -2_000_000_000 }, { "f32", 1e-5f }, { "bool.true", true }, { "bool.false", false },
        { "string", "héllo ▁wörld" }, { "string.empty", "" }, { "u64", ulong.MaxValue }, { "i64", long.MinValue }, { "f64", Math.PI },
        { "arr.string", new[] { "a", "", "▁b", "<s>" } }, { "arr.i32", new[] { 1, -2, int.MaxValue } },
        { "arr.f32", new[] { 0.5f, -1e30f, float.Epsilon } }, { "arr.u32", new[] { 0u, uint.MaxValue } },
        { "arr.u8", new byte[] { 1, 2, 255 } }, { "arr.i64", new[] { long.MaxValue, -1L } }, { "arr.f64", new[] { 1.5, -2.25 } },
        { "arr.bool", new[] { true, false, true } }, { "arr.i16", new short[] { -5, 5 } }, { "arr.u64", new[] { 42UL } },
        { "arr.empty", Array.Empty<int>() },
        { "arr.nested", new Array[] { new[] { 1, 2 }, new[] { "x", "y" }, new Array[] { new[] { 3.5f } }, Array.Empty<string>() } },
    };

    [Theory]
    [MemberData(nameof(MetadataValues))]
    public void MetadataRoundTripsWithItsType(string key, object value)
    {
        using var dir = new TempDir();
        string path = dir.File("m.gguf");
        new GgufWriter().AddMetadata(key, value).AddMetadata("after", "sentinel").Write(path);
        using var f = GgufFile.Open(path);
        Assert.Equal(3u, f.Version);
        Assert.Equal(value.GetType(), f.Metadata[key].GetType());
        AssertDeepEqual(value, f.Metadata[key]);
        Assert.Equal("sentinel", f.GetString("after"));
        Assert.Empty(f.Tensors);
    }

    private static void AssertDeepEqual(object expected, object actual)
    {
        if (expected is Array e)
        {
            var a = Assert.IsAssignableFrom<Array>(actual);
            Assert.Equal(e.GetType(), a.GetType());
            Assert.Equal(e.Length, a.Length);
            for (int i = 0; i < e.Length; i++) AssertDeepEqual(e.GetValue(i)!, a.GetValue(i)!);
        }
        else Assert.Equal(expected, actual);
    }

    [Fact]
    public void TypedGettersWidenIntegersAndFloats()
    {
        using var dir = new TempDir();
        string path = dir.File("g.gguf");
        new GgufWriter().AddMetadata("a", (ushort)7).AddMetadata("b", 2.5f).AddMetadata("c", "s").AddMetadata("d", true)
            .AddMetadata("e", new[] { "x" }).Write(path);
        using var f = GgufFile.Open(path);
        Assert.Equal(7L, f.GetInteger("a"));
        Assert.Equal(2.5, f.GetFloat("b"));
        Assert.True(f.GetBool("d"));
        Assert.Equal(["x"], f.GetArray<string>("e")!);
        Assert.Null(f.GetInteger("missing"));
        Assert.Throws<ModelFormatException>(() => f.GetInteger("c"));
        Assert.Throws<ModelFormatException>(() => f.GetString("a"));
    }

    [Theory]
    [InlineData(32u)]
    [InlineData(64u)]
    [InlineData(8u)]
    public void EveryTensorTypeRoundTrips(uint alignment)
    {
        using var dir = new TempDir();
        string path = dir.File("t.gguf");
        Tensor f32 = RandomTensor(3, 5), f16 = RandomTensor(7), q8 = RandomTensor(4, 64), q4 = RandomTensor(3, 96), cube = RandomTensor(2, 3, 4);
        var q8m = QuantizedMatrix.Quantize(q8, BlockFormat.Q8_0);
        var q4m = QuantizedMatrix.Quantize(q4, BlockFormat.Q4_0);
        var bf16 = new byte[6 * 2];
        for (int i = 0; i < 6; i++) BinaryPrimitives.WriteUInt16LittleEndian(bf16.AsSpan(i * 2), NumericConversions.SingleToBFloat16(i - 2.5f));
        new GgufWriter(alignment)
            .AddTensor("f32", f32).AddTensor("f16", f16, GgmlType.F16).AddQuantized("q8", q8m)
            .AddTensor("q4", q4, GgmlType.Q4_0).AddTensor("cube", cube).AddTensor("bf16", GgmlType.BF16, [2, 3], () => bf16)
            .Write(path);

        using var f = GgufFile.Open(path);
        Assert.Equal(alignment, f.Alignment);
        Assert.Equal(alignment == 32 ? null : alignment, f.Metadata.GetValueOrDefault("general.alignment"));
        Assert.Equal(0, f.DataOffset % alignment);
        Assert.Equal(["f32", "f16", "q8", "q4", "cube", "bf16"], f.Tensors.Select(t => t.Name));
        // llama.cpp's loader requires each offset to be the padded end of the previous tensor, and reads the padded
        // size of the whole data section, so the file ends on the alignment too.
        long expected = 0;
        foreach (GgufTensorInfo t in f.Tensors)
        {
            Assert.Equal(expected, t.Offset);
            expected = (t.Offset + t.ByteSize + alignment - 1) / alignment * alignment;
        }
        Assert.Equal(f.DataOffset + expected, new FileInfo(path).Length);

        Assert.Equal([5L, 3L], f.GetTensorInfo("f32").Dimensions);
        Assert.Equal(f32.AsSpan().ToArray(), f.ReadF32(f.GetTensorInfo("f32")).AsSpan().ToArray());
        Assert.Equal([4L, 3L, 2L], f.GetTensorInfo("cube").Dimensions);
        Assert.Equal([2, 3, 4], f.ReadF32(f.GetTensorInfo("cube")).Shape.Dims.ToArray());
        Assert.Equal(cube.AsSpan().ToArray(), f.ReadF32(f.GetTensorInfo("cube")).AsSpan().ToArray());

        Tensor f16Raw = f.ReadStored(f.GetTensorInfo("f16"));
        Assert.Equal(DType.F16, f16Raw.DType);
        Assert.Equal(f16.AsSpan().ToArray().Select(v => (float)(Half)v), f.ReadF32(f.GetTensorInfo("f16")).AsSpan().ToArray());

        Assert.Equal(DType.BF16, f.ReadStored(f.GetTensorInfo("bf16")).DType);
        Assert.Equal([-2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f], f.ReadF32(f.GetTensorInfo("bf16")).AsSpan().ToArray());

        QuantizedMatrix q8back = f.ReadQuantized(f.GetTensorInfo("q8"));
        Assert.Equal((BlockFormat.Q8_0, 4, 64), (q8back.Format, q8back.Rows, q8back.Columns));
        Assert.Equal(q8m.Data, q8back.Data);
        Assert.Equal(q8m.Dequantize().AsSpan().ToArray(), f.ReadF32(f.GetTensorInfo("q8")).AsSpan().ToArray());
        QuantizedMatrix q4back = f.ReadQuantized(f.GetTensorInfo("q4"));
        Assert.Equal(q4m.Data, q4back.Data);
        Assert.Equal(GgmlType.Q4_0, f.GetTensorInfo("q4").Type);
        Assert.Equal([96L, 3L], f.GetTensorInfo("q4").Dimensions);
    }

    [Fact]
    public void WriterRejectsWhatLlamaCppWouldNotLoad()
    {
        var w = new GgufWriter();
        Assert.Throws<ArgumentException>(() => w.AddTensor(new string('x', 64), RandomTensor(2)));
        Assert.Throws<ArgumentException>(() => w.AddTensor("q", RandomTensor(2, 48), GgmlType.Q8_0));
        Assert.Throws<ArgumentException>(() => w.AddTensor("five", GgmlType.F32, [1, 1, 1, 1, 1], () => new byte[4]));
        Assert.Throws<ArgumentException>(() => w.AddMetadata("obj", new object()));
        Assert.Throws<ArgumentException>(() => w.AddMetadata("dec", new decimal[1]));
        w.AddMetadata("k", 1);
        Assert.Throws<ArgumentException>(() => w.AddMetadata("k", 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new GgufWriter(48));
    }

    [Fact]
    public void ConcurrentReadsAgree()
    {
        using var dir = new TempDir();
        string path = dir.File("c.gguf");
        var w = new GgufWriter();
        var tensors = Enumerable.Range(0, 16).Select(i => RandomTensor(8, 32)).ToArray();
        for (int i = 0; i < tensors.Length; i++) w.AddTensor($"t{i}", tensors[i]);
        w.Write(path);
        using var f = GgufFile.Open(path);
        Parallel.For(0, 256, k =>
        {
            int i = k % tensors.Length;
            Assert.Equal(tensors[i].AsSpan().ToArray(), f.ReadF32(f.GetTensorInfo($"t{i}")).AsSpan().ToArray());
        });
    }
}
