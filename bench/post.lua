-- wrk script for bench/outbound_api.py: POST a rotating set of JSON requests.
--
-- The request list comes from the file named by PARLEY_BENCH_REQUESTS, written by the Python
-- driver: the first line is the bearer token, then one request per line as
-- "<path>\t<json body>". Every request is formatted once in init(), so the hot request()
-- callback only picks the next pre-built string (wrk then spends its time on I/O, not Lua).
-- done() prints one machine-readable line for the driver; wrk's own --latency text stays as is.

local requests = {}
local count = 0
local next_index = 0

function init(args)
   local file_name = os.getenv("PARLEY_BENCH_REQUESTS")
   if file_name == nil then
      error("PARLEY_BENCH_REQUESTS is not set: run this through bench/outbound_api.py")
   end
   local file = assert(io.open(file_name, "r"))
   local token = file:read("*l")
   local headers = {
      ["Content-Type"] = "application/json",
      ["Authorization"] = "Bearer " .. token,
   }
   for line in file:lines() do
      local tab = line:find("\t", 1, true)
      if tab then
         count = count + 1
         requests[count] = wrk.format("POST", line:sub(1, tab - 1), headers, line:sub(tab + 1))
      end
   end
   file:close()
   if count == 0 then
      error("no requests in " .. file_name)
   end
   -- Threads start at different places in the list, so -t2 does not send the same sequence twice.
   next_index = (wrk.thread and tonumber(wrk.thread:get("offset")) or 0) % count
end

function setup(thread)
   thread_counter = (thread_counter or 0) + 1
   thread:set("offset", tostring((thread_counter - 1) * 7919))
end

function request()
   next_index = next_index % count + 1
   return requests[next_index]
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "PARLEY_BENCH_JSON {\"requests\":%d,\"duration_us\":%d,\"bytes\":%d," ..
      "\"non2xx3xx\":%d,\"connect\":%d,\"read\":%d,\"write\":%d,\"timeout\":%d," ..
      "\"p50_us\":%d,\"p90_us\":%d,\"p99_us\":%d,\"max_us\":%d,\"mean_us\":%.1f}\n",
      summary.requests, summary.duration, summary.bytes,
      e.status, e.connect, e.read, e.write, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.max, latency.mean))
end
