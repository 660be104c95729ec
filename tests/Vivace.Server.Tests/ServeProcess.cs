using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace Vivace.Server.Tests;

/// <summary><c>vivace serve</c> as a user runs it: a separate process on a port the OS picks (read back from its
/// "Now listening on" log line), ready once /health answers 200; stopped with a real SIGTERM.</summary>
internal sealed partial class ServeProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServeProcess(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "vivace.dll"));
        start.ArgumentList.Add("serve");
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add("http://127.0.0.1:0");
        foreach (string a in args) start.ArgumentList.Add(a);
        start.Environment.Remove("VIVACE_API_KEYS");
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    private void OnLine(string? line)
    {
        if (line == null) return;
        lock (_output) _output.AppendLine(line);
        if (ListeningLine().Match(line) is { Success: true } m) _listening.TrySetResult(new Uri(m.Groups[1].Value));
    }

    [GeneratedRegex(@"Now listening on: (http://[^\s""]+)")]
    private static partial Regex ListeningLine();

    public Uri Address { get; private set; } = null!;
    public int Port => Address.Port;
    public int Pid => _process.Id;

    /// <summary>Everything the process printed so far (stdout and stderr).</summary>
    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    public HttpClient NewClient() => new() { BaseAddress = Address, Timeout = TimeSpan.FromMinutes(3) };

    /// <summary>Starts <c>vivace serve</c> and waits until it listens and its default model is loaded.</summary>
    public static async Task<ServeProcess> StartAsync(IEnumerable<string>? args = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var serve = new ServeProcess(args ?? [], environment);
        try
        {
            Task exited = serve._process.WaitForExitAsync();
            Task first = await Task.WhenAny(serve._listening.Task, exited, Task.Delay(TimeSpan.FromMinutes(2)));
            Assert.True(first == serve._listening.Task, $"vivace serve did not start listening:\n{serve.Output}");
            serve.Address = await serve._listening.Task;
            using HttpClient client = serve.NewClient();
            await TestServer.WaitUntilAsync(async () =>
            {
                Assert.False(serve._process.HasExited, $"vivace serve exited:\n{serve.Output}");
                using HttpResponseMessage health = await client.GetAsync("/health");
                return health.StatusCode == HttpStatusCode.OK;
            }, "vivace serve is healthy");
            return serve;
        }
        catch
        {
            serve.Dispose();
            throw;
        }
    }

    [DllImport("libc", SetLastError = true, EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);

    private const int SigTerm = 15;

    /// <summary>What an orchestrator sends to stop the server (Process.Kill would be SIGKILL).</summary>
    public void Terminate() => Assert.True(Kill(Pid, SigTerm) == 0, $"kill -TERM {Pid} failed: errno {Marshal.GetLastPInvokeError()}");

    /// <summary>Waits for the process to exit by itself and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync()
    {
        using var timeout = new CancellationTokenSource(TestServer.Patience);
        try { await _process.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException) { Assert.Fail($"vivace serve did not exit:\n{Output}"); }
        _process.WaitForExit(); // the output readers drain
        return _process.ExitCode;
    }

    public void Dispose()
    {
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
        _process.Dispose();
    }
}
