using System.Net;
using System.Text.Json;
using Vivace.Tests;

namespace Vivace.Server.Tests;

/// <summary><c>vivace serve --model DIR</c> with a decoder checkpoint: it serves text generation, streams, and a
/// SIGTERM while a stream is open lets it finish, then exits 0.</summary>
public class GenerationServeTests
{
    [SkippableFact]
    public async Task ServeADecoderDirectory()
    {
        string? dir = GenerationFixture.MakeModelDirectory();
        Skip.If(dir is null, "shared test data (goldens/gpt2-small, data/ort-genai/tiny-random-gpt2) not found");
        try
        {
            using ServeProcess serve = await ServeProcess.StartAsync(["--model", dir!]);
            using HttpClient client = serve.NewClient();
            using HttpResponseMessage response = await client.PostAsync("/generate",
                TestServer.Json(new { inputs = "Hello", parameters = new { max_new_tokens = 5, details = true } }));
            string text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, text);
            Assert.Equal(5, JsonDocument.Parse(text).RootElement.GetProperty("details").GetProperty("generated_tokens").GetInt32());
            JsonElement info = JsonDocument.Parse(await client.GetStringAsync("/info")).RootElement;
            Assert.Equal(Path.GetFileName(dir), info.GetProperty("model_id").GetString());

            // A stream open when SIGTERM arrives still ends with its last event (the host drains in-flight requests).
            using var request = new HttpRequestMessage(HttpMethod.Post, "/generate_stream")
            {
                Content = TestServer.Json(new { inputs = "Hello", parameters = new { max_new_tokens = 100 } }),
            };
            using HttpResponseMessage stream = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
            serve.Terminate();
            List<string> events = GenerationFixture.ParseEvents(await stream.Content.ReadAsStringAsync());
            Assert.Equal(100, events.Count);
            Assert.Equal(100, JsonDocument.Parse(events[^1]).RootElement.GetProperty("details").GetProperty("generated_tokens").GetInt32());
            Assert.Equal(0, await serve.WaitForExitAsync());
        }
        finally
        {
            Directory.Delete(dir!, recursive: true);
        }
    }
}
