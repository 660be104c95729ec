namespace Vivace.Server;

/// <summary>How the server listens and what it accepts.</summary>
public sealed record ServerOptions
{
    public string Urls { get; init; } = "http://127.0.0.1:8080";
    public int MaxInputsPerRequest { get; init; } = 1024;
    public long MaxRequestBodyBytes { get; init; } = 8 * 1024 * 1024;
}
