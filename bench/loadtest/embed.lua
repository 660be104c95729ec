-- wrk script: POST {"inputs": "<sentence>"} to the URL (TEI /embed), cycling through the sentences of a file,
-- one per line (default bench/loadtest/sentences.txt, from the repository root; the serve benchmark passes its
-- path). Counts non-2xx answers and ends with one machine-readable line for the serve benchmark to parse:
--   wrk -t2 -c32 -d30s --latency -s bench/loadtest/embed.lua http://127.0.0.1:8080/embed [-- SENTENCES_FILE]

local threads = {}

function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

local function json_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    if c == '"' then return '\\"' end
    if c == '\\' then return '\\\\' end
    return string.format("\\u%04x", c:byte())
  end) .. '"'
end

function init(args)
  local path = args[1] or "bench/loadtest/sentences.txt"
  local file = assert(io.open(path, "r"))
  requests = {}
  local headers = { ["Content-Type"] = "application/json" }
  for line in file:lines() do
    if #line > 0 then
      table.insert(requests, wrk.format("POST", nil, headers, '{"inputs": ' .. json_string(line) .. '}'))
    end
  end
  file:close()
  assert(#requests > 0, path .. " holds no sentences")
  -- Threads start at different sentences so that they do not send the same one at the same moment.
  next_request = (thread_id * 17) % #requests
  non2xx = 0
  first_error = ""
end

function request()
  next_request = next_request % #requests + 1
  return requests[next_request]
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if first_error == "" then first_error = status .. " " .. string.sub(body or "", 1, 200) end
  end
end

function done(summary, latency, requests)
  local non2xx, first_error = 0, ""
  for _, t in ipairs(threads) do
    non2xx = non2xx + t:get("non2xx")
    if first_error == "" then first_error = t:get("first_error") end
  end
  local e = summary.errors
  io.write(string.format(
    "loadtest: requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d non2xx=%d connect_errors=%d read_errors=%d write_errors=%d timeouts=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    non2xx, e.connect, e.read, e.write, e.timeout))
  if first_error ~= "" then io.write("loadtest: first non-2xx: " .. first_error:gsub("\n", " ") .. "\n") end
end
