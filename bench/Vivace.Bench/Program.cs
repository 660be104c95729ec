using Vivace.Bench;

return args.FirstOrDefault() switch
{
    "embed" => EmbedBenchmark.Run(args[1..]),
    "kernels" => KernelsBenchmark.Run(args[1..]),
    "gemm" => GemmPrecisionBenchmark.Run(args[1..]),
    "encoder" => EncoderPrecisionBenchmark.Run(args[1..]),
    "tokenizers" => TokenizersBenchmark.Run(args[1..]),
    "serve" => ServeBenchmark.Run(args[1..]),
    "generate" => GenerateBenchmark.Run(args[1..]),
    "anchor" => AnchorBenchmark.Run(args[1..]),
    "gguf-parity" => GgufParityBenchmark.Run(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: dotnet run -c Release --project bench/Vivace.Bench -- embed [--quick] [--threads N] [--out FILE.md] | kernels | gemm [--threads N] | encoder [--quick] [--threads N] | tokenizers [--quick] | serve [--quick] [--quiet-server] [--out FILE.md] | generate [--quick] [--profile] [--no-rival | --rival-only] [--threads N] [--out FILE.md] | anchor [--quick] [--threads N] [--out FILE.md] | gguf-parity [--out FILE.md]");
    return 2;
}
