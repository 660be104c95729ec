using System.IO.Compression;
using System.Text;

namespace Vivace.Bench;

/// <summary>
/// Real text from the machine for tokenizer timing: lines of licences, package docs and man pages, and the same
/// text joined into ~8 KB documents. Deterministic (sorted files, fixed caps).
/// </summary>
public static class BenchText
{
    public static (List<string> Lines, List<string> Documents) Load(int maxLines)
    {
        var lines = new List<string>();
        IEnumerable<string> files = Directory.Exists("/usr/share/common-licenses")
            ? Directory.GetFiles("/usr/share/common-licenses").Order(StringComparer.Ordinal) : [];
        if (Directory.Exists("/usr/share/doc"))
            files = files.Concat(Directory.GetDirectories("/usr/share/doc").Order(StringComparer.Ordinal)
                .Select(d => Path.Combine(d, "copyright")).Where(File.Exists));
        if (Directory.Exists("/usr/share/man"))
            files = files.Concat(Directory.EnumerateFiles("/usr/share/man", "*.gz", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Take(400));
        foreach (string file in files)
        {
            foreach (string line in ReadLines(file))
            {
                if (line.Trim().Length < 3) continue;
                lines.Add(line);
                if (lines.Count >= maxLines) break;
            }
            if (lines.Count >= maxLines) break;
        }
        var documents = new List<string>();
        var doc = new StringBuilder();
        foreach (string line in lines)
        {
            doc.Append(line).Append('\n');
            if (doc.Length >= 8192) { documents.Add(doc.ToString()); doc.Clear(); }
        }
        if (documents.Count == 0 && doc.Length > 0) documents.Add(doc.ToString());
        return (lines, documents);
    }

    private static IEnumerable<string> ReadLines(string path)
    {
        var result = new List<string>();
        try
        {
            using Stream raw = File.OpenRead(path);
            using Stream s = path.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(raw, CompressionMode.Decompress) : raw;
            using var reader = new StreamReader(s, new UTF8Encoding(false, false));
            for (string? l; (l = reader.ReadLine()) != null && result.Count < 2000;) result.Add(l);
        }
        catch (IOException) { }
        catch (InvalidDataException) { }
        catch (UnauthorizedAccessException) { }
        return result;
    }
}
