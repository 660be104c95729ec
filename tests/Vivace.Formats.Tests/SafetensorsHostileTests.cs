using System.Buffers.Binary;
using Vivace.Formats.Safetensors;
using static Vivace.Formats.Tests.SafetensorsWriter;

namespace Vivace.Formats.Tests;

public class SafetensorsHostileTests
{
    private static ModelFormatException OpenFails(string path)
    {
        var e = Assert.Throws<ModelFormatException>(() => SafetensorsFile.Open(path).Dispose());
        Assert.Equal(Path.GetFullPath(path), e.FilePath);
        Assert.Contains(Path.GetFileName(path), e.Message);
        return e;
    }

    private static ModelFormatException HeaderFails(string header, byte[] data, string expected, string? tensor = null)
    {
        using var dir = new TempDir();
        string path = dir.File("bad.safetensors");
        WriteRaw(path, header, data);
        ModelFormatException e = OpenFails(path);
        Assert.Contains(expected, e.Message);
        if (tensor is not null)
        {
            Assert.Equal(tensor, e.Field);
            Assert.Contains(tensor, e.Message);
        }
        return e;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(7)]
    public void FilesShorterThanTheLengthPrefix(int size)
    {
        using var dir = new TempDir();
        string path = dir.File("short.safetensors");
        File.WriteAllBytes(path, new byte[size]);
        Assert.Contains("too short", OpenFails(path).Message);
    }

    [Theory]
    [InlineData(1000UL)]
    [InlineData(ulong.MaxValue)]
    [InlineData(9UL)]
    public void HeaderLengthPastTheFile(ulong declared)
    {
        using var dir = new TempDir();
        string path = dir.File("h.safetensors");
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declared);
        "{}      "u8.CopyTo(bytes.AsSpan(8));
        File.WriteAllBytes(path, bytes);
        Assert.Contains("exceeds the file", OpenFails(path).Message);
    }

    [Fact]
    public void HeaderLengthZero()
    {
        using var dir = new TempDir();
        string path = dir.File("z.safetensors");
        File.WriteAllBytes(path, new byte[8]);
        Assert.Contains("too small", OpenFails(path).Message);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{\"a\": ")]
    [InlineData("{\"a\": 1,}")]
    public void HeaderNotJson(string header) => HeaderFails(header, [], "not valid JSON");

    [Theory]
    [InlineData("[1, 2, 3]", "Array")]
    [InlineData("42", "Number")]
    [InlineData("\"x\"", "String")]
    [InlineData("null", "Null")]
    public void HeaderNotAnObject(string header, string kind) => HeaderFails(header, [], "expected an object").Message.Contains(kind);

    [Fact]
    public void HeaderWithInvalidUtf8()
    {
        using var dir = new TempDir();
        string path = dir.File("u.safetensors");
        var bytes = new byte[8 + 8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 8);
        new byte[] { (byte)'{', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)':', (byte)'1', (byte)'}' }.CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);
        Assert.Contains("not valid JSON", OpenFails(path).Message);
    }

    [Fact]
    public void EscapedLoneSurrogateInAName()
    {
        using var dir = new TempDir();
        string path = dir.File("s.safetensors");
        WriteRaw(path, """{"\udc00": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}}""", []);
        OpenAndReadAll(path);
    }

    [Fact]
    public void DeeplyNestedHeader() =>
        HeaderFails(new string('[', 5000) + new string(']', 5000), [], "not valid JSON");

    [Fact]
    public void OffsetsPastTheData() =>
        HeaderFails("""{"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}""", new byte[8], "past the data section", "w");

    [Fact]
    public void BeginAfterEnd() =>
        HeaderFails("""{"w": {"dtype": "F32", "shape": [0], "data_offsets": [8, 4]}}""", new byte[8], "is after end", "w");

    [Fact]
    public void SizeDoesNotMatchShape() =>
        HeaderFails("""{"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}""", new byte[8], "needs 12 bytes", "w");

    [Fact]
    public void SizeDoesNotMatchDType() =>
        HeaderFails("""{"w": {"dtype": "F16", "shape": [2], "data_offsets": [0, 8]}}""", new byte[8], "needs 4 bytes", "w");

    [Fact]
    public void OverlappingTensors() =>
        HeaderFails("""
            {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
             "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}
            """, new byte[12], "overlap", "b");

    [Fact]
    public void GapBetweenTensors() =>
        HeaderFails("""
            {"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
             "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}
            """, new byte[12], "gap", "b");

    [Fact]
    public void DataNotFullyCovered() =>
        HeaderFails("""{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}""", new byte[12], "does not describe the whole file");

    [Fact]
    public void UnknownDType() =>
        HeaderFails("""{"w": {"dtype": "F31", "shape": [1], "data_offsets": [0, 4]}}""", new byte[4], "unknown dtype 'F31'", "w");

    [Fact]
    public void KnownButUnsupportedDTypeFailsOnRead()
    {
        using var dir = new TempDir();
        string path = dir.File("f8.safetensors");
        Write(path, [new Entry("w", "F8_E4M3", [4], new byte[4])]);
        using var f = SafetensorsFile.Open(path);
        Assert.Null(f.GetInfo("w").DType);
        var e = Assert.Throws<ModelFormatException>(() => f.Get("w"));
        Assert.Contains("F8_E4M3", e.Message);
        Assert.Equal("w", e.Field);
    }

    [Fact]
    public void NegativeDimension() =>
        HeaderFails("""{"w": {"dtype": "F32", "shape": [-1, 2], "data_offsets": [0, 0]}}""", [], "negative", "w");

    [Fact]
    public void DimensionBeyondInt32() =>
        HeaderFails("""{"w": {"dtype": "U8", "shape": [4294967296], "data_offsets": [0, 0]}}""", [], "exceeds", "w");

    [Fact]
    public void OverflowingShape() =>
        HeaderFails("""{"w": {"dtype": "F64", "shape": [2147483647, 2147483647, 2147483647], "data_offsets": [0, 8]}}""", new byte[8], "overflows", "w");

    [Fact]
    public void NonIntegerDimension() =>
        HeaderFails("""{"w": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}}""", new byte[4], "not an integer", "w");

    [Fact]
    public void DuplicateNames() =>
        HeaderFails("""
            {"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
             "a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}
            """, new byte[8], "twice", "a");

    [Theory]
    [InlineData("""{"w": 5}""", "expected an object")]
    [InlineData("""{"w": {"shape": [1], "data_offsets": [0, 4]}}""", "dtype")]
    [InlineData("""{"w": {"dtype": 1, "shape": [1], "data_offsets": [0, 4]}}""", "dtype")]
    [InlineData("""{"w": {"dtype": "F32", "data_offsets": [0, 4]}}""", "shape")]
    [InlineData("""{"w": {"dtype": "F32", "shape": "1", "data_offsets": [0, 4]}}""", "shape")]
    [InlineData("""{"w": {"dtype": "F32", "shape": [1]}}""", "data_offsets")]
    [InlineData("""{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0]}}""", "data_offsets")]
    [InlineData("""{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4, 8]}}""", "data_offsets")]
    [InlineData("""{"w": {"dtype": "F32", "shape": [1], "data_offsets": [-4, 0]}}""", "non-negative")]
    [InlineData("""{"w": {"dtype": "F32", "shape": [1], "data_offsets": ["0", "4"]}}""", "non-negative")]
    [InlineData("""{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4.5]}}""", "non-negative")]
    public void MalformedEntries(string header, string expected) => HeaderFails(header, new byte[4], expected, "w");

    [Theory]
    [InlineData("""{"__metadata__": [1]}""")]
    [InlineData("""{"__metadata__": {"format": 1}}""")]
    public void MalformedMetadata(string header) => HeaderFails(header, [], "__metadata__");

    [Fact]
    public void EmptyHeaderObjectIsAValidEmptyFile()
    {
        using var dir = new TempDir();
        string path = dir.File("empty.safetensors");
        WriteRaw(path, "{}", []);
        using var f = SafetensorsFile.Open(path);
        Assert.Empty(f.Names);
    }

    private static byte[] ValidFile(TempDir dir)
    {
        string path = dir.File("valid.safetensors");
        Write(path,
        [
            new Entry("a.weight", "F32", [2, 2], F32(1, 2, 3, 4)),
            new Entry("b.bias", "BF16", [3], BF16(1, 2, 3)),
            new Entry("c", "I64", [1], I64(9)),
        ], new Dictionary<string, string> { ["format"] = "pt" });
        return File.ReadAllBytes(path);
    }

    /// <summary>Opens and reads everything; the only failure allowed is a ModelFormatException.</summary>
    private static void OpenAndReadAll(string path)
    {
        try
        {
            using var f = SafetensorsFile.Open(path);
            foreach (string n in f.Names)
            {
                try { f.Get(n); f.GetRaw(n); }
                catch (ModelFormatException) { }
            }
        }
        catch (ModelFormatException) { }
    }

    [Fact]
    public void EveryTruncationIsAModelFormatException()
    {
        using var dir = new TempDir();
        byte[] valid = ValidFile(dir);
        string path = dir.File("t.safetensors");
        for (int len = 0; len < valid.Length; len++)
        {
            File.WriteAllBytes(path, valid[..len]);
            var e = Assert.Throws<ModelFormatException>(() => SafetensorsFile.Open(path).Dispose());
            Assert.Contains("t.safetensors", e.Message);
        }
    }

    [Fact]
    public void RandomCorruptionNeverEscapesAsAnotherException()
    {
        using var dir = new TempDir();
        byte[] valid = ValidFile(dir);
        string path = dir.File("fuzz.safetensors");
        var rng = new Random(1234);
        int rejected = 0;
        for (int iter = 0; iter < 400; iter++)
        {
            byte[] bytes = (byte[])valid.Clone();
            int flips = 1 + rng.Next(4);
            for (int k = 0; k < flips; k++)
            {
                // Mostly the prefix and header, where the structure is.
                int at = rng.Next(3) == 0 ? rng.Next(8) : rng.Next(Math.Min(bytes.Length, 8 + 200));
                bytes[at] = (byte)rng.Next(256);
            }
            if (rng.Next(4) == 0) bytes = bytes[..rng.Next(bytes.Length)];
            File.WriteAllBytes(path, bytes);
            try
            {
                using var f = SafetensorsFile.Open(path);
                foreach (string n in f.Names) { f.Get(n); }
            }
            catch (ModelFormatException) { rejected++; }
        }
        Assert.InRange(rejected, 100, 400); // most corruptions are caught, none escapes as another exception
        OpenAndReadAll(path);
    }

    [Fact]
    public void RandomHeaderTextIsAModelFormatException()
    {
        using var dir = new TempDir();
        string path = dir.File("text.safetensors");
        var rng = new Random(99);
        const string alphabet = "{}[]\":,0123456789-.eE FSIU_dtypeshapedata_offsets\\u";
        for (int iter = 0; iter < 300; iter++)
        {
            var chars = new char[rng.Next(1, 80)];
            for (int i = 0; i < chars.Length; i++) chars[i] = alphabet[rng.Next(alphabet.Length)];
            WriteRaw(path, new string(chars), new byte[rng.Next(0, 16)]);
            OpenAndReadAll(path);
        }
    }
}
