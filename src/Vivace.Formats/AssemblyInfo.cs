using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Vivace.Formats.Tests")]
