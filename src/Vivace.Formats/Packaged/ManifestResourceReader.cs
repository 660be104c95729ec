using System.Buffers.Binary;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace Vivace.Formats.Packaged;

/// <summary>One embedded (manifest) resource of an assembly file: its name and where its bytes lie in the file.</summary>
public sealed record ManifestResourceInfo(string Name, long FileOffset, long Length);

/// <summary>
/// Reads embedded resources straight from an assembly file with <see cref="PEReader"/> and
/// <see cref="MetadataReader"/>, without loading the assembly: each ManifestResource row gives an offset into the
/// CLI header's resources directory, where the resource is a 4-byte little-endian length followed by its bytes.
/// </summary>
public static class ManifestResourceReader
{
    /// <summary>Every resource embedded in <paramref name="assemblyPath"/> (resources in other files are skipped).</summary>
    public static IReadOnlyList<ManifestResourceInfo> List(string assemblyPath)
    {
        assemblyPath = Path.GetFullPath(assemblyPath);
        try
        {
            using var fs = new FileStream(assemblyPath, FileMode.Open, FileAccess.Read, FileShare.Read);
            long fileLength = fs.Length;
            using var pe = new PEReader(fs, PEStreamOptions.LeaveOpen);
            if (!pe.HasMetadata || pe.PEHeaders.CorHeader is null)
                throw new ModelFormatException(assemblyPath, "not a .NET assembly (no CLI metadata)");
            DirectoryEntry resources = pe.PEHeaders.CorHeader.ResourcesDirectory;
            MetadataReader md = pe.GetMetadataReader();
            var result = new List<ManifestResourceInfo>();
            if (resources.Size == 0) return result;
            if (!pe.PEHeaders.TryGetDirectoryOffset(resources, out int dirOffset) || dirOffset < 0
                || (long)dirOffset + resources.Size > fileLength)
                throw new ModelFormatException(assemblyPath, "the CLI resources directory lies outside the file");

            Span<byte> lengthBytes = stackalloc byte[4];
            foreach (ManifestResourceHandle h in md.ManifestResources)
            {
                ManifestResource r = md.GetManifestResource(h);
                if (!r.Implementation.IsNil) continue; // linked from another file or assembly
                string name = md.GetString(r.Name);
                long offset = r.Offset;
                if (offset < 0 || offset + 4 > resources.Size)
                    throw new ModelFormatException(assemblyPath, name, $"resource offset {offset} is outside the resources directory ({resources.Size} bytes)");
                fs.Position = dirOffset + offset;
                fs.ReadExactly(lengthBytes);
                long length = BinaryPrimitives.ReadUInt32LittleEndian(lengthBytes);
                if (offset + 4 + length > resources.Size)
                    throw new ModelFormatException(assemblyPath, name, $"resource of {length} bytes runs past the resources directory");
                result.Add(new ManifestResourceInfo(name, dirOffset + offset + 4, length));
            }
            return result;
        }
        catch (Exception e) when (e is BadImageFormatException or InvalidOperationException or EndOfStreamException)
        {
            throw new ModelFormatException(assemblyPath, $"not a readable .NET assembly: {e.Message}", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException(assemblyPath, $"cannot read: {e.Message}", e);
        }
    }

    /// <summary>The resource whose name is <paramref name="name"/> or ends with "." + <paramref name="name"/>.</summary>
    public static ManifestResourceInfo Find(string assemblyPath, string name)
    {
        IReadOnlyList<ManifestResourceInfo> all = List(assemblyPath);
        return all.FirstOrDefault(r => r.Name == name)
            ?? all.FirstOrDefault(r => r.Name.EndsWith("." + name, StringComparison.Ordinal))
            ?? throw new ModelFormatException(assemblyPath, name,
                $"no such embedded resource (has: {string.Join(", ", all.Select(r => r.Name))})");
    }

    /// <summary>Copies a resource's bytes to <paramref name="destination"/>.</summary>
    public static void CopyTo(string assemblyPath, ManifestResourceInfo resource, Stream destination)
    {
        try
        {
            using var fs = new FileStream(assemblyPath, FileMode.Open, FileAccess.Read, FileShare.Read);
            if (resource.FileOffset + resource.Length > fs.Length)
                throw new ModelFormatException(assemblyPath, resource.Name, "resource runs past the end of the file");
            fs.Position = resource.FileOffset;
            var buffer = new byte[1 << 20];
            long left = resource.Length;
            while (left > 0)
            {
                int n = fs.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
                if (n <= 0) throw new ModelFormatException(assemblyPath, resource.Name, "file ended inside the resource");
                destination.Write(buffer, 0, n);
                left -= n;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException(assemblyPath, resource.Name, $"cannot read resource: {e.Message}", e);
        }
    }

    /// <summary>A resource's bytes in memory.</summary>
    public static byte[] ReadAll(string assemblyPath, ManifestResourceInfo resource)
    {
        if (resource.Length > Array.MaxLength)
            throw new ModelFormatException(assemblyPath, resource.Name, $"resource of {resource.Length} bytes is too large to read into memory");
        using var ms = new MemoryStream((int)resource.Length);
        CopyTo(assemblyPath, resource, ms);
        return ms.ToArray();
    }
}
