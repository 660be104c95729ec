using System.Net;
using System.Text;
using System.Text.Json;

namespace Vivace.Server.Tests;

/// <summary>A real server with the default limits (8 MiB bodies, 1024 inputs per request) for the bad-input battery.</summary>
public sealed class DefaultLimitsServerFixture : IAsyncLifetime
{
    private TestServer? _server;

    public HttpClient Client => _server!.Client;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(new ServerOptions());

    public async Task DisposeAsync()
    {
        if (_server != null) await _server.DisposeAsync();
    }
}

/// <summary>
/// Hostile and malformed requests over real HTTP against every inference route: each must be answered with a 4xx
/// and a JSON error body (no stack trace), never a 5xx, and the server must stay healthy after each.
/// </summary>
public class BadInputBatteryTests(DefaultLimitsServerFixture server) : IClassFixture<DefaultLimitsServerFixture>
{
    private const string Model = "sentence-transformers/all-MiniLM-L6-v2";

    /// <summary>The inference routes, the name of their inputs field, and their dialect: a case written for one
    /// dialect's switches ("tei": top-level normalize, dimensions...; "hf": parameters and options) goes only to its
    /// routes (the other dialect ignores fields it does not know); "all" cases go everywhere.</summary>
    public static readonly (string Path, string Field, string Dialect)[] Routes =
    [
        ("/embed", "inputs", "tei"),
        ($"/models/{Model}", "inputs", "hf"),
        ($"/pipeline/feature-extraction/{Model}", "inputs", "hf"),
        ("/v1/embeddings", "input", "openai"), // 404 while this tree does not serve the OpenAI dialect; 4xx either way
    ];

    private static IEnumerable<(string Path, string Field)> RoutesFor(string scope) =>
        Routes.Where(r => scope == "all" || r.Dialect == scope).Select(r => (r.Path, r.Field));

    private HttpClient Client => server.Client;

    public static TheoryData<string, string, string> Bodies()
    {
        var data = new TheoryData<string, string, string>();
        // Malformed JSON.
        data.Add("all", "truncated object", """{"inputs": "a" """);
        data.Add("all", "unquoted key", """{inputs: "a"}""");
        data.Add("all", "trailing comma", """{"inputs": "a",}""");
        data.Add("all", "single quotes", """{"inputs": 'a'}""");
        data.Add("all", "not json", "hello world");
        data.Add("all", "empty body", "");
        data.Add("all", "whitespace body", " \n\t ");
        data.Add("all", "two documents", """{"inputs": "a"} {"inputs": "b"}""");
        data.Add("all", "comment", """{"inputs": "a" /* c */}""");
        data.Add("all", "NaN literal", """{"inputs": NaN}""");
        data.Add("all", "unterminated string", """{"inputs": "abc}""");
        data.Add("all", "bad escape", """{"inputs": "a\qb"}""");
        data.Add("all", "control char in string", "{\"inputs\": \"a\u0001b\"}");
        data.Add("all", "lone surrogate escape", """{"inputs": "a\ud800b"}""");
        // The body is not an object.
        data.Add("all", "null body", "null");
        data.Add("all", "array body", """["a", "b"]""");
        data.Add("all", "string body", "\"a\"");
        data.Add("all", "number body", "42");
        data.Add("all", "true body", "true");
        // Missing, null and empty inputs.
        data.Add("all", "empty object", "{}");
        data.Add("all", "null inputs", """{"inputs": null}""");
        data.Add("all", "null item", """{"inputs": [null]}""");
        data.Add("all", "null among strings", """{"inputs": ["a", null]}""");
        data.Add("all", "empty string", """{"inputs": ""}""");
        data.Add("all", "empty string among strings", """{"inputs": ["a", ""]}""");
        data.Add("all", "empty list", """{"inputs": []}""");
        data.Add("all", "list of empty lists", """{"inputs": [[]]}""");
        // Wrong types.
        data.Add("all", "boolean inputs", """{"inputs": true}""");
        data.Add("all", "number inputs", """{"inputs": 12}""");
        data.Add("all", "number among strings", """{"inputs": ["a", 1]}""");
        data.Add("all", "object among strings", """{"inputs": ["a", {"b": 1}]}""");
        data.Add("all", "list among strings", """{"inputs": ["a", ["b"]]}""");
        data.Add("all", "string among token lists", """{"inputs": [[101, 102], "a"]}""");
        data.Add("all", "float token id", """{"inputs": [101, 1.5, 102]}""");
        data.Add("all", "negative token id", """{"inputs": [101, -1, 102]}""");
        data.Add("all", "token id past the vocabulary", """{"inputs": [101, 30522, 102]}""");
        data.Add("tei", "string normalize", """{"inputs": "a", "normalize": "yes"}""");
        data.Add("tei", "number truncate", """{"inputs": "a", "truncate": 1}""");
        data.Add("tei", "number truncation_direction", """{"inputs": "a", "truncation_direction": 5}""");
        data.Add("tei", "unknown truncation_direction", """{"inputs": "a", "truncation_direction": "Up"}""");
        data.Add("tei", "number prompt_name", """{"inputs": "a", "prompt_name": 7}""");
        data.Add("tei", "unknown prompt_name", """{"inputs": "a", "prompt_name": "query"}""");
        data.Add("tei", "string dimensions", """{"inputs": "a", "dimensions": "ten"}""");
        data.Add("hf", "string parameters", """{"inputs": "a", "parameters": "p"}""");
        data.Add("hf", "list options", """{"inputs": "a", "options": []}""");
        data.Add("hf", "string wait_for_model", """{"inputs": "a", "options": {"wait_for_model": "yes"}}""");
        data.Add("all", "number source_sentence", """{"inputs": {"source_sentence": 1, "sentences": ["a"]}}""");
        data.Add("all", "string sentences", """{"inputs": {"source_sentence": "a", "sentences": "b"}}""");
        data.Add("all", "empty sentences", """{"inputs": {"source_sentence": "a", "sentences": []}}""");
        data.Add("hf", "token ids where texts belong", """{"inputs": [101, 7592, 102]}""");
        data.Add("hf", "string parameters.normalize", """{"inputs": "a", "parameters": {"normalize": "yes"}}""");
        data.Add("hf", "number parameters.truncate", """{"inputs": "a", "parameters": {"truncate": 1}}""");
        data.Add("hf", "unknown parameters.truncation_direction", """{"inputs": "a", "parameters": {"truncation_direction": "Up"}}""");
        data.Add("hf", "unknown parameters.prompt_name", """{"inputs": "a", "parameters": {"prompt_name": "query"}}""");
        data.Add("hf", "duplicate parameters.normalize", """{"inputs": "a", "parameters": {"normalize": true, "normalize": false}}""");
        data.Add("hf", "duplicate options", """{"inputs": "a", "options": {"use_cache": true}, "options": {"use_cache": false}}""");
        // Huge numbers.
        data.Add("all", "huge token id", """{"inputs": [101, 99999999999999999999999999, 102]}""");
        data.Add("all", "1e400 token id", """{"inputs": [1e400]}""");
        data.Add("all", "-1e308 token id", """{"inputs": [-1e308]}""");
        data.Add("tei", "huge dimensions", """{"inputs": "a", "dimensions": 99999999999}""");
        data.Add("tei", "1e400 dimensions", """{"inputs": "a", "dimensions": 1e400}""");
        data.Add("tei", "negative dimensions", """{"inputs": "a", "dimensions": -5}""");
        data.Add("tei", "zero dimensions", """{"inputs": "a", "dimensions": 0}""");
        data.Add("tei", "dimensions past the model", """{"inputs": "a", "dimensions": 385}""");
        data.Add("all", "1e400 source_sentence", """{"inputs": {"source_sentence": 1e400, "sentences": ["a"]}}""");
        // Duplicate keys: which one wins is up to the parser, so neither does.
        data.Add("all", "duplicate inputs", """{"inputs": 5, "inputs": "a"}""");
        data.Add("all", "duplicate inputs, both strings", """{"inputs": "a", "inputs": "b"}""");
        data.Add("tei", "duplicate normalize", """{"inputs": "a", "normalize": true, "normalize": false}""");
        data.Add("all", "duplicate source_sentence", """{"inputs": {"source_sentence": "a", "source_sentence": "b", "sentences": ["c"]}}""");
        return data;
    }

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task BadBodiesAreClientErrors(string scope, string name, string body)
    {
        foreach ((string path, string field) in RoutesFor(scope))
        {
            string text = field == "inputs" ? body : body.Replace("\"inputs\"", $"\"{field}\"");
            await AssertClientErrorAsync(path, Content(Encoding.UTF8.GetBytes(text)), name);
        }
    }

    [Fact]
    public async Task TooLong_TokenIdListsAndTextAreClientErrors()
    {
        string ids = "{\"inputs\": [" + string.Join(",", Enumerable.Repeat("1000", 100_000)) + "]}";
        string words = string.Join(' ', Enumerable.Repeat("word", 50_000));
        foreach ((string path, _) in RoutesFor("all"))
            await AssertClientErrorAsync(path, Content(Encoding.UTF8.GetBytes(ids)), "100k token ids in one list");
        // TEI does not truncate unless asked; HF does unless told not to.
        await AssertClientErrorAsync("/embed", Content(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { inputs = words }))),
            "50k words without truncate", HttpStatusCode.UnprocessableEntity);
        foreach ((string path, _) in RoutesFor("hf"))
            await AssertClientErrorAsync(path, Content(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { inputs = words, parameters = new { truncate = false } }))),
                "50k words with truncate false", HttpStatusCode.UnprocessableEntity);
    }

    [Fact]
    public async Task HundredThousandInputsAre413()
    {
        string strings = JsonSerializer.Serialize(new { inputs = Enumerable.Repeat("a", 100_000).ToArray() });
        string idLists = "{\"inputs\": [" + string.Join(",", Enumerable.Repeat("[101,102]", 100_000)) + "]}";
        foreach (string path in new[] { "/embed", $"/models/{Model}" })
        {
            await AssertClientErrorAsync(path, Content(Encoding.UTF8.GetBytes(strings)), "100k strings", HttpStatusCode.RequestEntityTooLarge);
            await AssertClientErrorAsync(path, Content(Encoding.UTF8.GetBytes(idLists)), "100k token id lists");
        }
        await AssertClientErrorAsync($"/models/{Model}",
            Content(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { inputs = new { source_sentence = "a", sentences = Enumerable.Repeat("b", 100_000) } }))),
            "100k sentences", HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task ThirtyMegabyteBodiesAre413()
    {
        byte[] big = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { inputs = new string('a', 30 << 20) }));
        foreach ((string path, _) in RoutesFor("all"))
        {
            HttpStatusCode? expected = path.StartsWith("/v1/", StringComparison.Ordinal) ? null : HttpStatusCode.RequestEntityTooLarge;
            // A well-behaved client with a large body asks first (curl does above 1 MB): the 413 comes before the body is sent.
            await AssertClientErrorAsync(new HttpRequestMessage(HttpMethod.Post, path) { Content = Content(big), Headers = { ExpectContinue = true } },
                "30 MB body, Content-Length, Expect: 100-continue", expected);
            // A client that just sends, with a length or chunked (no length: the limit is met while reading). The server
            // answers and closes while the body still arrives; HttpClient then reports the broken pipe instead of the
            // answer, so these go through a socket that reads while it writes, as curl does.
            foreach (bool chunked in new[] { false, true })
            {
                (int status, string text) = await RawPostAsync(path, big, chunked);
                await AssertClientErrorAsync(status, text, $"30 MB body, {(chunked ? "chunked" : "Content-Length")}, no Expect -> POST {path}", expected);
            }
        }
    }

    [Fact]
    public async Task DeepNestingIsAClientError()
    {
        const int depth = 100_000;
        var cases = new (string Name, string Body)[]
        {
            ("100k-deep arrays", new string('[', depth) + new string(']', depth)),
            ("100k-deep arrays, unclosed", new string('[', depth)),
            ("100k-deep arrays in inputs", "{\"inputs\":" + new string('[', depth) + new string(']', depth) + "}"),
            ("100k-deep arrays in inputs, unclosed", "{\"inputs\":" + new string('[', depth)),
            ("100k-deep objects in inputs", "{\"inputs\":" + string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth) + "}"),
            ("100k-deep objects in parameters", "{\"inputs\":\"a\",\"parameters\":" + string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth + 1)),
        };
        foreach ((string path, _) in RoutesFor("all"))
            foreach ((string name, string body) in cases)
                await AssertClientErrorAsync(path, Content(Encoding.UTF8.GetBytes(body)), name);
    }

    [Fact]
    public async Task InvalidUtf8IsAClientError()
    {
        byte[] Json(string before, byte[] bad, string after) => [.. Encoding.ASCII.GetBytes(before), .. bad, .. Encoding.ASCII.GetBytes(after)];
        var cases = new (string Scope, string Name, byte[] Body)[]
        {
            ("all", "invalid continuation in inputs", Json("{\"inputs\": \"a", [0xC3, 0x28], "b\"}")),
            ("all", "lone continuation byte in inputs", Json("{\"inputs\": \"a", [0x80], "b\"}")),
            ("all", "overlong slash in inputs", Json("{\"inputs\": \"a", [0xC0, 0xAF], "b\"}")),
            ("all", "surrogate half in inputs", Json("{\"inputs\": \"a", [0xED, 0xA0, 0x80], "b\"}")),
            ("all", "0xFF in inputs", Json("{\"inputs\": \"a", [0xFF], "b\"}")),
            ("all", "truncated sequence in inputs", Json("{\"inputs\": \"a", [0xE2, 0x82], "\"}")),
            ("all", "invalid UTF-8 in a list", Json("{\"inputs\": [\"ok\", \"a", [0xC3, 0x28], "\"]}")),
            ("tei", "invalid UTF-8 in prompt_name", Json("{\"inputs\": \"a\", \"prompt_name\": \"", [0xC3, 0x28], "\"}")),
            ("hf", "invalid UTF-8 in parameters.prompt_name", Json("{\"inputs\": \"a\", \"parameters\": {\"prompt_name\": \"", [0xC3, 0x28], "\"}}")),
            ("tei", "invalid UTF-8 in truncation_direction", Json("{\"inputs\": \"a\", \"truncation_direction\": \"", [0xFF], "\"}")),
            ("all", "invalid UTF-8 in source_sentence", Json("{\"inputs\": {\"source_sentence\": \"", [0xC3, 0x28], "\", \"sentences\": [\"b\"]}}")),
            ("all", "invalid UTF-8 in a key", Json("{\"in", [0xFF], "puts\": \"a\"}")),
            ("all", "raw bytes body", [0xFF, 0xFE, 0xFD, 0x00, 0x80, 0xC3, 0x28]),
            ("all", "UTF-16 body", Encoding.Unicode.GetBytes("{\"inputs\": \"a\"}")),
            ("all", "truncated sequence at the end", Json("{\"inputs\": \"a\"}", [0xE2, 0x82], "")),
        };
        foreach ((string scope, string name, byte[] body) in cases)
            foreach ((string path, string field) in RoutesFor(scope))
            {
                byte[] bytes = field == "inputs" ? body : Replace(body, "\"inputs\"", $"\"{field}\"");
                await AssertClientErrorAsync(path, Content(bytes), name);
            }
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("text/plain; charset=utf-8")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("multipart/form-data; boundary=x")]
    [InlineData("application/xml")]
    [InlineData("application/octet-stream")]
    [InlineData("image/png")]
    public async Task NonJsonContentTypesAreClientErrors(string contentType)
    {
        foreach ((string path, string field) in RoutesFor("all"))
        {
            var content = new ByteArrayContent(Encoding.UTF8.GetBytes($"{{\"{field}\": \"a\"}}"));
            content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            await AssertClientErrorAsync(path, content, $"content type {contentType}");
        }
    }

    [Fact]
    public async Task JsonContentTypesAreAccepted()
    {
        foreach (string contentType in new[] { "application/json", "application/json; charset=utf-8", "Application/JSON", "application/vnd.api+json" })
        {
            var content = new ByteArrayContent(Encoding.UTF8.GetBytes("""{"inputs": "a"}"""));
            content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            using HttpResponseMessage response = await Client.PostAsync("/embed", content);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{contentType}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    [Theory]
    [InlineData("/models/%FF%FE")]
    [InlineData("/models/..%2F..%2Fetc%2Fpasswd")]
    [InlineData("/models/org/unknown")]
    [InlineData("/pipeline/summarization/sentence-transformers/all-MiniLM-L6-v2")]
    public async Task BadModelPathsAreClientErrors(string path) =>
        await AssertClientErrorAsync(path, Content("""{"inputs": "a"}"""u8.ToArray()), path);

    [Fact]
    public async Task LongModelIdIsAClientError() =>
        await AssertClientErrorAsync("/models/" + new string('m', 2_000), Content("""{"inputs": "a"}"""u8.ToArray()), "2000-character model id", HttpStatusCode.NotFound);

    /// <summary>Requests Kestrel itself rejects before any middleware runs (a NUL in the path, a request line over
    /// its 8 KB limit): 4xx with Kestrel's empty body, which the server cannot shape; never 5xx.</summary>
    [Theory]
    [InlineData("/pipeline/%00/x")]
    [InlineData("/models/%00")]
    [InlineData(null)]
    public async Task ProtocolErrorsAre4xx(string? path)
    {
        path ??= "/models/" + new string('m', 10_000);
        using HttpResponseMessage response = await Client.PostAsync(path, Content("""{"inputs": "a"}"""u8.ToArray()));
        Assert.True((int)response.StatusCode is >= 400 and < 500, $"{path[..Math.Min(40, path.Length)]}: {(int)response.StatusCode}");
        using HttpResponseMessage health = await Client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task BadSwitchHeadersAreClientErrors()
    {
        foreach ((string header, string value) in new[] { ("x-wait-for-model", "maybe"), ("x-use-cache", "2") })
        {
            var request = new HttpRequestMessage(HttpMethod.Post, $"/models/{Model}") { Content = Content("""{"inputs": "a"}"""u8.ToArray()) };
            request.Headers.TryAddWithoutValidation(header, value);
            await AssertClientErrorAsync(request, $"{header}: {value}");
        }
    }

    private static ByteArrayContent Content(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new("application/json");
        return content;
    }

    private Task AssertClientErrorAsync(string path, HttpContent content, string name, HttpStatusCode? expected = null) =>
        AssertClientErrorAsync(new HttpRequestMessage(HttpMethod.Post, path) { Content = content }, name, expected);

    /// <summary>4xx (the given one, if any), a JSON body with an error message and no stack trace, and the server
    /// still healthy afterwards.</summary>
    private async Task AssertClientErrorAsync(HttpRequestMessage request, string name, HttpStatusCode? expected = null)
    {
        string where = $"{name} -> {request.Method} {request.RequestUri}";
        int status;
        string text;
        using (request)
        {
            try
            {
                using HttpResponseMessage response = await Client.SendAsync(request);
                status = (int)response.StatusCode;
                text = await response.Content.ReadAsStringAsync();
            }
            catch (HttpRequestException e)
            {
                throw new Xunit.Sdk.XunitException($"{where}: {e.Message} {e.InnerException?.Message}");
            }
        }
        await AssertClientErrorAsync(status, text, where, expected);
    }

    private async Task AssertClientErrorAsync(int status, string text, string where, HttpStatusCode? expected)
    {
        Assert.True(status is >= 400 and < 500, $"{where}: {status} {Cut(text)}");
        if (expected is { } e) Assert.True(status == (int)e, $"{where}: {status}, expected {(int)e}: {Cut(text)}");
        Assert.DoesNotContain("   at ", text);
        Assert.DoesNotContain("Exception", text);
        JsonElement body;
        try { body = JsonDocument.Parse(text).RootElement; }
        catch (JsonException) { throw new Xunit.Sdk.XunitException($"{where}: {status} with a body that is not JSON: {Cut(text)}"); }
        JsonElement error = default;
        Assert.True(body.ValueKind == JsonValueKind.Object && body.TryGetProperty("error", out error), $"{where}: no error field: {Cut(text)}");
        string? message = error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out JsonElement m) ? m.GetString() // OpenAI
            : error.ValueKind == JsonValueKind.String ? error.GetString() : null;
        Assert.False(string.IsNullOrWhiteSpace(message), $"{where}: empty error: {Cut(text)}");

        using HttpResponseMessage health = await Client.GetAsync("/health");
        Assert.True(health.StatusCode == HttpStatusCode.OK, $"after {where}: /health answered {(int)health.StatusCode}");
    }

    /// <summary>POST over a plain socket that sends the body while it reads the answer (as curl does), so an answer
    /// the server gives before the body is all sent is seen. Returns the status and the (de-chunked) body.</summary>
    private async Task<(int Status, string Body)> RawPostAsync(string path, byte[] body, bool chunked)
    {
        Uri uri = Client.BaseAddress!;
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(uri.Host, uri.Port);
        using System.Net.Sockets.NetworkStream stream = tcp.GetStream();
        string head = $"POST {path} HTTP/1.1\r\nHost: {uri.Authority}\r\nContent-Type: application/json\r\n" +
                      (chunked ? "Transfer-Encoding: chunked\r\n" : $"Content-Length: {body.Length}\r\n") + "\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        Task send = Task.Run(async () =>
        {
            try
            {
                for (int at = 0; at < body.Length; at += 64 * 1024)
                {
                    int n = Math.Min(64 * 1024, body.Length - at);
                    if (chunked) await stream.WriteAsync(Encoding.ASCII.GetBytes($"{n:X}\r\n"));
                    await stream.WriteAsync(body.AsMemory(at, n));
                    if (chunked) await stream.WriteAsync("\r\n"u8.ToArray());
                }
                if (chunked) await stream.WriteAsync("0\r\n\r\n"u8.ToArray());
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException) { } // answered and closed (by either side): expected
        });
        var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        while (true)
        {
            int n;
            try { n = await stream.ReadAsync(buffer, timeout.Token); }
            catch (IOException) { break; } // reset after the answer
            if (n == 0) break;
            received.Write(buffer, 0, n);
            if (ParseResponse(received.ToArray()) is { } done) { tcp.Close(); await send; return done; }
        }
        tcp.Close();
        await send;
        return ParseResponse(received.ToArray(), complete: true) ?? throw new Xunit.Sdk.XunitException($"POST {path}: no HTTP answer ({received.Length} bytes)");
    }

    /// <summary>The status and body once a whole HTTP/1.1 response is in <paramref name="data"/> (Content-Length or chunked).</summary>
    private static (int, string)? ParseResponse(byte[] data, bool complete = false)
    {
        string text = Encoding.Latin1.GetString(data);
        int end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (end < 0) return null;
        string[] lines = text[..end].Split("\r\n");
        int status = int.Parse(lines[0].Split(' ')[1]);
        if (status == 100) return ParseResponse(data[(end + 4)..], complete); // interim answer
        string? Header(string name) => lines.Skip(1).Select(l => l.Split(':', 2)).Where(p => p.Length == 2 && p[0].Trim().Equals(name, StringComparison.OrdinalIgnoreCase)).Select(p => p[1].Trim()).FirstOrDefault();
        string rest = text[(end + 4)..];
        if (Header("Content-Length") is { } length)
        {
            int n = int.Parse(length);
            return rest.Length >= n ? (status, Encoding.UTF8.GetString(data, end + 4, n)) : null;
        }
        if (Header("Transfer-Encoding")?.Contains("chunked", StringComparison.OrdinalIgnoreCase) == true)
        {
            var body = new StringBuilder();
            int at = 0;
            while (true)
            {
                int lineEnd = rest.IndexOf("\r\n", at, StringComparison.Ordinal);
                if (lineEnd < 0) return null;
                int size = Convert.ToInt32(rest[at..lineEnd].Split(';')[0], 16);
                if (size == 0) return (status, Encoding.UTF8.GetString(Encoding.Latin1.GetBytes(body.ToString())));
                if (rest.Length < lineEnd + 2 + size + 2) return null;
                body.Append(rest, lineEnd + 2, size);
                at = lineEnd + 2 + size + 2;
            }
        }
        return complete ? (status, Encoding.UTF8.GetString(Encoding.Latin1.GetBytes(rest))) : null;
    }

    private static string Cut(string text) => text.Length > 300 ? text[..300] + "..." : text;

    private static byte[] Replace(byte[] body, string from, string to)
    {
        string latin = Encoding.Latin1.GetString(body);
        return Encoding.Latin1.GetBytes(latin.Replace(from, to));
    }
}
