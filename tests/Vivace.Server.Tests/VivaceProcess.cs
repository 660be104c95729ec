using System.Diagnostics;

namespace Vivace.Server.Tests;

/// <summary>Runs the built <c>vivace</c> command as a user would: a separate process, stdin in, stdout and stderr out.</summary>
internal static class VivaceProcess
{
    public static (int ExitCode, string Stdout, string Stderr) Run(string stdin, params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "vivace.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(dll);
        foreach (string a in args) start.ArgumentList.Add(a);
        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(stdin);
        process.StandardInput.Close();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(3)), "vivace did not exit");
        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
