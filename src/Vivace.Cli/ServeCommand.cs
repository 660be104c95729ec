using System.CommandLine;
using Microsoft.AspNetCore.Builder;
using Vivace.Engine;
using Vivace.Server;

namespace Vivace.Cli;

/// <summary><c>vivace serve</c>: load the models, then answer HTTP until stopped (SIGTERM drains in-flight requests).</summary>
public static class ServeCommand
{
    public static Command Create()
    {
        var models = new Option<string[]>("--model") { Description = "model directory or id (repeatable); default: " + CliApp.DefaultModel, AllowMultipleArgumentsPerToken = false };
        var urls = new Option<string>("--urls") { Description = "where to listen", DefaultValueFactory = _ => "http://127.0.0.1:8080" };
        var device = new Option<string>("--device") { Description = "cpu (cuda comes later)", DefaultValueFactory = _ => "cpu" };
        var command = new Command("serve", "serve models over HTTP (TEI and Hugging Face Inference API dialects)") { models, urls, device };
        command.SetAction(result => CliApp.Guard(() =>
        {
            string dev = result.GetValue(device)!;
            if (dev != "cpu") throw new ArgumentException($"--device {dev} is not supported yet; use cpu");
            string[] ids = result.GetValue(models) is { Length: > 0 } given ? given : [CliApp.DefaultModel];
            var embedders = ids.Select(id =>
            {
                Console.Error.WriteLine($"loading {id} ...");
                return SentenceEmbedder.Load(id);
            }).ToList();
            var options = new ServerOptions { Urls = result.GetValue(urls)! };
            WebApplication app = VivaceServer.Build(new ServedModels(embedders), options);
            Console.Error.WriteLine($"serving {string.Join(", ", embedders.Select(e => e.ModelId))} on {options.Urls}");
            app.Run();
            return 0;
        }));
        return command;
    }
}
